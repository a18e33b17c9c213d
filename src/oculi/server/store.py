"""Session records that outlive a connection: sequence numbers, the outbox, and who holds them.

A reconnecting device resumes from here, so nothing it sent is processed twice and nothing sent
to it is lost. Several server processes may share one store: each session has an owner (a
process's instance id) that renews a lease while it works on it; every write names the claim it
was made under (`Claim`) and is refused (`Superseded`) once another process has claimed the
session, so a process that lost a session cannot write into it. The interface is narrow on
purpose (create, claim, accept, append, ack, touch, release, renew, end, reap) so that another
backend can sit behind it; the default is one SQLite file in WAL mode, which processes on one
machine share. Calls are blocking: the server makes them on one thread (`StoreThread`), in
arrival order.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from oculi.errors import OculiError

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id          TEXT PRIMARY KEY,
    device      TEXT NOT NULL,
    profile     TEXT NOT NULL,
    created_at  REAL NOT NULL,
    touched_at  REAL NOT NULL,
    last_in     INTEGER NOT NULL,
    next_out    INTEGER NOT NULL,
    acked_out   INTEGER NOT NULL,
    ended_at    REAL
);
CREATE INDEX IF NOT EXISTS sessions_open ON sessions(device) WHERE ended_at IS NULL;
CREATE TABLE IF NOT EXISTS outbox (
    session  TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    is_text  INTEGER NOT NULL,
    frame    BLOB NOT NULL,
    PRIMARY KEY (session, seq)
) WITHOUT ROWID;
"""
OWNERSHIP = {"owner": "TEXT", "lease_until": "REAL NOT NULL DEFAULT 0",
             "generation": "INTEGER NOT NULL DEFAULT 0"}  # fmt: skip
"""Columns added to stores made before sessions had owners (a NULL owner: nobody holds it)."""
COLUMNS = ("id, device, profile, created_at, touched_at, last_in, next_out, acked_out, ended_at,"
           " owner, lease_until, generation")  # fmt: skip


class StoreError(OculiError):
    """The server's store could not be opened or written."""


class Superseded(StoreError):
    """Another server process claimed the session (or it ended): this one must let it go."""


def connect(path: Path) -> sqlite3.Connection:
    """A WAL-mode connection: readers never wait for the writer, commits skip the fsync."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
    except (OSError, sqlite3.Error) as err:
        raise StoreError(f"cannot open the server store {path}: {err}") from err
    return db


@dataclass
class SessionRecord:
    """One device session as the store keeps it."""

    id: str
    device: str
    profile: str
    created_at: float
    touched_at: float
    """When a connection last attached or detached: the resume window counts from here."""
    last_in: int = 0
    """The last device message accepted."""
    next_out: int = 1
    """The seq the next server message gets."""
    acked_out: int = 0
    """The last server message the device acknowledged."""
    ended_at: float | None = None
    owner: str | None = None
    """The server process working on the session (its instance id); None: nobody ever did."""
    lease_until: float = 0.0
    """The owner's hold lapses then unless renewed; 0 when it let the session go."""
    generation: int = 0
    """Counts claims: a write made under an older claim is refused."""

    @property
    def claim(self) -> Claim:
        return Claim(self.owner or "", self.generation)

    def held_by_other(self, owner: str, now: float) -> bool:
        """Another process holds the session and its lease still runs."""
        return self.owner not in (None, owner) and self.lease_until >= now


@dataclass(frozen=True)
class Claim:
    """Who writes, under which claim: the fence every write of a session's owner carries."""

    owner: str
    generation: int


@dataclass(frozen=True)
class OutMessage:
    """A sequenced server message exactly as it goes on the wire."""

    seq: int
    frame: str | bytes


