"""The wearer's music: audio files in a folder, their tags indexed in SQLite.

Tags are read once per file with `mutagen` and kept in an index beside the library; a rescan
only reads files whose size or modification time changed, so a large library stays quick to
open. A file mutagen cannot read is counted and skipped, never fatal.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import mutagen

from oculi.errors import OculiError

AUDIO_SUFFIXES = frozenset({".mp3", ".flac", ".ogg", ".opus", ".m4a", ".wav"})
DB_NAME = ".oculi-music.sqlite"
SCHEMA_VERSION = 1
BATCH = 200
"""Files indexed per transaction: a long first scan keeps what it has read if it is cut off."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tracks (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    title TEXT NOT NULL,
    artist TEXT NOT NULL,
    album TEXT NOT NULL,
    genre TEXT NOT NULL,
    duration_s REAL NOT NULL,
    bpm REAL,
    track_no INTEGER
);
CREATE TABLE IF NOT EXISTS unreadable (
    path TEXT PRIMARY KEY,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vectors (
    track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    vector BLOB NOT NULL
);
"""


class LibraryError(OculiError):
    """The library folder or its index cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Track:
    id: int
    path: Path
    """Absolute path of the audio file."""
    title: str
    artist: str
    album: str
    genre: str
    duration_s: float
    bpm: float | None = None
    track_no: int | None = None

    def as_data(self) -> dict[str, Any]:
        """JSON-friendly form, for a reply's data."""
        data = asdict(self)
        data["path"] = str(self.path)
        return data

    @property
    def text(self) -> str:
        """What the track is, in words: matched against moods by meaning."""
        return " ".join(part for part in (self.title, self.artist, self.genre) if part)


@dataclass(frozen=True)
class ScanReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0
    """Audio files in the library whose tags could not be read (corrupt or not audio)."""

    @property
    def tracks(self) -> int:
        return self.added + self.updated + self.unchanged


@dataclass(frozen=True)
class Tags:
    title: str
    artist: str
    album: str
    genre: str
    duration_s: float
    bpm: float | None
    track_no: int | None


class MusicLibrary:
    """An index of one folder's audio files; each call opens its own connection (thread-safe)."""

    def __init__(self, folder: Path, db_path: Path | None = None) -> None:
        self.folder = folder
        self.db_path = db_path or folder / DB_NAME
        self._scan_lock = threading.Lock()
        self.scanned = False

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.db_path, timeout=10)) as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA foreign_keys=ON")
                if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                    db.executescript(_SCHEMA)
                    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                with db:
                    yield db
        except sqlite3.Error as err:
            raise LibraryError(f"the music index {self.db_path} cannot be used: {err}") from err
        except OSError as err:
            raise LibraryError(f"the music index {self.db_path} cannot be created: {err}") from err

    @property
    def scanning(self) -> bool:
        return self._scan_lock.locked()

    def scan(self) -> ScanReport:
        """Bring the index up to date with the folder: read new and changed files only."""
        if not self.folder.is_dir():
            raise LibraryError(f"the music folder {self.folder} does not exist")
        with self._scan_lock:
            counts = {"added": 0, "updated": 0, "unchanged": 0, "removed": 0}
            with self._db() as db:
                known = {
                    row[0]: (row[1], row[2], kind)
                    for kind, table in (("track", "tracks"), ("bad", "unreadable"))
                    for row in db.execute(f"SELECT path, mtime_ns, size FROM {table}")
                }
            seen: set[str] = set()
            batch: list[tuple[str, os.stat_result, Tags | str]] = []
            for path in _audio_files(self.folder):
                rel = path.relative_to(self.folder).as_posix()
                try:
                    stat = path.stat()
                except OSError:
                    continue
                seen.add(rel)
                before = known.get(rel)
                if before is not None and before[:2] == (stat.st_mtime_ns, stat.st_size):
                    counts["unchanged"] += int(before[2] == "track")
                    continue
                tags = read_tags(path)
                was_track = before is not None and before[2] == "track"
                if isinstance(tags, Tags):
                    counts["updated" if was_track else "added"] += 1
                elif was_track:
                    counts["removed"] += 1
                batch.append((rel, stat, tags))
                if len(batch) >= BATCH:
                    self._store(batch)
                    batch = []
            self._store(batch)
            gone = [p for p in known if p not in seen]
            with self._db() as db:
                counts["removed"] += sum(1 for p in gone if known[p][2] == "track")
                db.executemany("DELETE FROM tracks WHERE path = ?", [(p,) for p in gone])
                db.executemany("DELETE FROM unreadable WHERE path = ?", [(p,) for p in gone])
                skipped = db.execute("SELECT COUNT(*) FROM unreadable").fetchone()[0]
            self.scanned = True
            return ScanReport(skipped=skipped, **counts)

    def _store(self, batch: Sequence[tuple[str, os.stat_result, Tags | str]]) -> None:
        if not batch:
            return
        with self._db() as db:
            for rel, stat, tags in batch:
                if isinstance(tags, str):
                    db.execute("DELETE FROM tracks WHERE path = ?", (rel,))
                    db.execute(
                        "INSERT OR REPLACE INTO unreadable VALUES (?, ?, ?, ?)",
                        (rel, stat.st_mtime_ns, stat.st_size, tags),
                    )
                    continue
                db.execute("DELETE FROM unreadable WHERE path = ?", (rel,))
                db.execute(
                    "INSERT INTO tracks (path, mtime_ns, size, title, artist, album, genre,"
                    " duration_s, bpm, track_no) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(path) DO UPDATE SET mtime_ns=excluded.mtime_ns,"
                    " size=excluded.size, title=excluded.title, artist=excluded.artist,"
                    " album=excluded.album, genre=excluded.genre, duration_s=excluded.duration_s,"
                    " bpm=excluded.bpm, track_no=excluded.track_no",
                    (
                        rel,
                        stat.st_mtime_ns,
                        stat.st_size,
                        tags.title,
                        tags.artist,
                        tags.album,
                        tags.genre,
                        tags.duration_s,
                        tags.bpm,
                        tags.track_no,
                    ),
                )
                db.execute(
                    "DELETE FROM vectors WHERE track_id = (SELECT id FROM tracks WHERE path = ?)",
                    (rel,),
                )

    def tracks(self) -> list[Track]:
        """Every indexed track, by artist, album and track number."""
        with self._db() as db:
            rows = db.execute(
                "SELECT id, path, title, artist, album, genre, duration_s, bpm, track_no"
                " FROM tracks ORDER BY artist, album, track_no, title"
            ).fetchall()
        return [
            Track(
                id=row[0],
                path=self.folder / row[1],
                title=row[2],
                artist=row[3],
                album=row[4],
                genre=row[5],
                duration_s=row[6],
                bpm=row[7],
                track_no=row[8],
            )
            for row in rows
        ]

    def unreadable(self) -> list[tuple[str, str]]:
        """Files skipped at the last scan, with why."""
        with self._db() as db:
            return [(r[0], r[1]) for r in db.execute("SELECT path, reason FROM unreadable")]

    def vectors(self, tracks: Sequence[Track]) -> dict[int, tuple[str, bytes]]:
        """Stored embeddings of these tracks (by id), with the text each was made from."""
        with self._db() as db:
            rows = db.execute("SELECT track_id, text, vector FROM vectors").fetchall()
        wanted = {t.id for t in tracks}
        return {r[0]: (r[1], r[2]) for r in rows if r[0] in wanted}

    def store_vectors(self, rows: Sequence[tuple[int, str, bytes]]) -> None:
        with self._db() as db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors SELECT ?, ?, ? WHERE EXISTS"
                " (SELECT 1 FROM tracks WHERE id = ?)",
                [(i, t, v, i) for i, t, v in rows],
            )


