"""The privacy audit log: one row per frame or recording offered to a recipient, released or not.

SQLite in WAL mode under the session's data folder (`DATA_DIR/privacy/audit.sqlite3`); each row
is written in its own transaction, so a crash leaves whole rows only. `read_audit` reads it back
for the wearer (or a test) without touching the writer.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from oculi.errors import OculiError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS releases (
    id INTEGER PRIMARY KEY,
    t REAL NOT NULL,
    recipient TEXT NOT NULL,
    recipient_kind TEXT NOT NULL,
    media TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    faces INTEGER NOT NULL,
    blurred INTEGER NOT NULL,
    allowed INTEGER NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS releases_t ON releases (t);
"""
_COLUMNS = "t, recipient, recipient_kind, media, bytes, faces, blurred, allowed, reason"


class AuditError(OculiError):
    """The audit log cannot be written or read; nothing is released without a record."""


@dataclass(frozen=True)
class AuditEntry:
    """One frame or recording offered to a recipient."""

    t: float
    """Unix time of the decision."""
    recipient: str
    """An app's name or an LLM endpoint's host."""
    recipient_kind: str
    """`app` (first party), `third_party` (an MCP server, another's app) or `llm`."""
    media: str
    """`frame` or `recording`."""
    bytes: int
    """Size of what was released (0 when refused)."""
    faces: int
    """Faces blurred in it."""
    blurred: bool
    allowed: bool
    reason: str
    """Why it was refused; empty when released."""


class AuditLog:
    """The writer: opened on first use, safe to call from the agent's threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def record(self, entry: AuditEntry) -> None:
        """Append one entry, atomically; AuditError when the log cannot be written."""
        try:
            with self._lock:
                db = self._open()
                with db:
                    db.execute(
                        f"INSERT INTO releases ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (entry.t, entry.recipient, entry.recipient_kind, entry.media,
                         entry.bytes, entry.faces, int(entry.blurred), int(entry.allowed),
                         entry.reason),
                    )  # fmt: skip
        except (sqlite3.Error, OSError) as err:
            raise AuditError(f"the privacy audit log {self.path} cannot be written: {err}") from err

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            self._db = db
        return self._db


def read_audit(
    path: Path, since: float | None = None, limit: int | None = None
) -> list[AuditEntry]:
    """Entries of the log at `path`, oldest first (the last `limit` when given); none when the
    log does not exist yet."""
    if not path.exists():
        return []
    query = f"SELECT {_COLUMNS} FROM releases WHERE t >= ? ORDER BY id DESC"
    params: tuple[float | int, ...] = (since if since is not None else float("-inf"),)
    if limit is not None:
        query += " LIMIT ?"
        params += (limit,)
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute(query, params).fetchall()
        finally:
            db.close()
    except sqlite3.Error as err:
        raise AuditError(f"the privacy audit log {path} cannot be read: {err}") from err
    return [
        AuditEntry(t, recipient, kind, media, size, faces, bool(blurred), bool(allowed), reason)
        for t, recipient, kind, media, size, faces, blurred, allowed, reason in reversed(rows)
    ]
