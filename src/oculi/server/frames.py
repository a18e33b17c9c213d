"""Binary frames (protocol section 6) and events on the wire in both directions.

Audio and camera frames travel as bytes with an 8-byte header, so 20 ms of audio costs 8 bytes
of framing instead of a third more in base64; cards and speech come back the same way.
"""

from __future__ import annotations

import base64
import json
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from oculi.errors import EventError
from oculi.events import AudioChunk, CardShown, Event, SpeechOut, VideoFrame, event_from_json
from oculi.server.errors import ProtocolError
from oculi.server.protocol import AUDIO_RATE, DEVICE_EVENT_KINDS, dumps

AUDIO = 0x01
VIDEO = 0x02
OPUS = 0x03
CARD = 0x10
SPEECH = 0x11
LAST = 0x01
_HEADER = struct.Struct(">BBIH")
HEADER_BYTES = _HEADER.size
_BLOBS: dict[int, tuple[type[Event], str]] = {CARD: (CardShown, "png"), SPEECH: (SpeechOut, "wav")}
_BLOB_KINDS = {cls.kind: (kind, name) for kind, (cls, name) in _BLOBS.items()}
_JPEG = b"\xff\xd8\xff"


@dataclass(frozen=True)
class BinaryFrame:
    kind: int
    seq: int
    payload: bytes
    meta: dict[str, Any] = field(default_factory=dict)
    last: bool = False

    def pack(self) -> bytes:
        meta = json.dumps(self.meta, separators=(",", ":")).encode() if self.meta else b""
        if len(meta) > 0xFFFF:
            raise ProtocolError("bad_frame", "binary frame meta is over 65535 bytes")
        header = _HEADER.pack(self.kind, LAST if self.last else 0, self.seq, len(meta))
        return header + meta + self.payload


def unpack(data: bytes) -> BinaryFrame:
    """Read a frame's header and meta; raises `bad_frame` (with the seq when it was readable)."""
    if len(data) < HEADER_BYTES:
        raise ProtocolError("bad_frame", f"a binary frame has an 8-byte header; got {len(data)}")
    kind, flags, seq, meta_len = _HEADER.unpack_from(data)
    if seq < 1:
        raise ProtocolError("bad_frame", "binary frame seq must be 1 or more")
    if flags & ~LAST:
        raise ProtocolError("bad_frame", f"unknown flag bits {flags:#04x}")
    end = HEADER_BYTES + meta_len
    if len(data) < end:
        raise ProtocolError("bad_frame", f"meta length {meta_len} runs past the frame's end")
    meta: Any = {}
    if meta_len:
        try:
            meta = json.loads(data[HEADER_BYTES:end])
        except ValueError as err:
            raise ProtocolError("bad_frame", f"binary frame meta is not JSON: {err}") from err
        if not isinstance(meta, dict):
            raise ProtocolError("bad_frame", "binary frame meta must be a JSON object")
    return BinaryFrame(kind, seq, data[end:], meta, bool(flags & LAST))


# --- device → server ----------------------------------------------------------------------------


def input_event(frame: BinaryFrame, channels: tuple[int, ...]) -> Event:
    """The event a device's binary frame carries; `channels` are the counts the session takes."""
    when = frame.meta.get("t")
    if not isinstance(when, int | float) or isinstance(when, bool):
        when = time.time()
    if frame.kind == AUDIO:
        rate, count = frame.meta.get("rate", AUDIO_RATE), frame.meta.get("channels", 1)
        if rate != AUDIO_RATE:
            raise _bad(frame, f"audio must be {AUDIO_RATE} Hz PCM16, not {rate!r}")
        if count not in channels:
            raise _bad(frame, f"audio channels must be one of {list(channels)}, not {count!r}")
        if len(frame.payload) % (2 * count):
            raise _bad(frame, f"{len(frame.payload)} bytes are not whole {count}-channel frames")
        return AudioChunk(
            pcm=frame.payload, sample_rate=rate, channels=count, last=frame.last, t=float(when)
        )
    if frame.kind == VIDEO:
        if not frame.payload.startswith(_JPEG):
            raise _bad(frame, "a video frame must be one JPEG file (FF D8 FF …)")
        source = frame.meta.get("source", "device")
        return VideoFrame(image=frame.payload, source=str(source)[:100], t=float(when))
    if frame.kind == OPUS:
        raise _bad(frame, "Opus audio is reserved and not accepted in oculi/1; send PCM16 (0x01)")
    raise _bad(frame, f"binary frame kind {frame.kind:#04x} is not one a device sends")


def device_event(body: Any, seq: int) -> Event:
    """An `event` message's body as an event a device may send (`bad_event`, `not_allowed`)."""
    try:
        event = event_from_json(body)
    except EventError as err:
        raise ProtocolError("bad_event", str(err), seq=seq) from err
    if event.kind not in DEVICE_EVENT_KINDS:
        raise ProtocolError(
            "event_not_allowed",
            f"a device may not send {event.kind!r}; only {', '.join(sorted(DEVICE_EVENT_KINDS))}",
            seq=seq,
        )
    return event


def input_frame(event: Event, seq: int) -> str | bytes:
    """How a device sends an event: audio and JPEG frames as binary, the rest as JSON."""
    if isinstance(event, AudioChunk) and event.sample_rate == AUDIO_RATE:
        meta: dict[str, Any] = {}
        if event.channels != 1:
            meta = {"rate": AUDIO_RATE, "channels": event.channels}
        return BinaryFrame(AUDIO, seq, event.pcm, meta, event.last).pack()
    if isinstance(event, VideoFrame) and event.image.startswith(_JPEG):
        meta = {"source": event.source} if event.source else {}
        return BinaryFrame(VIDEO, seq, event.image, meta).pack()
    return dumps({"type": "event", "seq": seq, "event": event.to_json()})


# --- server → device ----------------------------------------------------------------------------


def output_frame(event: Event, seq: int) -> str | bytes:
    """How the server sends an event: cards and speech as binary, the rest as JSON."""
    blob = _BLOB_KINDS.get(event.kind)
    if blob is None:
        return dumps({"type": "event", "seq": seq, "event": event.to_json()})
    kind, name = blob
    meta = event.to_json()
    meta.pop(name)
    return BinaryFrame(kind, seq, getattr(event, name), meta).pack()


def output_event(frame: BinaryFrame) -> Event:
    """The card or speech a server's binary frame carries (the device side of `output_frame`)."""
    blob = _BLOBS.get(frame.kind)
    if blob is None:
        raise ProtocolError("bad_frame", f"binary frame kind {frame.kind:#04x} is not a server's")
    _, name = blob
    body = frame.meta | {name: base64.b64encode(frame.payload).decode("ascii")}
    try:
        return event_from_json(body)
    except EventError as err:
        raise ProtocolError("bad_frame", f"binary frame meta: {err}", seq=frame.seq) from err


def _bad(frame: BinaryFrame, message: str) -> ProtocolError:
    return ProtocolError("bad_frame", message, seq=frame.seq)
