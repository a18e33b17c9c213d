// The device side of `oculi/1` (docs/protocol.md) in the browser: the device key, the handshake,
// sequenced messages with acks, binary frames and resume after a dropped connection.
// The UI (emulator.js) listens to a Device's events; nothing here touches the page.

export const PROTOCOL = "oculi/1";
export const CLIENT = "oculi-emulator/0.1";
export const FRAME = { AUDIO: 0x01, VIDEO: 0x02, CARD: 0x10, SPEECH: 0x11 };
export const AUDIO_RATE = 16000;

const EVENT_SCHEMA = 1;
const ACK_EVERY = 32;        // acknowledge at least every 32 messages …
const ACK_AFTER_MS = 50;     // … or 50 ms after the first unacknowledged one (the limit is 100)
const SESSION_KEY = "oculi-emulator-session";
const RETRY_MS = [500, 1000, 2000, 4000, 8000];

// Close codes after which reconnecting cannot help: a person has to act (pair, fix, close a tab).
const NO_RETRY = new Map([
  [1000, "closed"],
  [1009, "a message was over the server's size limit"],
  [4000, "refused: too many bad messages"],
  [4001, "refused: not authenticated"],
  [4002, "the server speaks another protocol"],
  [4003, "this browser is not paired with the server"],
  [4004, "pairing refused"],
  [4008, "replaced: the same device connected elsewhere"],
]);

// --- bytes ------------------------------------------------------------------------------------

