// The emulator page: the glasses' point of view over `oculi/1`. The camera (webcam or a photo)
// and the gaze go out as the glasses would send them, with push-to-talk audio, typed text and
// GPS fixes; cards come back to the HUD, speech to the ear, everything to the timeline.
//
// `window.oculiEmulator` holds what the page received (welcome, cards, speech, events), for the
// browser console and for the browser test.

import { Device, forgetDeviceKey, loadDeviceKey } from "./device.js";
import { GpsPanel } from "./gps.js";
import { Camera, Microphone } from "./media.js";

const $ = (id) => document.getElementById(id);
const PROFILE_KEY = "oculi-emulator-profile";
const PAIRED_KEY = "oculi-emulator-paired";   // a hint only: the server decides (unknown_device)
const WEBCAM_FRAME_MS = 500;                  // 2 frames a second while the webcam is on
const TIMELINE_MAX = 400;
const KEPT_EVENTS = 200;
const PAIRING_REFUSALS = ["bad_pairing_code", "pairing_closed", "device_mismatch", "unknown_device"];

const view = {
  welcome: null, state: "offline", received: [], cards: [], speech: [], refused: [], stats: null,
  sent: {},   // inputs sent, by kind
};
window.oculiEmulator = view;

// --- the timeline ------------------------------------------------------------------------------

const timeline = $("timeline");
const ARROWS = { out: "→", in: "←", sys: "·" };

function clock() {
  const now = new Date();
  return `${now.toTimeString().slice(0, 8)}.${String(now.getMilliseconds()).padStart(3, "0")}`;
}

/**
 * One line: direction, kind, summary. `merge(count)` makes a run of the same kind one line
 * (audio chunks, webcam frames) whose summary says how many.
 */
function log(dir, kind, summary, { merge = null, image = null } = {}) {
  const last = timeline.lastElementChild;
  if (merge && last && last.dataset.dir === dir && last.dataset.kind === kind && last.dataset.merge) {
    const count = Number(last.dataset.count) + 1;
    last.dataset.count = String(count);
    last.querySelector("time").textContent = clock();
    last.querySelector(".summary").textContent = merge(count);
    return;
  }
  const item = document.createElement("li");
  item.dataset.dir = dir;
  item.dataset.kind = kind;
  if (merge) Object.assign(item.dataset, { merge: "1", count: "1" });
  const cells = [["time", clock()], ["span", ARROWS[dir]], ["span", kind], ["span", merge ? merge(1) : summary]];
  for (const [tag, text] of cells) {
    const cell = document.createElement(tag);
    cell.textContent = text;
    item.append(cell);
  }
  const [, arrow, kindCell, summaryCell] = item.children;
  arrow.className = "dir";
  kindCell.className = "kind";
  summaryCell.className = "summary";
  if (image) {
    const thumb = document.createElement("img");
    thumb.src = image.url;
    thumb.alt = "card";
    thumb.title = "show on the HUD again";
    thumb.addEventListener("click", () => showCard(image.meta, image.url));
    summaryCell.append(thumb);
  }
  const atBottom = timeline.scrollTop + timeline.clientHeight >= timeline.scrollHeight - 24;
  timeline.append(item);
  while (timeline.children.length > TIMELINE_MAX) timeline.firstElementChild.remove();
  if (atBottom) timeline.scrollTop = timeline.scrollHeight;
}

const two = (n) => Number(n).toFixed(2);

