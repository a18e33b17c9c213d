"""All sessions of one server process: open, resume or take over on a handshake, let go, end.

A device has at most one open session. A dropped connection leaves its session resumable for
`resume_s`; then the reaper ends it (a half-heard utterance is discarded with the runtime).

Several processes may share the store (behind a load balancer). Each session has an owner, the
process working on it, which renews its lease every third of `lease_s`. A detached session is
released once everything its device sent has been processed (its answers are in the store's
outbox), so whichever process the device comes back to claims it at once. A device that
resumes on another process while its owner still holds the session (a connection that still
looks open, inputs still being processed) makes that process ask the owner to hand it over — a
Redis notice, when `server.redis_url` is set, on which the owner closes its connection
(`replaced`), finishes what it took and releases — and waits up to `handover_s` for it (polling
the store without Redis); after that it claims the session anyway. A claim is a compare-and-set
on the record's generation, so two processes never both win; the loser's writes are refused from
then on, and it drops its copy of the session at once (told by Redis) or at its next lease
renewal (without Redis). A process that died holds nothing once its lease has lapsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
import weakref
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from oculi.events import ErrorEvent
from oculi.runtime.session import Session
from oculi.server.errors import ProtocolError
from oculi.server.peers import NoPeers, Notice, Peers
from oculi.server.protocol import Limits
from oculi.server.served import Link, ServedSession
from oculi.server.store import SessionRecord, SessionStore, StoreThread, Superseded

log = logging.getLogger("oculi.server")

CLAIM_TRIES = 3
POLL_S = 0.1
"""How often a process waiting for a hand-over looks at the store (a notice wakes it sooner)."""


@dataclass(frozen=True)
class Resume:
    """What a reconnecting device asks for: its session and the last server seq it has."""

    session: str
    last_seq: int


@dataclass(frozen=True)
class Ownership:
    """This process's name among those sharing the store, and how it holds sessions."""

    instance: str
    lease_s: float = 10.0
    handover_s: float = 5.0


def new_instance_id() -> str:
    return uuid.uuid4().hex[:12]