def _audio_files(folder: Path) -> Iterator[Path]:
    """Audio files under the folder, hidden files and folders left out, in a stable order."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in AUDIO_SUFFIXES:
                yield Path(root) / name


# --- tags ---------------------------------------------------------------------------------------

_ID3_FRAMES = {
    "title": "TIT2",
    "artist": "TPE1",
    "album": "TALB",
    "genre": "TCON",
    "bpm": "TBPM",
    "tracknumber": "TRCK",
}
_MP4_ATOMS = {
    "title": "\xa9nam",
    "artist": "\xa9ART",
    "album": "\xa9alb",
    "genre": "\xa9gen",
    "bpm": "tmpo",
    "tracknumber": "trkn",
}


def read_tags(path: Path) -> Tags | str:
    """The file's tags, falling back to its name for a missing title; or why it cannot be read."""
    try:
        audio = mutagen.File(path)
    except Exception as err:  # mutagen raises many kinds on damaged files
        return f"unreadable: {type(err).__name__}: {err}"[:200]
    if audio is None or audio.info is None:
        return "not a recognised audio file"
    length = float(getattr(audio.info, "length", 0.0) or 0.0)
    tags = audio.tags

    def tag(key: str) -> str:
        return _first(tags, key)

    title = tag("title") or _title_from_name(path)
    bpm = _number(tag("bpm"))
    number = _number(tag("tracknumber").split("/")[0])
    return Tags(
        title=title,
        artist=tag("artist"),
        album=tag("album"),
        genre=tag("genre").lower(),
        duration_s=round(length, 3),
        bpm=bpm,
        track_no=int(number) if number is not None else None,
    )


def _first(tags: Any, key: str) -> str:
    """The first value of a tag from ID3, MP4 or Vorbis-style tags, as text; '' when absent."""
    if tags is None:
        return ""
    candidates = [key, key.upper(), _ID3_FRAMES.get(key, ""), _MP4_ATOMS.get(key, "")]
    for name in candidates:
        try:
            value = tags[name] if name and name in tags else None
        except (KeyError, ValueError, TypeError):
            value = None
        if value is None:
            continue
        if hasattr(value, "text"):  # an ID3 frame
            value = value.text
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        if isinstance(value, tuple):  # MP4 track numbers are (n, total)
            value = value[0]
        text = str(value).strip()
        if text:
            return text
    return ""


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and 0 < value < 100_000 else None


def _title_from_name(path: Path) -> str:
    """'03 - Blue in Green.flac' → 'Blue in Green'."""
    stem = re.sub(r"^\s*\d{1,3}\s*[-._ ]\s*", "", path.stem)
    return " ".join(stem.replace("_", " ").split()) or path.stem
