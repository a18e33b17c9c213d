// The microphone as the protocol wants it: mono, 16 kHz, signed 16-bit little-endian, 20 ms
// chunks (320 samples, 640 bytes). Runs on the audio thread; `sampleRate` is the context's rate.
//
// Port messages in:  "start" (capture from now), "stop" (post what is left as the last chunk).
// Port messages out: {pcm: ArrayBuffer, last: bool, level: 0..1 (RMS of the chunk)}.

const TARGET_RATE = 16000;
const CHUNK = TARGET_RATE / 50; // 20 ms
const TAPS = 63;

/** A windowed-sinc low-pass at 7.2 kHz (below 16 kHz's Nyquist), for the input's rate. */
function lowPass(rate) {
  const cutoff = Math.min(0.45 * TARGET_RATE, 0.45 * rate) / rate;
  const taps = new Float32Array(TAPS);
  const middle = (TAPS - 1) / 2;
  let sum = 0;
  for (let i = 0; i < TAPS; i++) {
    const x = i - middle;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const blackman = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / (TAPS - 1))
      + 0.08 * Math.cos((4 * Math.PI * i) / (TAPS - 1));
    taps[i] = sinc * blackman;
    sum += taps[i];
  }
  for (let i = 0; i < TAPS; i++) taps[i] /= sum;
  return taps;
}

class PcmWorklet extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE;  // input samples per output sample
    this.taps = this.step > 1 ? lowPass(sampleRate) : null;
    this.history = new Float32Array(TAPS);  // the last input samples, for the filter
    this.previous = 0;                      // the filtered sample before the current one
    this.position = 0;                      // where the next output sample falls, in input samples
    this.chunk = new Int16Array(CHUNK);
    this.filled = 0;
    this.sumSquares = 0;
    this.capturing = false;
    this.port.onmessage = (message) => {
      if (message.data === "start") {
        this.capturing = true;
        this.filled = 0;
        this.sumSquares = 0;
        this.position = 0;
      } else if (message.data === "stop" && this.capturing) {
        this.capturing = false;
        this.post(true);
      }
    };
  }

  /** The next input sample, low-passed (the filter runs at the input rate). */
  filter(sample) {
    if (!this.taps) return sample;
    this.history.copyWithin(0, 1);
    this.history[TAPS - 1] = sample;
    let out = 0;
    for (let i = 0; i < TAPS; i++) out += this.history[i] * this.taps[i];
    return out;
  }

  process(inputs) {
    const input = inputs[0];
    if (!this.capturing || !input || input.length === 0) return true;
    const frames = input[0].length;
    for (let n = 0; n < frames; n++) {
      let mono = 0;
      for (let c = 0; c < input.length; c++) mono += input[c][n];
      const current = this.filter(mono / input.length);
      // Output samples between the previous input sample (at -1) and this one (at 0):
      // linear interpolation of the low-passed signal.
      while (this.position <= 0) {
        const t = this.position + 1;
        this.emit(this.previous + t * (current - this.previous));
        this.position += this.step;
      }
      this.position -= 1;
      this.previous = current;
    }
    return true;
  }

  emit(sample) {
    const clipped = Math.max(-1, Math.min(1, sample));
    this.sumSquares += clipped * clipped;
    this.chunk[this.filled++] = Math.round(clipped * 32767);
    if (this.filled === CHUNK) this.post(false);
  }

  /** Post the chunk as little-endian bytes; the last one is padded with silence to 20 ms. */
  post(last) {
    const count = last ? CHUNK : this.filled;
    const bytes = new ArrayBuffer(count * 2);
    const view = new DataView(bytes);
    for (let i = 0; i < count; i++) view.setInt16(i * 2, i < this.filled ? this.chunk[i] : 0, true);
    const level = Math.sqrt(this.sumSquares / Math.max(1, this.filled));
    this.port.postMessage({ pcm: bytes, last, level }, [bytes]);
    this.filled = 0;
    this.sumSquares = 0;
  }
}

registerProcessor("oculi-pcm", PcmWorklet);