/** A few words on an event, for its timeline line. */
function summarise(event) {
  switch (event.kind) {
    case "utterance":
      if (!event.text && event.wake) return "(the wake phrase: listening…)";
      return `"${event.text}"`;
    case "text_input":
      return `"${event.text}"`;
    case "barcode_seen":
      return `${event.gtin} (${event.symbology}) at ${two(event.x)}, ${two(event.y)}`;
    case "qr_seen":
      return String(event.payload).slice(0, 80);
    case "intent": {
      const args = Object.entries(event.args || {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
      return `${event.app}.${event.action} (${event.path}) ${args}`.trim();
    }
    case "answer":
      return event.speech;
    case "card_shown":
      return `${event.card?.title ?? ""} · ${event.width}×${event.height} · ${event.seconds} s`;
    case "speech_out":
      return `"${event.text}" · ${two(event.duration_s)} s`;
    case "error":
      return `${event.stage}: ${event.message}`;
    case "gaze":
      return `${two(event.x)}, ${two(event.y)}`;
    case "gps_fix":
      return `${event.lat.toFixed(6)}, ${event.lon.toFixed(6)} ±${event.accuracy_m} m`;
    case "touch":
      return event.gesture;
    case "recording_state":
      return `camera ${event.camera ? "on" : "off"}, microphone ${event.microphone ? "on" : "off"}` +
        (event.recipient ? ` → ${event.recipient}` : "") + (event.reason ? ` (${event.reason})` : "");
    default: {
      const { v, kind, t, ...rest } = event;
      return JSON.stringify(rest).slice(0, 160);
    }
  }
}

// --- the HUD and the ear ------------------------------------------------------------------------

const hud = $("hud");
const hudCard = $("hud-card");
let hudTimer = null;

/** The card PNG as the lens shows it, at its own resolution, for as long as the card says. */
function showCard(meta, url) {
  hudCard.src = url;
  hudCard.width = meta.width;
  hudCard.height = meta.height;
  hud.style.aspectRatio = `${meta.width} / ${meta.height}`;
  hud.dataset.shown = "true";
  hud.dataset.title = meta.card?.title ?? "";
  $("hud-info").textContent = `${meta.width}×${meta.height} · ${meta.card?.title ?? ""}`;
  clearTimeout(hudTimer);
  hudTimer = setTimeout(() => { hud.dataset.shown = "false"; }, (meta.seconds || 8) * 1000);
}

function setHudFor(profile) {
  document.body.dataset.profile = profile;
  const display = profile !== "g1";
  $("hud-none").hidden = display;
  hudCard.hidden = !display;
  if (!display) {
    hud.dataset.shown = "false";
    hud.style.aspectRatio = "";
  }
  $("hud-info").textContent = display ? "lens display" : "g1: audio only, no display";
}

const player = $("speech");
const speechQueue = [];
let speaking = false;

function queueSpeech(meta, wav) {
  const url = URL.createObjectURL(new Blob([wav], { type: "audio/wav" }));
  const record = { text: meta.text, duration_s: meta.duration_s, bytes: wav.byteLength,
    riff: new TextDecoder().decode(new Uint8Array(wav, 0, 4)), played: false };
  view.speech.push(record);
  speechQueue.push({ url, record });
  if (!speaking) playNext();
}

/** Replies play one after another, as in the ear. */
function playNext() {
  const next = speechQueue.shift();
  speaking = Boolean(next);
  if (!next) return;
  player.src = next.url;
  $("speech-info").textContent = `"${next.record.text}"`;
  player.play().then(() => { next.record.played = true; }).catch(() => {
    $("speech-info").textContent = "the browser held back autoplay: press play";
    speaking = false;
  });
}
player.addEventListener("ended", playNext);

// --- the connection ---------------------------------------------------------------------------

let device = null;

function wantedProfile() {
  return sessionStorage.getItem(PROFILE_KEY) || "s1";
}

function showPairing(show, message = "") {
  $("pairing").hidden = !show;
  if (message) $("pair-status").textContent = message;
}

function wire(dev) {
  dev.addEventListener("state", ({ detail: { state, reason } }) => {
    view.state = state;
    document.body.dataset.state = state;
    const badge = $("connection");
    const welcome = state === "online" ? dev.welcome : null;
    badge.textContent = welcome ? `${state} · ${welcome.profile} · ${welcome.session.slice(0, 8)}` : state;
    badge.title = reason;
    if (state !== "online") log("sys", "connection", `${state}${reason ? ": " + reason : ""}`);
    if (state === "unpaired") {
      localStorage.removeItem(PAIRED_KEY);
      showPairing(true, reason);
    }
  });
  dev.addEventListener("welcome", ({ detail: { welcome } }) => {
    view.welcome = welcome;
    localStorage.setItem(PAIRED_KEY, dev.key.device);
    showPairing(false);
    setHudFor(welcome.profile);
    const how = welcome.resumed ? `resumed after seq ${welcome.last_seq}` : "new session";
    log("sys", "welcome", `session ${welcome.session.slice(0, 8)} · ${welcome.profile} · ${how}`);
    if (welcome.profile !== wantedProfile()) {
      log("sys", "profile", `asked for ${wantedProfile()}; the server runs the session as ${welcome.profile}`);
    }
  });
  dev.addEventListener("received", ({ detail: { event, frame } }) => {
    let image = null;
    if (event.kind === "card_shown" && frame) {
      const url = URL.createObjectURL(new Blob([frame], { type: "image/png" }));
      view.cards.push({ ...event, bytes: frame.byteLength });
      image = { url, meta: event };
      showCard(event, url);
    } else if (event.kind === "speech_out" && frame) {
      queueSpeech(event, frame);
    }
    if (event.kind === "recording_state") showRecording(event.camera || event.microphone);
    view.received.push(event);
    if (view.received.length > KEPT_EVENTS) view.received.shift();
    log("in", event.kind, summarise(event), { image });
  });
  dev.addEventListener("privacy", ({ detail: { body } }) => {
    showRecording(body.recording);
    if (body.type !== "privacy") return;   // the state in welcome: no line of its own
    const parts = [body.camera && "camera", body.microphone && "microphone"].filter(Boolean);
    const what = body.recording ? `recording ${parts.join(" + ")}` : "not recording";
    log("in", "privacy", body.reason ? `${what} (${body.reason})` : what);
  });
  dev.addEventListener("sent", ({ detail: { event } }) => logSent(event));
  dev.addEventListener("refused", ({ detail: { error } }) => {
    view.refused.push(error);
    log("in", "error", `${error.code}: ${error.message}${error.fatal ? " (fatal)" : ""}`);
    if (PAIRING_REFUSALS.includes(error.code)) showPairing(true, error.message);
  });
  dev.addEventListener("note", ({ detail: { text } }) => log("sys", "note", text));
  dev.addEventListener("stats", ({ detail: { body } }) => {
    const { type, ...counters } = body;
    view.stats = counters;
    log("in", "stats", Object.entries(counters).map(([k, v]) => `${k}=${v}`).join(" "));
  });
}

/** An input on the timeline; streams (audio, webcam frames, a walk's fixes) as one line each. */
function logSent(event) {
  view.sent[event.kind] = (view.sent[event.kind] || 0) + 1;
  let merge = null;
  let summary = summarise(event);
  if (event.kind === "audio_chunk") {
    const end = event.last ? " (end)" : "";
    merge = (n) => `×${n} · ${two(n * 0.02)} s of 16 kHz audio${end}`;
  } else if (event.kind === "video_frame") {
    summary = `JPEG ${Math.round(event.bytes / 1024)} KB (${event.source || "camera"})`;
    if (camera.source === "webcam") merge = (n) => `×${n} · ${summary}`;
  } else if (event.kind === "gps_fix" && gps.walking) {
    merge = (n) => `walking: ×${n} · ${summary}`;
  }
  log("out", event.kind, summary, { merge });
}

/** The recording light: `privacy` messages (and `welcome.privacy`) set it, and so does the
 *  session's `recording_state` event, which the device's indicator follows as well. */
function showRecording(on) {
  $("recording").dataset.on = String(Boolean(on));
}

/** Run a device call that needs the connection; say so on the timeline when it is down. */
function whenOnline(act) {
  if (!device?.online) {
    log("sys", "offline", "not connected: nothing sent");
    return false;
  }
  try {
    act(device);
    return true;
  } catch (err) {
    log("sys", "error", err.message);
    return false;
  }
}

function reconnectAsNew() {
  device.bye();
  device.connect({ profile: wantedProfile(), resume: false });
}

// --- the camera and the gaze ------------------------------------------------------------------

const camera = new Camera($("camera"), $("still"));
const lens = $("lens");
let webcamTimer = null;
let framing = false;

function fitLens() {
  const [width, height] = camera.size;
  if (width && height) lens.style.aspectRatio = `${width} / ${height}`;
  if (camera.source) lens.dataset.source = camera.source;
  else delete lens.dataset.source;
  $("camera-info").textContent = camera.source ? `${camera.name} · ${width}×${height}` : "";
}

/** What the camera sees now, as one JPEG frame (skipped while the last is still encoding). */
async function sendFrame() {
  if (!camera.source || framing || !device?.online) return;
  framing = true;
  try {
    const frame = await camera.frame(device.limits.max_binary_bytes - 1024);
    if (frame) whenOnline((d) => d.sendJpeg(frame.jpeg, { source: "front-camera" }));
  } catch (err) {
    log("sys", "error", `camera: ${err.message}`);
  } finally {
    framing = false;
  }
}

lens.addEventListener("click", (event) => {
  if (!camera.source) return;
  const rect = lens.getBoundingClientRect();
  const clamp = (v) => Math.min(1, Math.max(0, v));
  const x = Number(clamp((event.clientX - rect.left) / rect.width).toFixed(4));
  const y = Number(clamp((event.clientY - rect.top) / rect.height).toFixed(4));
  const marker = $("gaze");
  marker.style.left = `${x * 100}%`;
  marker.style.top = `${y * 100}%`;
  marker.hidden = false;
  $("gaze-info").textContent = `gaze ${two(x)}, ${two(y)}`;
  // A still is sent again after the gaze moves, so that it is read around the new point;
  // the webcam's next frame does that by itself.
  if (whenOnline((d) => d.sendEvent("gaze", { x, y })) && camera.source === "image") sendFrame();
});

$("photo").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  stopWebcam();
  try {
    await camera.showImage(file);
  } catch (err) {
    return log("sys", "error", `cannot show ${file.name}: ${err.message}`);
  }
  $("gaze").hidden = true;
  fitLens();
  sendFrame();
  event.target.value = "";
});

