"""One device's session as the server serves it: the runtime, sequence numbers, outbox, inputs.

It lives across connections: a connection attaches to it, feeds it the device's messages and
pumps its outbox; when the connection drops, the session keeps working through what it was given
and keeps what it made until the device is back (or the resume window passes). Every store write
carries the session's claim: when another server process has taken the session over, the write
is refused and the session reports itself lost (`on_lost`) instead of writing into it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from oculi.errors import OculiError
from oculi.events import ErrorEvent, Event, RecordingState
from oculi.runtime.session import Session
from oculi.server.errors import ProtocolError
from oculi.server.frames import output_frame
from oculi.server.inbox import InputQueue
from oculi.server.protocol import Limits, dumps
from oculi.server.store import (
    OutMessage,
    SessionRecord,
    SessionStore,
    StoreThread,
    Superseded,
)

log = logging.getLogger("oculi.server")


class Link(Protocol):
    """The connection a session is attached to, as the session sees it."""

    def kick(self, error: ProtocolError) -> None:
        """End the connection with this error (the session is not affected)."""


class ServedSession:
    """See the module docstring; all methods run on the server's event loop."""

    def __init__(
        self,
        record: SessionRecord,
        runtime: Session,
        *,
        store: SessionStore,
        db: StoreThread,
        limits: Limits,
        outbox: list[OutMessage] | None = None,
        on_lost: Callable[[ServedSession], None] | None = None,
    ) -> None:
        self.record = record
        self.runtime = runtime
        self.limits = limits
        self.inbox = InputQueue(limits.max_pending_inputs)
        self.connection: Link | None = None
        self.ended = False
        self.lost = False
        """Another process took the session over: nothing more is written or sent from here."""
        self.owned = True
        """This process holds the session's claim; False once it released it (`release`)."""
        self.wanted_by: str | None = None
        """The server process that asked for the session while this one held it."""
        self.accepted = 0
        self.processed = 0
        self.recording = False
        self._store = store
        self._db = db
        self._outbox = {m.seq: m for m in outbox or []}
        self._changed = asyncio.Condition()
        self._emit_lock = asyncio.Lock()
        self._feeding: Event | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._on_lost = on_lost
        runtime.listen(self._on_event)
        self._worker = asyncio.create_task(self._work(), name=f"oculi-session-{record.id[:8]}")

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def device(self) -> str:
        return self.record.device

    @property
    def audio_channels(self) -> tuple[int, ...]:
        return tuple(sorted({1, self.runtime.profile.microphones.channels}))

    # --- device → server ------------------------------------------------------------------

    def expected_seq(self) -> int:
        return self.record.last_in + 1

    async def accept(self, seq: int, event: Event | None) -> None:
        """Take the device's message `seq` (the next one); `event` None: refused, seq used up.

        The seq is recorded before anything awaits, so a resend racing in on a newer connection
        is already seen as a duplicate."""
        self.record.last_in = seq
        self.accepted += 1
        session_id, claim = self.id, self.record.claim
        await self._write(lambda: self._store.accept(claim, session_id, seq))
        if event is not None:
            self._idle.clear()
            await self.inbox.put(event)

    async def ack(self, seq: int) -> None:
        """The device has every server message up to `seq`."""
        if seq >= self.record.next_out:
            raise ProtocolError(
                "bad_ack", f"ack {seq} is beyond the last message sent ({self.record.next_out - 1})"
            )
        if seq <= self.record.acked_out:
            return
        async with self._changed:
            self.record.acked_out = seq
            for done in [s for s in self._outbox if s <= seq]:
                del self._outbox[done]
            self._changed.notify_all()
        session_id, claim = self.id, self.record.claim
        await self._write(lambda: self._store.ack(claim, session_id, seq))

    # --- server → device ------------------------------------------------------------------

    async def send(self, build: Callable[[int], str | bytes]) -> int:
        """Give the next seq to a message, keep it until acked, and let the pump send it."""
        async with self._emit_lock:
            if self.ended or self.lost:
                return 0
            seq = self.record.next_out
            message = OutMessage(seq, build(seq))
            session_id, claim = self.id, self.record.claim
            await self._write(lambda: self._store.append(claim, session_id, message))
            self.record.next_out = seq + 1
            async with self._changed:
                self._outbox[seq] = message
                self._changed.notify_all()
            return seq

    async def emit(self, event: Event) -> int:
        return await self.send(lambda seq: output_frame(event, seq))

    async def announce_privacy(self, *, camera: bool, microphone: bool, reason: str = "") -> int:
        """Tell the device whether capture is on (its recording light); sent on every change."""
        recording = camera or microphone
        self.recording = recording
        body = {"type": "privacy", "recording": recording, "camera": camera,
                "microphone": microphone, "reason": reason}  # fmt: skip
        return await self.send(lambda seq: dumps(body | {"seq": seq}))

    async def next_to_send(self, after: int) -> OutMessage:
        """The message after `after` once it exists and the window has room for it.

        Raises `too_slow` when the window stays full (no acks) for `stall_s`, and
        `session_ended` when the session ends meanwhile."""
        loop = asyncio.get_running_loop()
        blocked_since: float | None = None
        async with self._changed:
            while True:
                if self.ended:
                    raise ProtocolError("session_ended", "the session has ended")
                message = self._outbox.get(after + 1)
                if message is None:
                    blocked_since = None
                    await self._changed.wait()
                    continue
                if message.seq - self.record.acked_out <= self.limits.window:
                    return message
                blocked_since = blocked_since or loop.time()
                left = self.limits.stall_s - (loop.time() - blocked_since)
                if left <= 0:
                    raise ProtocolError(
                        "too_slow",
                        f"{self.limits.window} messages waited for an ack for"
                        f" {self.limits.stall_s:g} s; resume to get them",
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), left)

    def unacked(self) -> int:
        return len(self._outbox)

    # --- ownership ----------------------------------------------------------------------------

    async def _write(self, work: Callable[[], None]) -> None:
        """A store write under this session's claim; a refused one means another process has
        the session now: `replaced` for the connection, and the hub lets the session go."""
        try:
            await self._db.run(work)
        except Superseded as err:
            if not self.lost:
                self.lost = True
                log.info("session %s: %s", self.id, err)
                if self._on_lost is not None:
                    self._on_lost(self)
            raise ProtocolError(
                "replaced", "another server process has taken this session over"
            ) from err

    async def settled(self) -> None:
        """Return once every input taken so far has been processed (or the session stopped)."""
        while True:
            await self._idle.wait()
            if self.ended or (not self.inbox and self._feeding is None):
                return
            self._idle.clear()

    # --- the runtime ----------------------------------------------------------------------

    async def _work(self) -> None:
        while not self.lost:
            event = await self.inbox.get()
            self._feeding = event
            try:
                await self.runtime.feed(event)
            except OculiError as err:  # includes `replaced` once lost: nothing to tell then
                await self._emit_quietly(ErrorEvent(stage="server", message=str(err)))
            except Exception as err:  # a bug must not end the wearer's session
                log.exception("session %s failed on %s", self.id, event.kind)
                await self._emit_quietly(
                    ErrorEvent(stage="server", message=f"internal error: {err!r}")
                )
            finally:
                self._feeding = None
                self.processed += 1
                if not self.inbox:
                    self._idle.set()

    async def _emit_quietly(self, event: Event) -> None:
        with contextlib.suppress(ProtocolError):
            await self.emit(event)

    async def _on_event(self, event: Event) -> None:
        if event is self._feeding:
            return
        await self.emit(event)
        if isinstance(event, RecordingState):  # the privacy gate's decision: the device's light
            await self.announce_privacy(
                camera=event.camera, microphone=event.microphone, reason=event.reason
            )

    async def stop(self) -> None:
        """Stop working and wake every waiting pump; the runtime is closed off the loop."""
        if self.ended:
            return
        self.ended = True
        self._worker.cancel()
        await asyncio.gather(self._worker, return_exceptions=True)
        self._idle.set()
        async with self._changed:
            self._changed.notify_all()
        await asyncio.to_thread(self.runtime.close)

    def stats(self) -> dict[str, int | str]:
        return {
            "type": "stats",
            "session": self.id,
            "accepted": self.accepted,
            "processed": self.processed,
            "video_dropped": self.inbox.video_dropped,
            "pending": len(self.inbox),
            "unacked": self.unacked(),
        }
