"""The `oculi/1` text messages: names, limits, what is signed, and reading an envelope.

Everything here is plain data shared by the server and the Python client, so the two cannot
disagree about the bytes (docs/protocol.md is the reference for other implementations).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from oculi.server.errors import ProtocolError

PROTOCOL = "oculi/1"
SUPPORTED_PROTOCOLS = (PROTOCOL,)
AUDIO_RATE = 16_000
MAX_SEQ = 2**32 - 1
MAX_ERRORS = 20
"""Refused messages on one connection before it is closed (`too_many_errors`)."""
NAME_CHARS = 64

DEVICE_EVENT_KINDS = frozenset(
    {"audio_chunk", "video_frame", "gaze", "touch", "gps_fix", "text_input", "utterance"}
)
"""What a device may send: its sensors and the wearer's input, never the session's outputs."""


@dataclass(frozen=True)
class Limits:
    """The server's limits, announced in `welcome` (defaults match the `server.*` config)."""

    max_text_bytes: int = 64 * 1024
    max_binary_bytes: int = 2 * 1024 * 1024
    window: int = 256
    """Sequenced server messages in flight without an ack."""
    resume_s: float = 120.0
    stall_s: float = 15.0
    """A device that neither reads nor acks for this long while messages wait is closed."""
    max_pending_inputs: int = 500
    handshake_timeout_s: float = 10.0
    pairing_ttl_s: float = 600.0

    def announced(self) -> dict[str, Any]:
        fields = asdict(self)
        wanted = ("max_text_bytes", "max_binary_bytes", "window", "resume_s")
        return {name: fields[name] for name in wanted} | {"audio_rate": AUDIO_RATE}


def signed_text(
    purpose: str, nonce: str, device: str, timestamp: str, detail: str, detail2: str
) -> bytes:
    """The exact bytes a device signs for `auth` or `pair` (protocol section 3.1)."""
    fields = [PROTOCOL, purpose, nonce, device, timestamp, detail, detail2]
    if any("\n" in f or "\r" in f for f in fields):
        raise ProtocolError("bad_message", "a signed field contains a line break", fatal=True)
    return "\n".join(fields).encode("utf-8")


def dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def parse_text(text: str) -> dict[str, Any]:
    """A text frame as a JSON object with a string `type`, or `bad_json` / `bad_message`."""
    try:
        body = json.loads(text)
    except ValueError as err:
        raise ProtocolError("bad_json", f"a text frame must be a JSON object: {err}") from err
    if not isinstance(body, dict):
        raise ProtocolError("bad_json", "a text frame must be a JSON object")
    if not isinstance(body.get("type"), str):
        raise ProtocolError("bad_message", "a message needs a string field 'type'")
    return body


def text_field(body: dict[str, Any], name: str, *, max_chars: int = 200) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value or len(value) > max_chars:
        raise ProtocolError(
            "bad_message",
            f"{body.get('type')}: {name!r} must be a string of 1 to {max_chars} characters",
        )
    return value


def seq_field(body: dict[str, Any], name: str = "seq", *, allow_zero: bool = False) -> int:
    value = body.get(name)
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_SEQ:
        raise ProtocolError(
            "bad_message", f"{body.get('type')}: {name!r} must be a whole number {low}..{MAX_SEQ}"
        )
    return value


def ack(seq: int) -> str:
    return dumps({"type": "ack", "seq": seq})