class SessionStore:
    """Session records and outboxes in a SQLite file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path)
        try:
            self._db.executescript(SCHEMA)
            self._add_ownership()
        except sqlite3.Error as err:
            raise StoreError(f"cannot set up the server store {path}: {err}") from err

    def _add_ownership(self) -> None:
        known = {row[1] for row in self._db.execute("PRAGMA table_info(sessions)")}
        for column, kind in OWNERSHIP.items():
            if column not in known:
                self._db.execute(f"ALTER TABLE sessions ADD COLUMN {column} {kind}")

    def close(self) -> None:
        self._db.close()

    def create(self, record: SessionRecord) -> None:
        self._db.execute(
            f"INSERT INTO sessions ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.id, record.device, record.profile, record.created_at, record.touched_at,
             record.last_in, record.next_out, record.acked_out, record.ended_at, record.owner,
             record.lease_until, record.generation),
        )  # fmt: skip

    def get(self, session_id: str) -> SessionRecord | None:
        row = self._db.execute(
            f"SELECT {COLUMNS} FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        return SessionRecord(*row) if row else None

    def claim(
        self, session_id: str, owner: str, seen: int, lease_until: float
    ) -> SessionRecord | None:
        """Take the session over if nobody claimed it since generation `seen` was read
        (compare-and-set in one statement); None when somebody did, or it ended."""
        cursor = self._db.execute(
            "UPDATE sessions SET owner = ?, lease_until = ?, generation = generation + 1"
            " WHERE id = ? AND generation = ? AND ended_at IS NULL",
            (owner, lease_until, session_id, seen),
        )
        return self.get(session_id) if cursor.rowcount == 1 else None

    def accept(self, claim: Claim, session_id: str, seq: int) -> None:
        """The device's message `seq` was accepted: a resend of it is ignored from now on."""
        self._fenced(
            claim, session_id, "UPDATE sessions SET last_in = ? WHERE id = ?", (seq, session_id)
        )

    def append(self, claim: Claim, session_id: str, message: OutMessage) -> None:
        is_text = isinstance(message.frame, str)
        frame = message.frame.encode() if isinstance(message.frame, str) else message.frame
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._fenced(
                claim, session_id, "UPDATE sessions SET next_out = ? WHERE id = ?",
                (message.seq + 1, session_id),
            )  # fmt: skip
            self._db.execute(
                "INSERT INTO outbox VALUES (?, ?, ?, ?)", (session_id, message.seq, is_text, frame)
            )

    def ack(self, claim: Claim, session_id: str, seq: int) -> None:
        """The device has every message up to `seq`: they need not be kept any longer."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._fenced(
                claim, session_id,
                "UPDATE sessions SET acked_out = max(acked_out, ?) WHERE id = ?", (seq, session_id),
            )  # fmt: skip
            self._db.execute("DELETE FROM outbox WHERE session = ? AND seq <= ?", (session_id, seq))

    def outbox(self, session_id: str) -> list[OutMessage]:
        rows = self._db.execute(
            "SELECT seq, is_text, frame FROM outbox WHERE session = ? ORDER BY seq", (session_id,)
        )
        return [OutMessage(seq, bytes(frame).decode() if is_text else bytes(frame))
                for seq, is_text, frame in rows]  # fmt: skip

    def touch(self, claim: Claim, session_id: str, now: float) -> None:
        """A connection attached or detached: the resume window starts again."""
        self._fenced(
            claim, session_id, "UPDATE sessions SET touched_at = ? WHERE id = ?", (now, session_id)
        )

    def release(self, claim: Claim, session_id: str) -> None:
        """The owner is done with the session for now (detached, nothing left to process):
        any process may claim it at once."""
        self._fenced(
            claim, session_id, "UPDATE sessions SET lease_until = 0 WHERE id = ?", (session_id,)
        )

    def renew(self, owner: str, lease_until: float, held: Iterable[str]) -> dict[str, int]:
        """Extend the lease of every session `owner` works on; the generation of each `held`
        session that is still open (one missing from the answer has ended)."""
        self._db.execute(
            "UPDATE sessions SET lease_until = ? WHERE owner = ? AND lease_until > 0"
            " AND ended_at IS NULL",
            (lease_until, owner),
        )
        ids = list(held)
        found: dict[str, int] = {}
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            rows = self._db.execute(
                f"SELECT id, generation FROM sessions WHERE ended_at IS NULL AND id IN"
                f" ({', '.join('?' * len(batch))})",
                batch,
            )
            found.update(dict(rows.fetchall()))
        return found

    def end(self, claim: Claim, session_id: str, now: float) -> bool:
        """The session is over: it cannot be resumed and its outbox is dropped. False when it
        had ended already or another process has claimed it since."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute(
                "UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL"
                " AND owner IS ? AND generation = ?",
                (now, session_id, claim.owner or None, claim.generation),
            )
            if cursor.rowcount == 0:
                return False
            self._db.execute("DELETE FROM outbox WHERE session = ?", (session_id,))
        return True

    def end_device(self, device: str, now: float) -> list[tuple[str, str | None]]:
        """End every open session of `device` whoever holds it (the device started afresh);
        the sessions ended and their owners."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute(
                "SELECT id, owner FROM sessions WHERE device = ? AND ended_at IS NULL", (device,)
            ).fetchall()
            for session_id, _ in rows:
                self._end_now(session_id, now)
        return [(session_id, owner) for session_id, owner in rows]

    def reap(
        self, touched_before: float, now: float, owner: str, keep: frozenset[str]
    ) -> list[str]:
        """End the open sessions nobody attached to since `touched_before` that this process
        owns or whose owner's lease has lapsed (never one another live process works on),
        except those in `keep`."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute(
                "SELECT id FROM sessions WHERE ended_at IS NULL AND touched_at < ?"
                " AND (owner IS NULL OR owner = ? OR lease_until < ?)",
                (touched_before, owner, now),
            ).fetchall()
            ended = [r[0] for r in rows if r[0] not in keep]
            for session_id in ended:
                self._end_now(session_id, now)
        return ended

    def _end_now(self, session_id: str, now: float) -> None:
        self._db.execute("DELETE FROM outbox WHERE session = ?", (session_id,))
        self._db.execute("UPDATE sessions SET ended_at = ? WHERE id = ?", (now, session_id))

    def _fenced(self, claim: Claim, session_id: str, sql: str, args: tuple[object, ...]) -> None:
        """Run an UPDATE of one session only while `claim` still holds it, else `Superseded`."""
        cursor = self._db.execute(
            f"{sql} AND owner IS ? AND generation = ? AND ended_at IS NULL",
            (*args, claim.owner or None, claim.generation),
        )
        if cursor.rowcount == 0:
            raise Superseded(f"session {session_id} is no longer held by {claim.owner}")


class StoreThread:
    """Runs store calls on one thread, in the order they were made (SQLite has one writer)."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oculi-server-db")

    async def run(self, work: Callable[[], T]) -> T:
        """Shielded: a connection that drops mid-write does not leave a write half made."""
        job = asyncio.get_running_loop().run_in_executor(self._executor, work)
        return await asyncio.shield(job)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)
