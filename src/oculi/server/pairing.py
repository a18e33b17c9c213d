"""The one-time pairing code: six digits shown by the server, for one device, for ten minutes."""

from __future__ import annotations

import hmac
import secrets

from oculi.server.errors import ProtocolError

CODE_DIGITS = 6
ATTEMPTS = 5


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalise(code: str) -> str:
    """Spaces and dashes a person typed are not part of the code."""
    return "".join(c for c in code if c.isdigit())


class PairingCode:
    """The current code; a new one replaces it. Five wrong tries close it: no guessing."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._code: str | None = None
        self._expires_at = 0.0
        self._failures = 0

    def issue(self, now: float, code: str | None = None) -> str:
        self._code = normalise(code) if code else new_code()
        self._expires_at = now + self._ttl_s
        self._failures = 0
        return self._code

    def check(self, offered: str, now: float) -> None:
        if self._code is None or now > self._expires_at:
            self._code = None
            raise ProtocolError(
                "pairing_closed",
                "the pairing code was used, expired or guessed wrong too often; get a fresh one"
                " with `oculi device pair-code` on the server",
            )
        if not hmac.compare_digest(normalise(offered).encode(), self._code.encode()):
            self._failures += 1
            if self._failures >= ATTEMPTS:
                self._code = None
            raise ProtocolError("bad_pairing_code", "that is not the server's pairing code")

    def consume(self) -> None:
        self._code = None
