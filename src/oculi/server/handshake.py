"""The handshake: hello, a challenge, pairing once, then a signed auth (protocol sections 3, 4).

It proves which paired device is on the line and what it wants to resume; nothing else is
accepted until it has finished, and every refusal here ends the connection.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from oculi.runtime.config import PROFILES
from oculi.server.devices import DeviceRegistry
from oculi.server.errors import ProtocolError
from oculi.server.hub import Resume, SessionHub
from oculi.server.pairing import PairingCode, normalise
from oculi.server.protocol import (
    NAME_CHARS,
    SUPPORTED_PROTOCOLS,
    Limits,
    dumps,
    parse_text,
    seq_field,
    signed_text,
    text_field,
)
from oculi.server.store import StoreThread
from oculi.services.wallet.errors import DeviceAuthError
from oculi.services.wallet.signing import (
    b64decode,
    check_device_id,
    check_timestamp,
    device_id,
    verify_signature,
)

log = logging.getLogger("oculi.server")

DATA_TYPES = frozenset({"event", "ack", "stats", "bye"})
"""Messages that belong after the welcome: before it they are `not_authenticated`."""


@dataclass
class Context:
    """What every connection of one server shares."""

    hub: SessionHub
    devices: DeviceRegistry
    db: StoreThread
    pairing: PairingCode
    limits: Limits
    clock: Callable[[], float] = time.time


class Handshake:
    """One connection's handshake; `run` returns the device and the resume it asked for."""

    def __init__(
        self,
        ctx: Context,
        send: Callable[[str], Awaitable[None]],
        receive: Callable[[], Awaitable[str | bytes]],
    ) -> None:
        self.ctx = ctx
        self._send = send
        self._receive = receive
        self._nonce: str | None = None
        self.profile: str | None = None
        """The device profile the device asked for in `hello` (None: the server's)."""

    async def run(self) -> tuple[str, Resume | None]:
        deadline = asyncio.get_running_loop().time() + self.ctx.limits.handshake_timeout_s
        hello = await self._handshake_message(deadline, "hello")
        protocol = hello.get("protocol")
        if protocol not in SUPPORTED_PROTOCOLS:
            raise ProtocolError(
                "unsupported_protocol",
                f"this server speaks {', '.join(SUPPORTED_PROTOCOLS)}; the device asked for"
                f" {protocol!r}",
                supported=list(SUPPORTED_PROTOCOLS),
            )
        asked = hello.get("profile")
        if asked is not None and asked not in PROFILES:
            raise ProtocolError(
                "bad_message", f"hello.profile must be one of {', '.join(PROFILES)}, got {asked!r}"
            )
        self.profile = asked
        await self._challenge()
        message = await self._handshake_message(deadline, "auth", "pair")
        if message["type"] == "pair":
            await self._pair(message)
            await self._challenge()
            message = await self._handshake_message(deadline, "auth")
        return await self._authenticate(message)

    async def _handshake_message(self, deadline: float, *wanted: str) -> dict[str, Any]:
        left = deadline - asyncio.get_running_loop().time()
        try:
            data = await asyncio.wait_for(self._receive(), max(left, 0.001))
        except TimeoutError as err:
            raise ProtocolError(
                "handshake_timeout",
                f"the handshake must finish within {self.ctx.limits.handshake_timeout_s:g} s",
            ) from err
        if isinstance(data, bytes):
            raise ProtocolError("not_authenticated", "a binary frame before the handshake")
        body = parse_text(data)
        kind = body["type"]
        if kind in DATA_TYPES:
            raise ProtocolError("not_authenticated", f"{kind!r} before the handshake finished")
        if kind not in wanted:
            raise ProtocolError("bad_message", f"expected {' or '.join(wanted)}, got {kind!r}")
        return body

    async def _challenge(self) -> None:
        self._nonce = secrets.token_urlsafe(32)
        await self._send(
            dumps({"type": "challenge", "nonce": self._nonce, "time": int(self.ctx.clock())})
        )

    def _check_signed(
        self, body: dict[str, Any], purpose: str, public_key: bytes, detail: str, detail2: str
    ) -> None:
        """Freshness, the challenge, then the signature; the challenge is spent either way."""
        device, stamp = body["device"], text_field(body, "timestamp", max_chars=12)
        issued, self._nonce = self._nonce, None
        if not isinstance(body.get("signature"), str) or not body["signature"]:
            raise ProtocolError("unsigned", f"{purpose} must carry the device's signature")
        nonce, signature = text_field(body, "nonce"), text_field(body, "signature")
        try:
            check_timestamp(stamp, self.ctx.clock())
        except DeviceAuthError as err:
            bad_form = err.rule == "bad_timestamp"
            message = "timestamp must be whole Unix seconds" if bad_form else err.detail
            raise ProtocolError(err.rule, message) from err
        if issued is None or nonce != issued:
            raise ProtocolError(
                "handshake_replayed",
                "the nonce is not the challenge issued on this connection, or was answered already",
            )
        try:
            verify_signature(
                public_key, signature, signed_text(purpose, nonce, device, stamp, detail, detail2)
            )
        except DeviceAuthError as err:
            raise ProtocolError(err.rule, err.detail) from err

    async def _pair(self, body: dict[str, Any]) -> None:
        device = _device_field(body)
        try:
            public_key = b64decode(text_field(body, "public_key"))
        except ValueError as err:
            raise ProtocolError("bad_message", f"public_key is not base64url: {err}") from err
        if len(public_key) != 32 or device_id(public_key) != device:
            raise ProtocolError(
                "device_mismatch", "device must be the id of public_key (a raw 32-byte Ed25519 key)"
            )
        name = body.get("name", "device")
        if not isinstance(name, str) or not 0 < len(name) <= NAME_CHARS or not name.isprintable():
            raise ProtocolError("bad_message", f"name: 1 to {NAME_CHARS} printable characters")
        code = normalise(text_field(body, "code", max_chars=20))
        self._check_signed(body, "pair", public_key, code, name)
        devices, now = self.ctx.devices, self.ctx.clock()
        known = await self.ctx.db.run(lambda: devices.public_key(device))
        if known != public_key:
            self.ctx.pairing.check(code, now)
            self.ctx.pairing.consume()
            await self.ctx.db.run(lambda: devices.pair(device, public_key, name, now))
            log.warning("device %s (%s) paired", device, name)
        await self._send(dumps({"type": "paired", "device": device}))

    async def _authenticate(self, body: dict[str, Any]) -> tuple[str, Resume | None]:
        device = _device_field(body)
        resume = _resume_field(body)
        devices = self.ctx.devices
        public_key = await self.ctx.db.run(lambda: devices.public_key(device))
        if public_key is None:
            self._nonce = None
            raise ProtocolError(
                "unknown_device",
                f"{device} is not paired with this server; pair it with the code the server shows",
            )
        detail = resume.session if resume else ""
        self._check_signed(body, "auth", public_key, detail, str(resume.last_seq if resume else 0))
        return device, resume


def _device_field(body: dict[str, Any]) -> str:
    device = text_field(body, "device", max_chars=40)
    try:
        check_device_id(device)
    except DeviceAuthError as err:
        raise ProtocolError("unknown_device", err.detail) from err
    return device


def _resume_field(body: dict[str, Any]) -> Resume | None:
    resume = body.get("resume")
    if resume is None:
        return None
    if not isinstance(resume, dict):
        raise ProtocolError("bad_message", "resume must be {'session': id, 'last_seq': n}")
    session = text_field(resume, "session", max_chars=64)
    return Resume(session, seq_field(resume, "last_seq", allow_zero=True))
