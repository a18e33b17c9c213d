"""The protocol's refusals: a code for programs, a message for people, and how the link ends."""

from __future__ import annotations

from typing import Any

from oculi.errors import OculiError

NORMAL = 1000
TOO_BIG = 1009
INTERNAL = 1011
PROTOCOL_ERROR = 4000
UNAUTHENTICATED = 4001
UNSUPPORTED_PROTOCOL = 4002
AUTH_FAILED = 4003
PAIRING_FAILED = 4004
HANDSHAKE_TIMEOUT = 4005
REPLACED = 4008
TOO_SLOW = 4009
SESSION_ENDED = 4010

CLOSE_CODES: dict[str, int] = {
    "too_large": TOO_BIG,
    "unsupported_protocol": UNSUPPORTED_PROTOCOL,
    "not_authenticated": UNAUTHENTICATED,
    "unknown_device": AUTH_FAILED,
    "unsigned": AUTH_FAILED,
    "bad_signature": AUTH_FAILED,
    "bad_timestamp": AUTH_FAILED,
    "stale_timestamp": AUTH_FAILED,
    "bad_nonce": AUTH_FAILED,
    "handshake_replayed": AUTH_FAILED,
    "bad_pairing_code": PAIRING_FAILED,
    "pairing_closed": PAIRING_FAILED,
    "device_mismatch": PAIRING_FAILED,
    "handshake_timeout": HANDSHAKE_TIMEOUT,
    "replaced": REPLACED,
    "too_slow": TOO_SLOW,
    "session_ended": SESSION_ENDED,
    "too_many_errors": PROTOCOL_ERROR,
    "internal": INTERNAL,
}
"""Errors that always end the connection, and the close code each ends it with."""


class ProtocolError(OculiError):
    """A message or connection the other side refused; `code` says which rule (docs/protocol.md)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        seq: int | None = None,
        fatal: bool | None = None,
        **extra: Any,
    ) -> None:
        self.code = code
        self.message = message
        self.seq = seq
        self.close_code = CLOSE_CODES.get(code, PROTOCOL_ERROR)
        self.fatal = code in CLOSE_CODES if fatal is None else fatal
        self.extra = extra
        super().__init__(f"{code}: {message}")

    def to_json(self) -> dict[str, Any]:
        """The `error` message that tells the device."""
        body: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        body["seq"] = self.seq
        body.update(self.extra)
        body["fatal"] = self.fatal
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> ProtocolError:
        """The error a device received, raised again on its side."""
        known = ("type", "code", "message", "seq", "fatal")
        extra = {k: v for k, v in body.items() if k not in known}
        seq = body.get("seq")
        return cls(
            str(body.get("code", "unknown")),
            str(body.get("message", "")),
            seq=seq if isinstance(seq, int) else None,
            fatal=bool(body.get("fatal", False)),
            **extra,
        )


class ConnectionEnded(OculiError):
    """The WebSocket closed; `error` is the server's last word when it gave one."""

    def __init__(self, code: int | None, reason: str, error: ProtocolError | None = None) -> None:
        self.code = code
        self.reason = reason
        self.error = error
        why = f" after {error}" if error is not None else (f": {reason}" if reason else "")
        super().__init__(f"connection closed (code {code}){why}")
