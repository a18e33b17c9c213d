"""Paired devices: the Ed25519 public keys allowed to open sessions, kept with the sessions."""

from __future__ import annotations

from pathlib import Path

from oculi.server.store import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    id         TEXT PRIMARY KEY,
    public_key BLOB NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    paired_at  REAL NOT NULL
);
"""


class DeviceRegistry:
    """Who may connect; pairing a key twice changes nothing, so a device may retry."""

    def __init__(self, path: Path) -> None:
        self._db = connect(path)
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def pair(self, device: str, public_key: bytes, name: str, now: float) -> bool:
        """True when the key is new."""
        cursor = self._db.execute(
            "INSERT INTO devices VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (device, public_key, name, now),
        )
        return cursor.rowcount == 1

    def public_key(self, device: str) -> bytes | None:
        row = self._db.execute("SELECT public_key FROM devices WHERE id = ?", (device,)).fetchone()
        return bytes(row[0]) if row else None