class SessionHub:
    """See the module docstring; every method runs on the server's event loop."""

    def __init__(
        self,
        store: SessionStore,
        db: StoreThread,
        make_runtime: Callable[[str], Session],
        limits: Limits,
        *,
        profile: str,
        clock: Callable[[], float] = time.time,
        reap_every_s: float = 5.0,
        ownership: Ownership | None = None,
        peers: Peers | None = None,
    ) -> None:
        self._store = store
        self._db = db
        self._make_runtime = make_runtime
        self._limits = limits
        self._profile = profile
        self._clock = clock
        self._reap_every_s = reap_every_s
        self.ownership = ownership or Ownership(new_instance_id())
        self.instance = self.ownership.instance
        self._peers = peers or NoPeers(self.instance)
        self._sessions: dict[str, ServedSession] = {}
        self._build_lock = asyncio.Lock()
        self._device_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._claiming: set[str] = set()
        self._released: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self._peers.start(self._on_notice)
        self._loops = [
            asyncio.create_task(self._every(self._reap_every_s, self.reap), name="oculi-reaper"),
            asyncio.create_task(
                self._every(self.ownership.lease_s / 3, self.renew), name="oculi-lease"
            ),
        ]

    @property
    def sessions(self) -> list[ServedSession]:
        return list(self._sessions.values())

    async def open(
        self, device: str, resume: Resume | None, link: Link, profile: str | None = None
    ) -> tuple[ServedSession, bool]:
        """The session this connection serves, and whether it is a resumed one; a new session
        runs for `profile` (the device's `hello`) or the server's. A resume keeps its own.

        One handshake per device at a time, so two connections of one device cannot both start
        a session here; across processes the store's compare-and-set decides."""
        async with self._device_lock(device):
            return await self._open(device, resume, link, profile)

    async def _open(
        self, device: str, resume: Resume | None, link: Link, profile: str | None = None
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
        session = await self._create(device, profile or self._profile)
        await self._attach(session, link)
        return session, False

    async def detach(self, session: ServedSession, link: Link) -> None:
        """The connection is gone: the resume window starts; the session is released once
        what the device sent has been processed."""
        if session.connection is not link:
            return
        session.connection = None
        if not await self._touch(session):
            return
        self._spawn(self._release_when_settled(session))

    async def end(self, session: ServedSession, reason: str) -> None:
        """End a session for good: its connection is closed, it cannot be resumed."""
        self._forget(session)
        if session.connection is not None:
            session.connection.kick(ProtocolError("session_ended", reason))
            session.connection = None
        await session.stop()
        session_id, claim, now = session.id, session.record.claim, self._clock()
        if await self._db.run(lambda: self._store.end(claim, session_id, now)):
            log.info("session %s of %s ended: %s", session.id, session.device, reason)

    async def reap(self) -> None:
        """End the sessions whose device stayed away past the resume window: those held here,
        and those in the store that this process owns or whose owner's lease has lapsed."""
        now = self._clock()
        cutoff = now - self._limits.resume_s
        for session in self.sessions:
            if session.connection is None and session.record.touched_at < cutoff:
                await self.end(session, "the device did not come back in time")
        keep = frozenset(self._sessions) | frozenset(self._claiming)
        await self._db.run(lambda: self._store.reap(cutoff, now, self.instance, keep))

    async def renew(self) -> None:
        """Extend this process's leases; let go of every session another process took over
        (or ended) meanwhile — without Redis, this is how a process finds out."""
        held = {s.id: s for s in self.sessions if s.id not in self._claiming}
        lease_until = self._clock() + self.ownership.lease_s
        found = await self._db.run(lambda: self._store.renew(self.instance, lease_until, held))
        for session_id, session in held.items():
            if self._sessions.get(session_id) is not session or session_id in self._claiming:
                continue
            if found.get(session_id) != session.record.generation:
                await self._drop(session, "another server process took the session over")

    async def close(self) -> None:
        """Server shutdown: stop every session but keep it resumable from the store, released
        so that another process may take it up at once."""
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        await self._peers.close()
        for session in self.sessions:
            session.connection = None
            await session.stop()
            if session.owned and not session.lost and await self._touch(session):
                with contextlib.suppress(Superseded):
                    await self._release(session)
        self._sessions.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- resuming and claiming ----------------------------------------------------------------

    async def _resumable(self, device: str, session_id: str) -> ServedSession | None:
        held = self._sessions.get(session_id)
        if held is not None and held.device != device:
            return None
        if held is not None and held.connection is None and self._expired(held.record):
            await self.end(held, "the device did not come back in time")
            return None
        record = await self._db.run(lambda: self._store.get(session_id))
        if record is None or record.device != device or record.ended_at is not None:
            if held is not None:
                await self._drop(held, "the session ended elsewhere")
            return None
        if held is not None and held.owned and record.generation == held.record.generation:
            return held
        if self._expired(record):
            return None
        self._claiming.add(session_id)
        try:
            return await self._take_up(record, held)
        finally:
            self._claiming.discard(session_id)

    async def _take_up(
        self, record: SessionRecord, held: ServedSession | None
    ) -> ServedSession | None:
        claimed = await self._claim(record)
        if claimed is None:
            return None
        if held is not None and self._still_warm(held, claimed):
            held.record, held.owned, held.wanted_by = claimed, True, None
            log.info("session %s of %s claimed again here", claimed.id, claimed.device)
            return held
        if held is not None:
            await self._drop(held, "the session was taken up again from the store")
        session_id = claimed.id
        outbox = await self._db.run(lambda: self._store.outbox(session_id))
        session = ServedSession(
            claimed, await self._runtime(claimed.profile), store=self._store, db=self._db,
            limits=self._limits, outbox=outbox, on_lost=self._lost,
        )  # fmt: skip
        self._sessions[claimed.id] = session
        was = f" from {record.owner}" if record.owner not in (None, self.instance) else ""
        log.info("session %s of %s taken up from the store%s", claimed.id, claimed.device, was)
        return session

    @staticmethod
    def _still_warm(held: ServedSession, claimed: SessionRecord) -> bool:
        """This process released the session and nobody claimed it in between: its runtime
        (the dialogue so far) is as good as the store's record."""
        mine = held.record
        return (
            not held.ended
            and not held.lost
            and claimed.generation == mine.generation + 1
            and (claimed.last_in, claimed.next_out) == (mine.last_in, mine.next_out)
        )

    async def _claim(self, record: SessionRecord) -> SessionRecord | None:
        """Claim the session for this process once its owner has let go of it, or its lease
        has lapsed, or `handover_s` has passed; None when it ended meanwhile."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ownership.handover_s
        asked = ""
        for _ in range(CLAIM_TRIES):
            while record.held_by_other(self.instance, self._clock()):
                if loop.time() >= deadline:
                    log.warning(
                        "session %s: %s did not let go within %g s; taking it over",
                        record.id, record.owner, self.ownership.handover_s,
                    )  # fmt: skip
                    break
                if asked != record.owner and record.owner is not None:
                    asked = record.owner
                    await self._peers.tell(asked, "hand_over", record.id)
                await self._wait_for_release(record.id, min(POLL_S, deadline - loop.time()))
                fresh = await self._reread(record.id)
                if fresh is None:
                    return None
                record = fresh
            claim = functools.partial(
                self._store.claim, record.id, self.instance, record.generation,
                self._clock() + self.ownership.lease_s,
            )  # fmt: skip
            claimed = await self._db.run(claim)
            if claimed is not None:
                if record.owner not in (None, self.instance):
                    await self._peers.tell(record.owner, "claimed", record.id)
                return claimed
            fresh = await self._reread(record.id)
            if fresh is None:
                return None
            record = fresh
        raise ProtocolError("replaced", "the device connected to another server at the same time")

    async def _reread(self, session_id: str) -> SessionRecord | None:
        record = await self._db.run(lambda: self._store.get(session_id))
        return record if record is not None and record.ended_at is None else None

    async def _wait_for_release(self, session_id: str, timeout_s: float) -> None:
        released = self._released.setdefault(session_id, asyncio.Event())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(released.wait(), max(timeout_s, 0.001))
        finally:
            self._released.pop(session_id, None)

    # --- letting go ---------------------------------------------------------------------------

    async def _release_when_settled(self, session: ServedSession) -> None:
        await session.settled()
        async with self._device_lock(session.device):
            if (
                session.connection is not None
                or not session.owned
                or session.ended
                or self._sessions.get(session.id) is not session
            ):
                return
            try:
                await self._release(session)
            except Superseded:
                await self._drop(session, "another server process took the session over")

    async def _release(self, session: ServedSession) -> None:
        session_id, claim = session.id, session.record.claim
        await self._db.run(lambda: self._store.release(claim, session_id))
        session.owned = False
        session.record.lease_until = 0.0
        if session.wanted_by is not None:
            await self._peers.tell(session.wanted_by, "released", session_id)
            session.wanted_by = None

    def _lost(self, session: ServedSession) -> None:
        """A store write of the session was refused: another process has it now."""
        self._spawn(self._drop(session, "another server process took the session over"))

    async def _drop(self, session: ServedSession, reason: str) -> None:
        """Let go of a session without ending it: another process has it (or it ended)."""
        self._forget(session)
        if session.connection is not None:
            session.connection.kick(ProtocolError("replaced", reason))
            session.connection = None
        await session.stop()
        log.info("session %s of %s let go: %s", session.id, session.device, reason)

    def _forget(self, session: ServedSession) -> None:
        if self._sessions.get(session.id) is session:
            del self._sessions[session.id]

    async def _on_notice(self, notice: Notice) -> None:
        """Another process's notice (Redis): act on it now rather than at the next renewal."""
        if notice.kind == "released":
            if notice.session in self._released:
                self._released[notice.session].set()
            return
        session = self._sessions.get(notice.session)
        if notice.kind == "hand_over":
            if session is None or not session.owned:
                await self._peers.tell(notice.sender, "released", notice.session)
                return
            session.wanted_by = notice.sender
            if session.connection is not None:
                session.connection.kick(
                    ProtocolError("replaced", "the device connected again elsewhere")
                )
            return
        if session is not None and notice.session not in self._claiming:
            record = await self._db.run(lambda: self._store.get(notice.session))
            if record is None or record.ended_at is not None:
                await self._drop(session, "the session ended elsewhere")
            elif record.generation != session.record.generation:
                await self._drop(session, f"server process {notice.sender} took the session over")

    # --- inside -------------------------------------------------------------------------------

    def _device_lock(self, device: str) -> asyncio.Lock:
        lock = self._device_locks.get(device)
        if lock is None:
            lock = self._device_locks[device] = asyncio.Lock()
        return lock

    def _expired(self, record: SessionRecord) -> bool:
        return self._clock() - record.touched_at > self._limits.resume_s

    async def _create(self, device: str, profile: str) -> ServedSession:
        now = self._clock()
        record = SessionRecord(
            uuid.uuid4().hex, device, profile, now, now, owner=self.instance,
            lease_until=now + self.ownership.lease_s, generation=1,
        )  # fmt: skip
        runtime = await self._runtime(profile)
        await self._db.run(lambda: self._store.create(record))
        session = ServedSession(
            record, runtime, store=self._store, db=self._db, limits=self._limits,
            on_lost=self._lost,
        )  # fmt: skip
        self._sessions[record.id] = session
        for problem in runtime.start_errors:
            await session.emit(ErrorEvent(stage="apps", message=problem))
        log.info("session %s opened for %s", record.id, device)
        return session

    async def _runtime(self, profile: str) -> Session:
        """Sessions are built one at a time, off the loop: building reads config and files."""
        async with self._build_lock:
            return await asyncio.to_thread(self._make_runtime, profile)

    async def _attach(self, session: ServedSession, link: Link) -> None:
        previous = session.connection
        session.connection = link
        if previous is not None and previous is not link:
            previous.kick(ProtocolError("replaced", "the device connected again elsewhere"))
        if not await self._touch(session):
            raise ProtocolError("replaced", "another server process has taken this session over")

    async def _end_sessions_of(self, device: str, reason: str) -> None:
        for session in self.sessions:
            if session.device == device:
                await self.end(session, reason)
        now = self._clock()
        ended = await self._db.run(lambda: self._store.end_device(device, now))
        for session_id, owner in ended:
            if owner is not None and owner != self.instance:
                await self._peers.tell(owner, "ended", session_id)

    async def _touch(self, session: ServedSession) -> bool:
        """Restart the resume window; False (and the session let go) when it is not ours."""
        session_id, claim, now = session.id, session.record.claim, self._clock()
        try:
            await self._db.run(lambda: self._store.touch(claim, session_id, now))
        except Superseded:
            await self._drop(session, "another server process took the session over")
            return False
        session.record.touched_at = now
        return True

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _every(self, period_s: float, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        while True:
            await asyncio.sleep(period_s)
            try:
                await work()
            except Exception:
                log.exception("%s failed", getattr(work, "__name__", "periodic work"))
