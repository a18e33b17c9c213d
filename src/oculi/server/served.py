"""One device's session as the server serves it: the runtime, sequence numbers, outbox, inputs.

It lives across connections: a connection attaches to it, feeds it the device's messages and
pumps its outbox; when the connection drops, the session keeps working through what it was given
and keeps what it made until the device is back (or the resume window passes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from oculi.errors import OculiError
from oculi.events import ErrorEvent, Event
from oculi.runtime.session import Session
from oculi.server.errors import ProtocolError
from oculi.server.frames import output_frame
from oculi.server.inbox import InputQueue
from oculi.server.protocol import Limits, dumps
from oculi.server.store import OutMessage, SessionRecord, SessionStore, StoreThread

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
    ) -> None:
        self.record = record
        self.runtime = runtime
        self.limits = limits
        self.inbox = InputQueue(limits.max_pending_inputs)
        self.connection: Link | None = None
        self.ended = False
        self.accepted = 0
        self.processed = 0
        self.recording = False
        self._store = store
        self._db = db
        self._outbox = {m.seq: m for m in outbox or []}
        self._changed = asyncio.Condition()
        self._emit_lock = asyncio.Lock()
        self._feeding: Event | None = None
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
        session_id = self.id
        await self._db.run(lambda: self._store.accept(session_id, seq))
        if event is not None:
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
        session_id = self.id
        await self._db.run(lambda: self._store.ack(session_id, seq))

    # --- server → device ------------------------------------------------------------------

    async def send(self, build: Callable[[int], str | bytes]) -> int:
        """Give the next seq to a message, keep it until acked, and let the pump send it."""
        async with self._emit_lock:
            if self.ended:
                return 0
            seq = self.record.next_out
            message = OutMessage(seq, build(seq))
            self.record.next_out = seq + 1
            session_id = self.id
            await self._db.run(lambda: self._store.append(session_id, message))
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

    # --- the runtime ----------------------------------------------------------------------

    async def _work(self) -> None:
        while True:
            event = await self.inbox.get()
            self._feeding = event
            try:
                await self.runtime.feed(event)
            except OculiError as err:
                await self.emit(ErrorEvent(stage="server", message=str(err)))
            except Exception as err:  # a bug must not end the wearer's session
                log.exception("session %s failed on %s", self.id, event.kind)
                await self.emit(ErrorEvent(stage="server", message=f"internal error: {err!r}"))
            finally:
                self._feeding = None
                self.processed += 1

    async def _on_event(self, event: Event) -> None:
        if event is not self._feeding:
            await self.emit(event)

    async def stop(self) -> None:
        """Stop working and wake every waiting pump; the runtime is closed off the loop."""
        if self.ended:
            return
        self.ended = True
        self._worker.cancel()
        await asyncio.gather(self._worker, return_exceptions=True)
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