function stopWebcam() {
  clearInterval(webcamTimer);
  webcamTimer = null;
  camera.stopWebcam();
  $("webcam").textContent = "webcam on";
  fitLens();
}

$("webcam").addEventListener("click", async () => {
  if (webcamTimer) return stopWebcam();
  try {
    await camera.startWebcam();
  } catch (err) {
    return log("sys", "error", `webcam: ${err.message}`);
  }
  $("webcam").textContent = "webcam off";
  fitLens();
  webcamTimer = setInterval(sendFrame, WEBCAM_FRAME_MS);
});

$("capture").addEventListener("click", sendFrame);

// --- push-to-talk and text --------------------------------------------------------------------

const talk = $("talk");
let talking = false;
const microphone = new Microphone((pcm, last, level) => {
  $("level").style.width = `${Math.min(100, Math.round(level * 400))}%`;
  if (device?.online) whenOnline((d) => d.sendAudio(pcm, last));
});

/** A long press on the temple arms push-to-talk; the audio streams until release. */
async function startTalking() {
  if (talking || !whenOnline((d) => d.sendEvent("touch", { gesture: "long_press" }))) return;
  talking = true;
  talk.dataset.live = "true";
  try {
    await microphone.start();
    log("sys", "microphone", `listening at ${microphone.rate} Hz, sent as 16 kHz mono PCM16`);
  } catch (err) {
    log("sys", "error", `microphone: ${err.message}`);
    talking = false;
    talk.dataset.live = "false";
    return;
  }
  if (!talking) microphone.stop();   // released while the microphone was opening
}