export function b64url(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function b64decode(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** A binary frame (protocol section 6): 8-byte header, optional JSON meta, payload. */
export function packFrame(kind, seq, payload, meta = null, last = false) {
  const metaBytes = meta ? utf8.encode(JSON.stringify(meta)) : new Uint8Array(0);
  const body = payload instanceof ArrayBuffer ? new Uint8Array(payload)
    : new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  const frame = new Uint8Array(8 + metaBytes.length + body.length);
  const view = new DataView(frame.buffer);
  view.setUint8(0, kind);
  view.setUint8(1, last ? 1 : 0);
  view.setUint32(2, seq, false);
  view.setUint16(6, metaBytes.length, false);
  frame.set(metaBytes, 8);
  frame.set(body, 8 + metaBytes.length);
  return frame.buffer;
}

export function unpackFrame(buffer) {
  if (buffer.byteLength < 8) throw new Error(`binary frame of ${buffer.byteLength} bytes`);
  const view = new DataView(buffer);
  const kind = view.getUint8(0), flags = view.getUint8(1);
  const seq = view.getUint32(2, false), metaLength = view.getUint16(6, false);
  const meta = metaLength ? JSON.parse(fromUtf8.decode(new Uint8Array(buffer, 8, metaLength))) : {};
  return { kind, last: (flags & 1) === 1, seq, meta, payload: buffer.slice(8 + metaLength) };
}

// --- the device key, kept in IndexedDB ----------------------------------------------------------

const DB = { name: "oculi-emulator", store: "keys", id: "device" };

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB.name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(DB.store);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function keyStore(mode, act) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(DB.store, mode);
      const request = act(tx.objectStore(DB.store));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** `dev_` + the first 24 hex digits of SHA-256 of the raw public key. */
async function deviceId(raw) {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
  return "dev_" + [...hash].map((b) => b.toString(16).padStart(2, "0")).join("").slice(0, 24);
}

/**
 * This browser's device key: made once with WebCrypto, the private half non-extractable; the
 * CryptoKey object itself is what IndexedDB keeps, so the key never exists as bytes here.
 */
export async function loadDeviceKey() {
  if (!window.isSecureContext || !crypto.subtle) {
    throw new Error("WebCrypto needs a secure context: open the emulator on http://127.0.0.1 " +
      "or http://localhost, or put TLS in front of the server");
  }
  const stored = await keyStore("readonly", (s) => s.get(DB.id));
  if (stored) return stored;
  let pair;
  try {
    pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  } catch (err) {
    throw new Error(`this browser has no Ed25519 in WebCrypto (${err.message})`);
  }
  const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const key = { privateKey: pair.privateKey, publicKey: b64url(raw), device: await deviceId(raw) };
  await keyStore("readwrite", (s) => s.put(key, DB.id));
  return key;
}

/** Forget the key (and so the pairing): the next load makes a new device. */
export async function forgetDeviceKey() {
  await keyStore("readwrite", (s) => s.delete(DB.id));
  sessionStorage.removeItem(SESSION_KEY);
}

// --- the connection -----------------------------------------------------------------------------

/**
 * One device's connection to `oculi serve`. Events (CustomEvent, details in brackets):
 *   state {state, reason}       offline | connecting | online | reconnecting | unpaired | failed
 *   welcome {welcome}           after each handshake
 *   received {event, frame}     a server event, in order (frame: the card's or speech's bytes)
 *   privacy {body}              the recording state
 *   sent {event, seq, bytes}    an input sent (for the timeline)
 *   refused {error}             an `error` message from the server
 *   note {text}                 something worth a line in the timeline
 *   stats {body}
 */
export class Device extends EventTarget {
  constructor(key, url) {
    super();
    this.key = key;
    this.url = url;
    this.state = "offline";
    this.welcome = null;
    this.limits = { max_text_bytes: 65536, max_binary_bytes: 2097152 };
    this.ws = null;
    this.unacked = new Map();          // seq → frame, until the server acknowledges it
    this.pendingAcks = 0;
    this.ackTimer = null;
    this.retries = 0;
    this.retryTimer = null;
    this.wanted = null;                // what connect() was last asked for, to reconnect alike
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    this.session = saved?.session ?? null;
    this.asked = saved?.asked ?? null;     // the profile the saved session was asked for
    this.lastReceived = saved?.lastReceived ?? 0;   // the last server seq received in order
    this.nextSeq = saved?.nextSeq ?? 1;
  }

  get online() {
    return this.state === "online";
  }

  /** Handshake (pairing first when a code is given); resumes the saved session if asked. */
  connect({ profile, code = null, resume = true } = {}) {
    clearTimeout(this.retryTimer);
    this.wanted = { profile, resume };
    this.#close(null);
    const resuming = Boolean(resume && this.session && this.asked === (profile ?? null));
    this.#setState("connecting", resuming ? "resuming the session" : "new session");
    const ws = new WebSocket(this.url);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    const handshake = { phase: "challenge", code, resuming, offset: 0 };
    ws.onopen = () => {
      const hello = { type: "hello", protocol: PROTOCOL, client: CLIENT };
      if (profile) hello.profile = profile;
      ws.send(JSON.stringify(hello));
    };
    ws.onmessage = (message) => {
      if (this.ws !== ws) return;
      if (typeof message.data !== "string") return this.#onBinary(message.data);
      const body = JSON.parse(message.data);
      if (handshake.phase === "open") return this.#onText(body);
      this.#onHandshake(ws, handshake, body).catch((err) => this.#fail(err.message));
    };
    ws.onclose = (event) => {
      if (this.ws === ws) this.#onClose(event);
    };
  }

  /** End the session for good (the server closes with 1000). */
  bye() {
    if (this.ws && this.online) this.ws.send(JSON.stringify({ type: "bye" }));
    this.#forgetSession();
    this.#close("bye");
  }

  /** Vanish as a device out of range does; reconnect and resume after `afterMs`. */
  drop(afterMs = 1000) {
    if (!this.ws) return;
    this.#close(null, 3000, "emulator: simulated drop");
    this.#setState("reconnecting", `dropped; reconnecting in ${afterMs / 1000} s`);
    this.retryTimer = setTimeout(() => this.connect({ ...this.wanted, resume: true }), afterMs);
  }

  /** A JSON event from the device: gaze, touch, gps_fix, text_input … */
  sendEvent(kind, fields) {
    const event = { v: EVENT_SCHEMA, kind, t: Date.now() / 1000, ...fields };
    const seq = this.#sequenced((s) => JSON.stringify({ type: "event", seq: s, event }));
    this.#emit("sent", { event, seq });
    return seq;
  }

  /** 16 kHz mono PCM16 (an Int16Array), as a 0x01 frame; `last` ends the utterance. */
  sendAudio(pcm, last = false) {
    const seq = this.#sequenced((s) => packFrame(FRAME.AUDIO, s, pcm, null, last));
    this.#emit("sent", { event: { kind: "audio_chunk", samples: pcm.length, last }, seq });
    return seq;
  }

  /** One JPEG (an ArrayBuffer) as a 0x02 frame; false when it is over the server's limit. */
  sendJpeg(jpeg, meta) {
    if (8 + jpeg.byteLength + 256 > this.limits.max_binary_bytes) return false;
    const seq = this.#sequenced((s) => packFrame(FRAME.VIDEO, s, jpeg, meta));
    this.#emit("sent", { event: { kind: "video_frame", bytes: jpeg.byteLength, ...meta }, seq });
    return true;
  }

  askStats() {
    if (this.online) this.ws.send(JSON.stringify({ type: "stats" }));
  }

  // --- handshake ---------------------------------------------------------------------------

  async #onHandshake(ws, handshake, body) {
    if (body.type === "error") return this.#refused(body);
    if (body.type === "challenge") {
      handshake.offset = body.time - Date.now() / 1000;   // sign with the server's clock
      if (handshake.phase === "challenge" && handshake.code) {
        handshake.phase = "paired";
        return ws.send(JSON.stringify(await this.#signedPair(body.nonce, handshake)));
      }
      handshake.phase = "welcome";
      return ws.send(JSON.stringify(await this.#signedAuth(body.nonce, handshake)));
    }
    if (body.type === "paired" && handshake.phase === "paired") {
      this.#emit("note", { text: `paired as ${body.device}` });
      handshake.phase = "challenge";
      handshake.code = null;
      return;
    }
    if (body.type === "welcome" && handshake.phase === "welcome") {
      handshake.phase = "open";
      return this.#onWelcome(body);
    }
    throw new Error(`unexpected ${body.type} during the handshake`);
  }

  async #signed(purpose, nonce, timestamp, detail, detail2) {
    const lines = [PROTOCOL, purpose, nonce, this.key.device, timestamp, detail, detail2];
    const signature = await crypto.subtle.sign({ name: "Ed25519" }, this.key.privateKey,
      utf8.encode(lines.join("\n")));
    return b64url(new Uint8Array(signature));
  }

  #timestamp(handshake) {
    return String(Math.floor(Date.now() / 1000 + handshake.offset));
  }

  async #signedPair(nonce, handshake) {
    const code = handshake.code.replace(/\D/g, "");
    const name = "browser emulator";
    const timestamp = this.#timestamp(handshake);
    const signature = await this.#signed("pair", nonce, timestamp, code, name);
    return { type: "pair", device: this.key.device, public_key: this.key.publicKey, name, code,
      nonce, timestamp, signature };
  }

  async #signedAuth(nonce, handshake) {
    const timestamp = this.#timestamp(handshake);
    const body = { type: "auth", device: this.key.device, nonce, timestamp };
    let detail = "", detail2 = "0";
    if (handshake.resuming) {
      body.resume = { session: this.session, last_seq: this.lastReceived };
      detail = this.session;
      detail2 = String(this.lastReceived);
    }
    body.signature = await this.#signed("auth", nonce, timestamp, detail, detail2);
    return body;
  }

  #onWelcome(welcome) {
    this.welcome = welcome;
    this.limits = { ...this.limits, ...welcome.limits };
    this.retries = 0;
    if (welcome.resumed) {
      // The server has our messages up to last_seq; the rest go again, in order, same seq.
      this.#acknowledged(welcome.last_seq);
      if (this.unacked.size === 0) this.nextSeq = welcome.last_seq + 1;   // e.g. after a reload
    } else {
      const lost = this.unacked.size;
      if (lost) this.#emit("note", { text: `${lost} unacknowledged messages dropped (new session)` });
      this.unacked.clear();
      this.lastReceived = 0;
      this.nextSeq = 1;
    }
    this.session = welcome.session;
    this.asked = this.wanted?.profile ?? null;
    this.#save();
    this.#setState("online", welcome.resumed ? "resumed" : "new session");
    this.#emit("welcome", { welcome });
    for (const [, frame] of [...this.unacked].sort((a, b) => a[0] - b[0])) this.ws.send(frame);
    this.#emit("privacy", { body: welcome.privacy ?? { recording: false } });
  }

  // --- after the welcome -------------------------------------------------------------------

  #onText(body) {
    switch (body.type) {
      case "ack":
        return this.#acknowledged(body.seq);
      case "event":
        return this.#inOrder(body.seq, () => this.#emit("received", { event: body.event }));
      case "privacy":
        return this.#inOrder(body.seq, () => this.#emit("privacy", { body }));
      case "error":
        return this.#refused(body);
      case "stats":
        return this.#emit("stats", { body });
      default:
        // Unknown sequenced messages still take their seq; anything else is ignored.
        if (Number.isInteger(body.seq)) this.#inOrder(body.seq, () => {});
        this.#emit("note", { text: `ignored a ${body.type} message` });
    }
  }

  #onBinary(buffer) {
    let frame;
    try {
      frame = unpackFrame(buffer);
    } catch (err) {
      return this.#emit("note", { text: `unreadable binary frame: ${err.message}` });
    }
    const name = { [FRAME.CARD]: "png", [FRAME.SPEECH]: "wav" }[frame.kind];
    this.#inOrder(frame.seq, () => {
      if (!name) return this.#emit("note", { text: `binary frame kind ${frame.kind} ignored` });
      this.#emit("received", { event: frame.meta, frame: frame.payload });
    });
  }

  #acknowledged(upto) {
    for (const seq of [...this.unacked.keys()]) if (seq <= upto) this.unacked.delete(seq);
  }

  /** Sequence rules: a duplicate is acknowledged again, never shown twice. */
  #inOrder(seq, deliver) {
    if (seq <= this.lastReceived) return this.#ack(true);
    if (seq !== this.lastReceived + 1) {
      return this.#emit("note", { text: `server skipped from seq ${this.lastReceived} to ${seq}` });
    }
    this.lastReceived = seq;
    this.#save();
    deliver();
    this.#ack(false);
  }

  #ack(now) {
    this.pendingAcks += 1;
    if (now || this.pendingAcks >= ACK_EVERY) return this.#flushAcks();
    if (!this.ackTimer) this.ackTimer = setTimeout(() => this.#flushAcks(), ACK_AFTER_MS);
  }

  #flushAcks() {
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.pendingAcks = 0;
    if (this.online && this.lastReceived > 0) {
      this.ws.send(JSON.stringify({ type: "ack", seq: this.lastReceived }));
    }
  }

  /** Give the next seq to a message and keep it until acknowledged (resent after a resume). */
  #sequenced(build) {
    if (!this.online) throw new Error("not connected");
    const seq = this.nextSeq++;
    const frame = build(seq);
    this.unacked.set(seq, frame);
    this.#save();
    this.ws.send(frame);
    return seq;
  }

  // --- closing and reconnecting ------------------------------------------------------------

  #refused(body) {
    this.#emit("refused", { error: body });
  }

  #onClose(event) {
    this.ws = null;
    this.#flushTimers();
    if (event.code === 4003 || event.code === 4004) {
      return this.#setState("unpaired", event.reason || NO_RETRY.get(event.code));
    }
    if (NO_RETRY.has(event.code)) {
      return this.#setState(event.code === 1000 ? "offline" : "failed",
        `${NO_RETRY.get(event.code)} (${event.code})`);
    }
    // 4010: the session ended: a new one; everything else (1006, 1011, 1012, 4005, 4009): resume.
    const resume = event.code !== 4010;
    if (!resume) this.#forgetSession();
    const wait = RETRY_MS[Math.min(this.retries, RETRY_MS.length - 1)];
    this.retries += 1;
    this.#setState("reconnecting", `closed ${event.code} ${event.reason}; again in ${wait / 1000} s`);
    this.retryTimer = setTimeout(() => this.connect({ ...this.wanted, resume }), wait);
  }

  #close(reason, code = 1000, text = "") {
    const ws = this.ws;
    this.ws = null;
    this.#flushTimers();
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(code, text);
    if (reason) this.#setState("offline", reason);
  }

  #flushTimers() {
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.pendingAcks = 0;
    clearTimeout(this.retryTimer);
  }

  #fail(message) {
    this.#close(null);
    this.#setState("failed", message);
  }

  #forgetSession() {
    this.session = null;
    this.lastReceived = 0;
    this.nextSeq = 1;
    this.unacked.clear();
    sessionStorage.removeItem(SESSION_KEY);
  }

  #save() {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({ session: this.session,
      asked: this.asked, lastReceived: this.lastReceived, nextSeq: this.nextSeq }));
  }

  #setState(state, reason = "") {
    this.state = state;
    this.#emit("state", { state, reason });
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
