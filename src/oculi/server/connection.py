"""One WebSocket: the handshake, then the device's messages in and the session's outbox out.

Everything a device sends is checked here before the session sees it; every refusal is an
`error` message naming the rule (and, when it cannot go on, a close code). What happens on one
connection never touches another's session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from starlette.websockets import WebSocket, WebSocketDisconnect

from oculi.events import Event
from oculi.server.errors import ProtocolError
from oculi.server.frames import device_event, input_event, unpack
from oculi.server.handshake import Context, Handshake
from oculi.server.protocol import (
    MAX_ERRORS,
    PROTOCOL,
    ack,
    dumps,
    parse_text,
    seq_field,
)
from oculi.server.served import ServedSession

log = logging.getLogger("oculi.server")

_CLOSE_WAIT_S = 2.0


class _Gone(Exception):
    """The device closed the connection or it dropped."""


class _Bye(Exception):
    """The device ended its session."""


class DeviceConnection:
    """Serves one WebSocket from accept to close (`run`)."""

    def __init__(self, websocket: WebSocket, context: Context) -> None:
        self.ws = websocket
        self.ctx = context
        self.limits = context.limits
        self._session: ServedSession | None = None
        self._errors = 0
        self._send_lock = asyncio.Lock()
        self._kicked = asyncio.Event()
        self._kick_error: ProtocolError | None = None

    def kick(self, error: ProtocolError) -> None:
        """End this connection with `error` (another connection took over, the session ended)."""
        self._kick_error = error
        self._kicked.set()

    async def run(self) -> None:
        await self.ws.accept()
        welcomed = False
        try:
            session, after = await self._handshake()
            welcomed = True
            await self._serve(session, after)
        except ProtocolError as err:
            err.fatal = err.fatal or not welcomed
            await self._refuse(err)
        except _Bye:
            if self._session is not None:
                await self.ctx.hub.detach(self._session, self)
                await self.ctx.hub.end(self._session, "the device said bye")
            await self._close(1000, "bye")
        except _Gone:
            pass
        except Exception:  # a server bug ends this connection, never the session or the server
            log.exception("connection failed")
            await self._refuse(ProtocolError("internal", "internal server error"))
        finally:
            if self._session is not None:
                await self.ctx.hub.detach(self._session, self)

    # --- handshake ----------------------------------------------------------------------------

    async def _handshake(self) -> tuple[ServedSession, int]:
        handshake = Handshake(self.ctx, self._send, self._receive)
        device, resume = await handshake.run()
        session, resumed = await self.ctx.hub.open(device, resume, self, handshake.profile)
        self._session = session
        await self._send(
            dumps({
                "type": "welcome", "protocol": PROTOCOL, "session": session.id,
                "resumed": resumed, "last_seq": session.record.last_in,
                "profile": session.record.profile, "limits": self.limits.announced(),
                "privacy": {"recording": session.recording},
            })
        )  # fmt: skip
        after = max(resume.last_seq, session.record.acked_out) if resumed and resume else 0
        log.info("device %s connected to session %s (resumed: %s)", device, session.id, resumed)
        return session, after

    # --- serving ------------------------------------------------------------------------------

    async def _serve(self, session: ServedSession, after: int) -> None:
        reader = asyncio.create_task(self._read(session))
        pump = asyncio.create_task(self._pump(session, after))
        kicked = asyncio.create_task(self._kicked.wait())
        tasks = {reader, pump, kicked}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if kicked.done() and not kicked.cancelled() and self._kick_error is not None:
            raise self._kick_error
        for task in (reader, pump):
            error = task.exception() if task.done() and not task.cancelled() else None
            if error is not None:
                raise error

    async def _pump(self, session: ServedSession, after: int) -> None:
        while True:
            message = await session.next_to_send(after)
            await self._send(message.frame)
            after = message.seq

    async def _read(self, session: ServedSession) -> None:
        while True:
            data = await self._receive()
            try:
                if isinstance(data, bytes):
                    await self._on_binary(session, data)
                else:
                    await self._on_text(session, data)
            except ProtocolError as err:
                if err.fatal:
                    raise
                await self._report(err)

    async def _on_text(self, session: ServedSession, text: str) -> None:
        body = parse_text(text)
        kind = body["type"]
        if kind == "event":
            seq = seq_field(body)
            await self._sequenced(session, seq, lambda: device_event(body.get("event"), seq))
        elif kind == "ack":
            await session.ack(seq_field(body, allow_zero=True))
        elif kind == "stats":
            await self._send(dumps(session.stats()))
        elif kind == "bye":
            raise _Bye
        elif kind in ("hello", "auth", "pair"):
            raise ProtocolError("bad_message", f"{kind!r}: the handshake is over")
        else:
            raise ProtocolError("bad_message", f"unknown message type {kind[:40]!r}")

    async def _on_binary(self, session: ServedSession, data: bytes) -> None:
        frame = unpack(data)
        channels = session.audio_channels
        await self._sequenced(session, frame.seq, lambda: input_event(frame, channels))

    async def _sequenced(
        self, session: ServedSession, seq: int, decode: Callable[[], Event]
    ) -> None:
        """The seq rules of protocol section 5: duplicates acked, gaps refused, the next taken."""
        expected = session.expected_seq()
        if seq < expected:
            await self._send(ack(expected - 1))
            return
        if seq > expected:
            raise ProtocolError(
                "out_of_order", f"expected seq {expected}, got {seq}", seq=seq, expected=expected
            )
        refused: ProtocolError | None = None
        event: Event | None = None
        try:
            event = decode()
        except ProtocolError as err:
            refused = err
        await session.accept(seq, event)
        if refused is not None:
            await self._report(refused)
        await self._send(ack(seq))

    # --- the socket ---------------------------------------------------------------------------

    async def _receive(self) -> str | bytes:
        try:
            message = await self.ws.receive()
        except (WebSocketDisconnect, RuntimeError) as err:
            raise _Gone from err
        if message["type"] == "websocket.disconnect":
            raise _Gone
        data = message.get("bytes")
        if data is not None:
            if len(data) > self.limits.max_binary_bytes:
                raise _too_large("binary", len(data), self.limits.max_binary_bytes)
            return bytes(data)
        text = message.get("text") or ""
        size = len(text.encode("utf-8"))
        if size > self.limits.max_text_bytes:
            raise _too_large("text", size, self.limits.max_text_bytes)
        return str(text)

    async def _send(self, frame: str | bytes) -> None:
        async with self._send_lock:
            try:
                await asyncio.wait_for(self._write(frame), self.limits.stall_s)
            except TimeoutError as err:
                raise ProtocolError(
                    "too_slow", f"the device read nothing for {self.limits.stall_s:g} s"
                ) from err

    async def _write(self, frame: str | bytes) -> None:
        try:
            if isinstance(frame, bytes):
                await self.ws.send_bytes(frame)
            else:
                await self.ws.send_text(frame)
        except (WebSocketDisconnect, RuntimeError, OSError) as err:
            raise _Gone from err

    async def _report(self, error: ProtocolError) -> None:
        """A refused message: tell the device and carry on, unless it keeps doing it."""
        self._errors += 1
        if self._errors >= MAX_ERRORS:
            raise ProtocolError(
                "too_many_errors", f"{MAX_ERRORS} refused messages on one connection"
            )
        await self._send(dumps(error.to_json()))

    async def _refuse(self, error: ProtocolError) -> None:
        """The last word on a connection that cannot go on: the error, then the close."""
        level = logging.WARNING if error.close_code in (4003, 4004) else logging.INFO
        log.log(level, "connection refused: %s", error)
        with contextlib.suppress(_Gone, TimeoutError, ProtocolError):
            await asyncio.wait_for(self._write(dumps(error.to_json())), _CLOSE_WAIT_S)
        if error.fatal:
            await self._close(error.close_code, error.code)

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(code, reason), _CLOSE_WAIT_S)


def _too_large(what: str, size: int, limit: int) -> ProtocolError:
    return ProtocolError(
        "too_large", f"a {what} frame of {size} bytes is over the limit of {limit} bytes"
    )
