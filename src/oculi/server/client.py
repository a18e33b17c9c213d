"""The device side of `oculi/1` in Python: pair once, connect, stream, receive, resume.

Tests, benchmarks and `oculi device` use it; it is also the reference a device implementation
can be checked against. It keeps what the protocol asks a device to keep: the session id, the
last server message received in order, and its own messages until they are acknowledged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from oculi.errors import EventError
from oculi.events import AudioChunk, Event, TextInput, VideoFrame, event_from_json
from oculi.server.errors import ConnectionEnded, ProtocolError
from oculi.server.frames import input_frame, output_event, unpack
from oculi.server.pairing import normalise
from oculi.server.protocol import AUDIO_RATE, PROTOCOL, dumps, parse_text, signed_text
from oculi.services.wallet.signing import DeviceKey, b64encode

CLIENT_NAME = "oculi-py/1"


@dataclass(frozen=True)
class Incoming:
    """One message from the server, decoded."""

    type: str
    body: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None
    event: Event | None = None
    error: ProtocolError | None = None


class DeviceClient:
    """One device's connection to `oculi serve`; reconnect with `connect()` again to resume."""

    def __init__(
        self,
        url: str,
        key: DeviceKey,
        *,
        name: str = "oculi device",
        auto_ack: bool = True,
        max_size: int = 16 * 1024 * 1024,
    ) -> None:
        self.url = url
        self.key = key
        self._signer = Ed25519PrivateKey.from_private_bytes(key.seed)
        self.name = name
        self.auto_ack = auto_ack
        self.session: str | None = None
        self.last_received = 0
        """The last server seq received in order: what a resume asks to continue after."""
        self.next_seq = 1
        self.duplicates = 0
        """Server messages received twice (the server should never resend what was acked)."""
        self.events: list[Event] = []
        """Every event received in this session, in order."""
        self.errors: list[ProtocolError] = []
        self.privacy: list[dict[str, Any]] = []
        """Every `privacy` message (the recording light's changes), in order."""
        self.welcome: dict[str, Any] = {}
        self._unacked: dict[int, str | bytes] = {}
        self._max_size = max_size
        self._ws: ClientConnection | None = None
        self._last_error: ProtocolError | None = None

    # --- connecting ---------------------------------------------------------------------------

    async def connect(
        self,
        *,
        pairing_code: str | None = None,
        resume: bool = True,
        protocol: str = PROTOCOL,
        timeout_s: float = 60.0,
    ) -> dict[str, Any]:
        """Handshake (pairing first when a code is given); resumes the last session if it can."""
        await self.close()
        self._last_error = None
        self._ws = await connect(self.url, max_size=self._max_size, open_timeout=timeout_s)
        await self.send_raw(dumps({"type": "hello", "protocol": protocol, "client": CLIENT_NAME}))
        challenge = await self._handshake_reply("challenge", timeout_s)
        if pairing_code is not None:
            code = normalise(pairing_code)
            body = {"type": "pair", "public_key": self.key.public_key, "name": self.name,
                    "code": code}  # fmt: skip
            await self.send_raw(dumps(self._signed(body, "pair", challenge, code, self.name)))
            await self._handshake_reply("paired", timeout_s)
            challenge = await self._handshake_reply("challenge", timeout_s)
        auth: dict[str, Any] = {"type": "auth"}
        session, last = (self.session, self.last_received) if resume and self.session else ("", 0)
        if session:
            auth["resume"] = {"session": session, "last_seq": last}
        await self.send_raw(dumps(self._signed(auth, "auth", challenge, session, str(last))))
        self.welcome = (await self._handshake_reply("welcome", timeout_s)).body
        await self._after_welcome(self.welcome)
        return self.welcome

    def _signed(
        self, body: dict[str, Any], purpose: str, challenge: Incoming, detail: str, detail2: str
    ) -> dict[str, Any]:
        nonce, stamp = str(challenge.body.get("nonce")), str(int(time.time()))
        text = signed_text(purpose, nonce, self.key.device_id, stamp, detail, detail2)
        signature = b64encode(self._signer.sign(text))
        return body | {"device": self.key.device_id, "nonce": nonce, "timestamp": stamp,
                       "signature": signature}  # fmt: skip

    async def _handshake_reply(self, wanted: str, timeout_s: float) -> Incoming:
        message = await self.receive(timeout_s)
        if message.type == "error" and message.error is not None:
            raise message.error
        if message.type != wanted:
            raise ProtocolError(
                "bad_message", f"expected {wanted!r} from the server, got {message.type!r}"
            )
        return message

    async def _after_welcome(self, welcome: dict[str, Any]) -> None:
        if not welcome.get("resumed"):
            self.session = str(welcome["session"])
            self.last_received, self.next_seq = 0, 1
            self._unacked.clear()
            self.events.clear()
            return
        accepted = int(welcome.get("last_seq", 0))
        for seq in sorted(self._unacked):
            if seq <= accepted:
                del self._unacked[seq]
        for seq in sorted(self._unacked):
            await self.send_raw(self._unacked[seq])

    # --- sending ------------------------------------------------------------------------------

    async def send(self, event: Event) -> int:
        """Send an input event (audio and JPEG frames go binary); returns its seq."""
        return await self.send_sequenced(lambda seq: input_frame(event, seq))

    async def send_text(self, text: str) -> int:
        return await self.send(TextInput(text=text))

    async def send_audio(self, pcm: bytes, *, channels: int = 1, last: bool = False) -> int:
        return await self.send(
            AudioChunk(pcm=pcm, sample_rate=AUDIO_RATE, channels=channels, last=last)
        )

    async def send_frame(self, jpeg: bytes, *, source: str = "") -> int:
        return await self.send(VideoFrame(image=jpeg, source=source))

    async def send_sequenced(self, build: Callable[[int], str | bytes]) -> int:
        """Give the next seq to a message and keep it until the server acknowledges it."""
        seq = self.next_seq
        self.next_seq += 1
        frame = build(seq)
        self._unacked[seq] = frame
        await self.send_raw(frame)
        return seq

    async def send_raw(self, data: str | bytes) -> None:
        """Exactly these bytes as one frame (tests use it for what a device must not send)."""
        try:
            await self._socket().send(data)
        except ConnectionClosed as err:
            raise self._ended(err) from err

    async def ack(self, seq: int | None = None) -> None:
        upto = self.last_received if seq is None else seq
        await self.send_raw(dumps({"type": "ack", "seq": upto}))

    async def stats(self, timeout_s: float = 30.0) -> dict[str, Any]:
        await self.send_raw(dumps({"type": "stats"}))
        return (await self.next_of("stats", timeout_s=timeout_s)).body

    @property
    def unacked(self) -> list[int]:
        return sorted(self._unacked)

    # --- receiving ----------------------------------------------------------------------------

    async def receive(self, timeout_s: float = 30.0) -> Incoming:
        """The next message; sequenced ones are checked for order and acknowledged."""
        try:
            data = await asyncio.wait_for(self._socket().recv(), timeout_s)
        except ConnectionClosed as err:
            raise self._ended(err) from err
        message = self._decode(data)
        if message.type == "ack" and message.seq is not None:
            for seq in [s for s in self._unacked if s <= message.seq]:
                del self._unacked[seq]
        if message.type == "error" and message.error is not None:
            self.errors.append(message.error)
            self._last_error = message.error
        if message.seq is not None and message.type != "ack":
            message = await self._sequenced(message)
            if message.type == "privacy":
                self.privacy.append(message.body)
        return message

    async def next_of(self, *types: str, timeout_s: float = 30.0) -> Incoming:
        """Receive until a message of one of these types arrives (events are kept in `events`)."""
        deadline = time.monotonic() + timeout_s
        while True:
            message = await self.receive(max(deadline - time.monotonic(), 0.001))
            if message.type in types:
                return message

    async def events_until(
        self, done: Callable[[Event], bool], timeout_s: float = 30.0
    ) -> list[Event]:
        """The events received until (and including) the first for which `done` is true."""
        deadline = time.monotonic() + timeout_s
        got: list[Event] = []
        while True:
            message = await self.receive(max(deadline - time.monotonic(), 0.001))
            if message.event is not None:
                got.append(message.event)
                if done(message.event):
                    return got

    async def _sequenced(self, message: Incoming) -> Incoming:
        assert message.seq is not None
        if message.seq <= self.last_received:
            self.duplicates += 1
            return Incoming("duplicate", message.body, message.seq, message.event)
        if message.seq != self.last_received + 1:
            raise ProtocolError(
                "out_of_order",
                f"the server skipped from seq {self.last_received} to {message.seq}",
                seq=message.seq,
            )
        self.last_received = message.seq
        if message.event is not None:
            self.events.append(message.event)
        if self.auto_ack:
            await self.ack(message.seq)
        return message

    def _decode(self, data: str | bytes) -> Incoming:
        if isinstance(data, bytes):
            frame = unpack(data)
            event = output_event(frame)
            return Incoming("event", frame.meta, frame.seq, event)
        body = parse_text(data)
        kind = body["type"]
        seq = body.get("seq") if isinstance(body.get("seq"), int) else None
        if kind == "error":
            return Incoming(kind, body, None, error=ProtocolError.from_json(body))
        if kind == "event":
            try:
                return Incoming(kind, body, seq, event_from_json(body.get("event")))
            except EventError as err:
                raise ProtocolError("bad_event", f"from the server: {err}", seq=seq) from err
        return Incoming(kind, body, seq if kind in ("privacy", "ack") else None)

    # --- ending -------------------------------------------------------------------------------

    async def bye(self) -> None:
        """End the session for good (it cannot be resumed)."""
        await self.send_raw(dumps({"type": "bye"}))
        try:
            await asyncio.wait_for(self._socket().wait_closed(), 10)
        finally:
            self._ws = None
            self.session = None

    async def drop(self) -> None:
        """Vanish without a close handshake, like a device out of range."""
        if self._ws is not None:
            self._ws.transport.abort()
            self._ws = None

    async def close(self) -> None:
        if self._ws is not None:
            ws, self._ws = self._ws, None
            await ws.close()

    @property
    def connected(self) -> bool:
        return self._ws is not None

    def _socket(self) -> ClientConnection:
        if self._ws is None:
            raise ConnectionEnded(None, "not connected")
        return self._ws

    def _ended(self, err: ConnectionClosed) -> ConnectionEnded:
        code = err.rcvd.code if err.rcvd is not None else None
        reason = err.rcvd.reason if err.rcvd is not None else ""
        self._ws = None
        return ConnectionEnded(code, reason, self._last_error)