function stopTalking() {
  if (!talking) return;
  talking = false;
  talk.dataset.live = "false";
  $("level").style.width = "0";
  microphone.stop();
}

talk.addEventListener("pointerdown", (event) => {
  talk.setPointerCapture(event.pointerId);
  startTalking();
});
for (const name of ["pointerup", "pointercancel", "lostpointercapture"]) talk.addEventListener(name, stopTalking);

const typing = (target) => target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement;
document.addEventListener("keydown", (event) => {
  if (event.code !== "Space" || typing(event.target)) return;
  event.preventDefault();
  if (!event.repeat) startTalking();
});
document.addEventListener("keyup", (event) => {
  if (event.code === "Space" && !typing(event.target)) stopTalking();
});

$("text-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value.trim();
  if (text && whenOnline((d) => d.sendEvent("text_input", { text }))) $("text").value = "";
});

// --- the simulated GPS ------------------------------------------------------------------------

const gps = new GpsPanel($("map"), {
  send: (lat, lon, accuracy) => whenOnline((d) => d.sendEvent("gps_fix", {
    lat: Number(lat.toFixed(7)), lon: Number(lon.toFixed(7)), accuracy_m: accuracy })),
  status: (text) => { $("gps-info").textContent = text; },
});
for (const radio of document.querySelectorAll("input[name=gps-mode]")) {
  radio.addEventListener("change", () => gps.setMode(radio.value));
}
$("accuracy").addEventListener("change", (event) => { gps.accuracy = Number(event.target.value) || 5; });
$("gps-stop").addEventListener("click", () => gps.stopWalking());
$("gps-recenter").addEventListener("click", () => {
  gps.load(gps.fix ? gps.fix.slice(0, 2) : null).catch((err) => gps.status(`map: ${err.message}`));
});

