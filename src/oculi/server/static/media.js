// The emulated glasses' sensors: the front camera (webcam or a still image, as JPEG) and the
// microphone (through pcm-worklet.js, 16 kHz mono PCM16 in 20 ms chunks).

const MAX_SIDE = 1920;   // a frame's longest side; bigger stills are scaled down first

/** JPEG bytes of what a canvas shows, as small as needed to fit `maxBytes`. */
async function toJpeg(canvas, maxBytes) {
  let source = canvas;
  for (let attempt = 0; attempt < 8; attempt++) {
    for (const quality of [0.85, 0.7, 0.55]) {
      const blob = await new Promise((resolve) => source.toBlob(resolve, "image/jpeg", quality));
      if (blob && blob.size <= maxBytes) {
        return { jpeg: await blob.arrayBuffer(), width: source.width, height: source.height };
      }
    }
    const smaller = document.createElement("canvas");
    smaller.width = Math.round(source.width * 0.75);
    smaller.height = Math.round(source.height * 0.75);
    smaller.getContext("2d").drawImage(source, 0, 0, smaller.width, smaller.height);
    source = smaller;
  }
  throw new Error("cannot make a JPEG small enough for the server's frame limit");
}

function drawScaled(media, width, height) {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  canvas.getContext("2d").drawImage(media, 0, 0, canvas.width, canvas.height);
  return canvas;
}

/** The camera: either a live webcam or a still image; `frame()` is what it sees now. */
export class Camera {
  constructor(video, still) {
    this.video = video;
    this.still = still;
    this.stream = null;
    this.source = null;   // "webcam" | "image" | null
    this.name = "";
  }

  async startWebcam() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false,
    });
    this.video.srcObject = this.stream;
    await this.video.play();
    this.source = "webcam";
    this.name = "webcam";
  }

  stopWebcam() {
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.video.srcObject = null;
    if (this.source === "webcam") this.source = null;
  }

  async showImage(file) {
    this.stopWebcam();
    const url = URL.createObjectURL(file);
    this.still.src = url;
    await this.still.decode();
    this.source = "image";
    this.name = file.name || "image";
  }

  /** Width and height of what the camera shows (for the lens' aspect ratio). */
  get size() {
    if (this.source === "webcam") return [this.video.videoWidth, this.video.videoHeight];
    if (this.source === "image") return [this.still.naturalWidth, this.still.naturalHeight];
    return [0, 0];
  }

  /** The current frame as a JPEG that fits `maxBytes`, or null when the camera shows nothing. */
  async frame(maxBytes) {
    const [width, height] = this.size;
    if (!width || !height) return null;
    const media = this.source === "webcam" ? this.video : this.still;
    return toJpeg(drawScaled(media, width, height), maxBytes);
  }
}

/** The microphone for push-to-talk: opened on first use, then kept (one permission prompt). */
export class Microphone {
  constructor(onChunk) {
    this.onChunk = onChunk;   // (Int16Array, last, level) for every 20 ms chunk
    this.context = null;
    this.node = null;
    this.stream = null;
  }

  async open() {
    if (this.node) return;
    this.stream = await navigator.mediaDevices.getUserMedia({
      // The server does its own noise handling; echo cancellation keeps the replies out.
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: false,
        autoGainControl: true },
      video: false,
    });
    this.context = new AudioContext();
    await this.context.audioWorklet.addModule(new URL("./pcm-worklet.js", import.meta.url));
    const source = this.context.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.context, "oculi-pcm", { numberOfOutputs: 1 });
    this.node.port.onmessage = (message) => {
      const { pcm, last, level } = message.data;
      this.onChunk(new Int16Array(pcm), last, level);
    };
    // Connected through a muted gain so that the graph pulls the worklet; nothing is heard.
    const mute = this.context.createGain();
    mute.gain.value = 0;
    source.connect(this.node).connect(mute).connect(this.context.destination);
  }

  async start() {
    await this.open();
    await this.context.resume();
    this.node.port.postMessage("start");
  }

  stop() {
    if (this.node) this.node.port.postMessage("stop");
  }

  get rate() {
    return this.context ? this.context.sampleRate : 0;
  }
}
