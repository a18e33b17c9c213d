// The simulated GPS: the walking map around a point (from /emulator/api/map, the server's own
// OSM data) drawn on a canvas. A click is a fix where the wearer stands; in walk mode a click
// is a destination, and the wearer walks the route there at walking speed, one fix a second.

const API = new URL("./api/", import.meta.url);
const METRES_PER_DEG_LAT = 111132;
// Places named on the map (the rest are dots with a tooltip); labels never overlap.
const LABELLED = new RegExp("^(railway station|tourism (museum|attraction|gallery)" +
  "|amenity (theatre|library|university|place_of_worship)|historic )");

export class GpsPanel {
  /** `send(lat, lon, accuracy)` sends a fix; `status(text)` shows a line under the map. */
  constructor(canvas, { send, status }) {
    this.canvas = canvas;
    this.send = send;
    this.status = status;
    this.data = null;
    this.fix = null;          // [lat, lon, accuracy]
    this.route = null;        // {geometry, along_m, speed_mps}
    this.walked = 0;          // metres along the route
    this.walkTimer = null;
    this.mode = "fix";        // "fix" | "walk"
    this.accuracy = 5;
    canvas.addEventListener("click", (e) => this.#onClick(e));
    canvas.addEventListener("mousemove", (e) => this.#onHover(e));
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  /** Load the map around a point (the map's middle when none). */
  async load(center = null, radius = 600) {
    const url = new URL("map", API);
    if (center) {
      url.searchParams.set("lat", center[0]);
      url.searchParams.set("lon", center[1]);
    }
    url.searchParams.set("radius_m", radius);
    const reply = await fetch(url);
    const body = await reply.json().catch(() => ({ error: `HTTP ${reply.status}` }));
    if (!reply.ok) throw new Error(body.error || `HTTP ${reply.status}`);
    this.data = body;
    this.draw();
    this.status(`${body.map}: ${body.ways.length} ways, ${body.places.length} places · ${body.attribution}`);
    return body;
  }

  setMode(mode) {
    this.mode = mode;
    this.status(mode === "walk" ? "walk mode: click where to walk to" : "click to set the position");
  }

  get walking() {
    return this.walkTimer !== null;
  }

  stopWalking() {
    clearInterval(this.walkTimer);
    this.walkTimer = null;
  }

  // --- projection: metres on a plane around the map's centre, fitted to the canvas ----------

  #frame() {
    const { width, height } = this.canvas;
    const [south, west, north, east] = this.data.box;
    const latC = (south + north) / 2, lonC = (west + east) / 2;
    const kx = METRES_PER_DEG_LAT * Math.cos((latC * Math.PI) / 180), ky = METRES_PER_DEG_LAT;
    const scale = Math.min(width / ((east - west) * kx), height / ((north - south) * ky));
    return {
      toPixel: (lat, lon) => [width / 2 + (lon - lonC) * kx * scale, height / 2 - (lat - latC) * ky * scale],
      toLatLon: (x, y) => [latC - (y - height / 2) / (ky * scale), lonC + (x - width / 2) / (kx * scale)],
      scale,   // pixels per metre
    };
  }

  #canvasPoint(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [(event.clientX - rect.left) * (this.canvas.width / rect.width),
      (event.clientY - rect.top) * (this.canvas.height / rect.height)];
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.round(canvas.clientWidth * ratio), height = Math.round(canvas.clientHeight * ratio);
    if (width && height && (canvas.width !== width || canvas.height !== height)) {
      canvas.width = width;
      canvas.height = height;
    }
    const g = canvas.getContext("2d");
    g.fillStyle = "#f6f5f0";
    g.fillRect(0, 0, canvas.width, canvas.height);
    if (!this.data) return;
    const { toPixel, scale } = this.#frame();
    const steps = new Set(this.data.steps);
    g.lineCap = "round";
    g.lineJoin = "round";
    this.data.ways.forEach((flat, i) => {
      g.strokeStyle = steps.has(i) ? "#8a8a8a" : "#c4c4c4";
      g.lineWidth = Math.max(1, 2.5 * ratio * Math.min(1, scale * 2));
      g.beginPath();
      for (let k = 0; k < flat.length; k += 2) {
        const [x, y] = toPixel(flat[k], flat[k + 1]);
        if (k === 0) g.moveTo(x, y); else g.lineTo(x, y);
      }
      g.stroke();
    });
    g.font = `${11 * ratio}px system-ui, sans-serif`;
    const labels = [];
    for (const place of this.data.places) {
      const [x, y] = toPixel(place.lat, place.lon);
      g.fillStyle = "#b0662f";
      g.fillRect(x - 1.5 * ratio, y - 1.5 * ratio, 3 * ratio, 3 * ratio);
      if (!LABELLED.test(place.category)) continue;
      const box = [x + 4 * ratio, y - 14 * ratio, g.measureText(place.name).width, 14 * ratio];
      const overlaps = labels.some(([bx, by, bw, bh]) =>
        box[0] < bx + bw && bx < box[0] + box[2] && box[1] < by + bh && by < box[1] + box[3]);
      if (overlaps) continue;
      labels.push(box);
      g.fillStyle = "#5b3a1c";
      g.fillText(place.name, x + 4 * ratio, y - 3 * ratio);
    }
    if (this.route) {
      g.strokeStyle = "#1e5adc";
      g.lineWidth = 4 * ratio;
      g.beginPath();
      this.route.geometry.forEach(([lat, lon], k) => {
        const [x, y] = toPixel(lat, lon);
        if (k === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    }
    if (this.fix) {
      const [lat, lon, accuracy] = this.fix;
      const [x, y] = toPixel(lat, lon);
      g.fillStyle = "rgba(30, 90, 220, 0.15)";
      g.beginPath();
      g.arc(x, y, Math.max(accuracy * scale, 4 * ratio), 0, 2 * Math.PI);
      g.fill();
      g.fillStyle = "#1e5adc";
      g.strokeStyle = "#fff";
      g.lineWidth = 2 * ratio;
      g.beginPath();
      g.arc(x, y, 5 * ratio, 0, 2 * Math.PI);
      g.fill();
      g.stroke();
    }
  }

  // --- input ---------------------------------------------------------------------------------

  #onClick(event) {
    if (!this.data) return;
    const [lat, lon] = this.#frame().toLatLon(...this.#canvasPoint(event));
    if (this.mode === "walk") return this.#walkTo(lat, lon);
    this.stopWalking();
    this.route = null;
    this.#fixAt(lat, lon);
  }

  #fixAt(lat, lon) {
    this.fix = [lat, lon, this.accuracy];
    this.draw();
    this.send(lat, lon, this.accuracy);
  }

  async #walkTo(lat, lon) {
    if (!this.fix) return this.status("set a position first (click in position mode)");
    this.stopWalking();
    const url = new URL("route", API);
    url.searchParams.set("from", `${this.fix[0]},${this.fix[1]}`);
    url.searchParams.set("to", `${lat},${lon}`);
    const reply = await fetch(url);
    const body = await reply.json().catch(() => ({ error: `HTTP ${reply.status}` }));
    if (!reply.ok) return this.status(`no route: ${body.error}`);
    this.route = body;
    this.walked = 0;
    this.status(`walking ${Math.round(body.distance_m)} m, about ${Math.round(body.duration_s / 60)} min`);
    this.walkTimer = setInterval(() => this.#stepAlong(), 1000);
    this.#stepAlong();
  }

  /** One second of walking: the next fix along the route (the last one at its end). */
  #stepAlong() {
    const { geometry, along_m: along, speed_mps: speed, distance_m: total } = this.route;
    const here = Math.min(this.walked, total);
    let i = 0;
    while (i < along.length - 2 && along[i + 1] < here) i++;
    const span = along[i + 1] - along[i];
    const f = span > 0 ? (here - along[i]) / span : 0;
    const [a, b] = [geometry[i], geometry[Math.min(i + 1, geometry.length - 1)]];
    this.#fixAt(a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]));
    if (here >= total) {
      this.stopWalking();
      this.status("arrived");
      return;
    }
    this.walked += speed;
  }

  #onHover(event) {
    if (!this.data) return;
    const { toPixel } = this.#frame();
    const [x, y] = this.#canvasPoint(event);
    let best = null, bestDistance = 10 * (window.devicePixelRatio || 1);
    for (const place of this.data.places) {
      const [px, py] = toPixel(place.lat, place.lon);
      const distance = Math.hypot(px - x, py - y);
      if (distance < bestDistance) [best, bestDistance] = [place, distance];
    }
    this.canvas.title = best ? `${best.name} (${best.category})` : "";
  }
}