// --- the header and pairing -------------------------------------------------------------------

for (const radio of document.querySelectorAll("input[name=profile]")) {
  radio.checked = radio.value === wantedProfile();
  radio.addEventListener("change", () => {
    sessionStorage.setItem(PROFILE_KEY, radio.value);
    log("sys", "profile", `switching to ${radio.value}: a new session`);
    if (device && localStorage.getItem(PAIRED_KEY)) reconnectAsNew();
  });
}
$("drop").addEventListener("click", () => device?.drop());
$("stats").addEventListener("click", () => device?.askStats());
$("new-session").addEventListener("click", () => device && reconnectAsNew());

function pairWith(code) {
  $("pair-status").textContent = "pairing…";
  device.connect({ profile: wantedProfile(), code, resume: false });
}

$("pair-form").addEventListener("submit", (event) => {
  event.preventDefault();
  pairWith($("pair-code").value);
});

$("token-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const reply = await fetch(new URL("../pairing", import.meta.url), {
    method: "POST", headers: { Authorization: `Bearer ${$("admin-token").value.trim()}` },
  }).catch((err) => ({ ok: false, json: async () => ({ error: err.message }) }));
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok) {
    $("pair-status").textContent = `no code: ${body.error || reply.status}`;
    return;
  }
  $("admin-token").value = "";
  pairWith(body.code);
});

$("forget-key").addEventListener("click", async () => {
  device?.bye();
  await forgetDeviceKey();
  localStorage.removeItem(PAIRED_KEY);
  location.reload();
});

async function start() {
  setHudFor(wantedProfile());
  gps.load().catch((err) => gps.status(`map unavailable: ${err.message}`));
  let key;
  try {
    key = await loadDeviceKey();
  } catch (err) {
    document.body.dataset.state = "failed";
    $("connection").textContent = "no device key";
    showPairing(true, err.message);
    return;
  }
  $("device-id").textContent = key.device;
  const wsUrl = new URL("../ws", import.meta.url);
  wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
  device = new Device(key, wsUrl.href);
  view.device = key.device;
  wire(device);
  // `/emulator/?code=123456`: pair straight away (the code is used up; it leaves the address bar)
  const code = new URLSearchParams(location.search).get("code");
  if (code) {
    history.replaceState(null, "", location.pathname);
    return pairWith(code);
  }
  if (localStorage.getItem(PAIRED_KEY) === key.device) {
    device.connect({ profile: wantedProfile() });
  } else {
    showPairing(true);
  }
}

start();
