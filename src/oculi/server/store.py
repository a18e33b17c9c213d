"""Session records that outlive a connection: sequence numbers and the unacknowledged outbox.

A reconnecting device resumes from here, so nothing it sent is processed twice and nothing sent
to it is lost. The interface is narrow on purpose (create, look up, accept, append, ack, detach,
end, expire) so that another backend can sit behind it for servers that share sessions; the
default is one SQLite file in WAL mode. Calls are blocking: the server makes them on one thread
(`StoreThread`), in arrival order.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
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


class StoreError(OculiError):
    """The server's store could not be opened or written."""


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
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def create(self, record: SessionRecord) -> None:
        self._db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.id, record.device, record.profile, record.created_at, record.touched_at,
             record.last_in, record.next_out, record.acked_out, record.ended_at),
        )  # fmt: skip

    def get(self, session_id: str) -> SessionRecord | None:
        row = self._db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return SessionRecord(*row) if row else None

    def open_sessions(self, device: str) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM sessions WHERE device = ? AND ended_at IS NULL", (device,)
        )
        return [r[0] for r in rows]

    def accept(self, session_id: str, seq: int) -> None:
        """The device's message `seq` was accepted: a resend of it is ignored from now on."""
        self._db.execute("UPDATE sessions SET last_in = ? WHERE id = ?", (seq, session_id))

    def append(self, session_id: str, message: OutMessage) -> None:
        is_text = isinstance(message.frame, str)
        frame = message.frame.encode() if isinstance(message.frame, str) else message.frame
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT INTO outbox VALUES (?, ?, ?, ?)", (session_id, message.seq, is_text, frame)
            )
            self._db.execute(
                "UPDATE sessions SET next_out = ? WHERE id = ?", (message.seq + 1, session_id)
            )

    def ack(self, session_id: str, seq: int) -> None:
        """The device has every message up to `seq`: they need not be kept any longer."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM outbox WHERE session = ? AND seq <= ?", (session_id, seq))
            self._db.execute(
                "UPDATE sessions SET acked_out = max(acked_out, ?) WHERE id = ?", (seq, session_id)
            )

    def outbox(self, session_id: str) -> list[OutMessage]:
        rows = self._db.execute(
            "SELECT seq, is_text, frame FROM outbox WHERE session = ? ORDER BY seq", (session_id,)
        )
        return [OutMessage(seq, bytes(frame).decode() if is_text else bytes(frame))
                for seq, is_text, frame in rows]  # fmt: skip

    def touch(self, session_id: str, now: float) -> None:
        """A connection attached or detached: the resume window starts again."""
        self._db.execute("UPDATE sessions SET touched_at = ? WHERE id = ?", (now, session_id))

    def end(self, session_id: str, now: float) -> None:
        """The session is over: it cannot be resumed and its outbox is dropped."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM outbox WHERE session = ?", (session_id,))
            self._db.execute(
                "UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                (now, session_id),
            )

    def stale(self, touched_before: float) -> list[str]:
        """Open sessions nobody attached to since `touched_before`."""
        rows = self._db.execute(
            "SELECT id FROM sessions WHERE ended_at IS NULL AND touched_at < ?", (touched_before,)
        )
        return [r[0] for r in rows]


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
