"""All sessions of one server: open or resume on a handshake, detach on a drop, end on expiry.

A device has at most one open session. A dropped connection leaves its session resumable for
`resume_s`; then the reaper ends it (a half-heard utterance is discarded with the runtime).
Sessions of a previous server process are taken up again from the store within that window.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from oculi.events import ErrorEvent
from oculi.runtime.session import Session
from oculi.server.errors import ProtocolError
from oculi.server.protocol import Limits
from oculi.server.served import Link, ServedSession
from oculi.server.store import SessionRecord, SessionStore, StoreThread

log = logging.getLogger("oculi.server")


@dataclass(frozen=True)
class Resume:
    """What a reconnecting device asks for: its session and the last server seq it has."""

    session: str
    last_seq: int


class SessionHub:
    """See the module docstring; every method runs on the server's event loop."""

    def __init__(
        self,
        store: SessionStore,
        db: StoreThread,
        make_runtime: Callable[[], Session],
        limits: Limits,
        *,
        profile: str,
        clock: Callable[[], float] = time.time,
        reap_every_s: float = 5.0,
    ) -> None:
        self._store = store
        self._db = db
        self._make_runtime = make_runtime
        self._limits = limits
        self._profile = profile
        self._clock = clock
        self._reap_every_s = reap_every_s
        self._sessions: dict[str, ServedSession] = {}
        self._build_lock = asyncio.Lock()
        self._open_lock = asyncio.Lock()
        self._reaper: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reaper = asyncio.create_task(self._reap_forever(), name="oculi-session-reaper")

    @property
    def sessions(self) -> list[ServedSession]:
        return list(self._sessions.values())

    async def open(
        self, device: str, resume: Resume | None, link: Link
    ) -> tuple[ServedSession, bool]:
        """The session this connection serves, and whether it is a resumed one.

        One handshake at a time, so two connections of one device cannot both start a session."""
        async with self._open_lock:
            return await self._open(device, resume, link)

    async def _open(
        self, device: str, resume: Resume | None, link: Link
    ) -> tuple[ServedSession, bool]:
        session = await self._resumable(device, resume.session) if resume else None
        if session is not None and resume is not None:
            if resume.last_seq >= session.record.next_out:
                raise ProtocolError(
                    "bad_message",
                    f"resume.last_seq {resume.last_seq} is beyond the last message sent"
                    f" ({session.record.next_out - 1})",
                    fatal=True,
                )
            await session.ack(resume.last_seq)
            await self._attach(session, link)
            return session, True
        await self._end_sessions_of(device, "the device started a new session")
        session = await self._create(device)
        await self._attach(session, link)
        return session, False

    async def detach(self, session: ServedSession, link: Link) -> None:
        """The connection is gone: the resume window starts."""
        if session.connection is not link:
            return
        session.connection = None
        await self._touch(session.record)

    async def end(self, session: ServedSession, reason: str) -> None:
        """End a session for good: its connection is closed, it cannot be resumed."""
        self._sessions.pop(session.id, None)
        if session.connection is not None:
            session.connection.kick(ProtocolError("session_ended", reason))
            session.connection = None
        await session.stop()
        session_id, now = session.id, self._clock()
        await self._db.run(lambda: self._store.end(session_id, now))
        log.info("session %s of %s ended: %s", session.id, session.device, reason)

    async def reap(self) -> None:
        """End the sessions whose device stayed away past the resume window."""
        cutoff = self._clock() - self._limits.resume_s
        for session in self.sessions:
            if session.connection is None and session.record.touched_at < cutoff:
                await self.end(session, "the device did not come back in time")
        stale = await self._db.run(lambda: self._store.stale(cutoff))
        now = self._clock()
        for session_id in stale:
            if session_id not in self._sessions:
                await self._db.run(functools.partial(self._store.end, session_id, now))

    async def close(self) -> None:
        """Server shutdown: stop every session but keep it resumable from the store."""
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for session in self.sessions:
            session.connection = None
            await session.stop()
            await self._touch(session.record)
        self._sessions.clear()

    # --- inside -----------------------------------------------------------------------------

    async def _resumable(self, device: str, session_id: str) -> ServedSession | None:
        session = self._sessions.get(session_id)
        if session is not None:
            if session.device != device:
                return None
            if session.connection is None and self._expired(session.record):
                await self.end(session, "the device did not come back in time")
                return None
            return session
        record = await self._db.run(lambda: self._store.get(session_id))
        if record is None or record.device != device or record.ended_at is not None:
            return None
        if self._expired(record):
            return None
        outbox = await self._db.run(lambda: self._store.outbox(session_id))
        session = ServedSession(
            record, await self._runtime(), store=self._store, db=self._db,
            limits=self._limits, outbox=outbox,
        )  # fmt: skip
        self._sessions[record.id] = session
        log.info("session %s of %s taken up from the store", record.id, device)
        return session

    def _expired(self, record: SessionRecord) -> bool:
        return self._clock() - record.touched_at > self._limits.resume_s

    async def _create(self, device: str) -> ServedSession:
        now = self._clock()
        record = SessionRecord(uuid.uuid4().hex, device, self._profile, now, now)
        runtime = await self._runtime()
        await self._db.run(lambda: self._store.create(record))
        session = ServedSession(
            record, runtime, store=self._store, db=self._db, limits=self._limits
        )
        self._sessions[record.id] = session
        for problem in runtime.start_errors:
            await session.emit(ErrorEvent(stage="apps", message=problem))
        log.info("session %s opened for %s", record.id, device)
        return session

    async def _runtime(self) -> Session:
        """Sessions are built one at a time, off the loop: building reads config and files."""
        async with self._build_lock:
            return await asyncio.to_thread(self._make_runtime)

    async def _attach(self, session: ServedSession, link: Link) -> None:
        previous = session.connection
        session.connection = link
        if previous is not None and previous is not link:
            previous.kick(ProtocolError("replaced", "the device connected again elsewhere"))
        await self._touch(session.record)

    async def _end_sessions_of(self, device: str, reason: str) -> None:
        for session in self.sessions:
            if session.device == device:
                await self.end(session, reason)
        open_ids = await self._db.run(lambda: self._store.open_sessions(device))
        now = self._clock()
        for session_id in open_ids:
            await self._db.run(functools.partial(self._store.end, session_id, now))

    async def _touch(self, record: SessionRecord) -> None:
        record.touched_at = now = self._clock()
        session_id = record.id
        await self._db.run(lambda: self._store.touch(session_id, now))

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self._reap_every_s)
            try:
                await self.reap()
            except Exception:
                log.exception("reaping sessions failed")
