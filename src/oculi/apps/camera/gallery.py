"""The local photo gallery: image files in one folder, and a small SQLite index beside them.

The files are the truth: each is checked to decode before it is kept and appears under its final
name only once completely written (temporary file, then rename). The index (time, size,
dimensions) only saves opening every file; a damaged index is set aside and rebuilt from them.
"""

from __future__ import annotations

import io
import os
import re
import sqlite3
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from oculi.errors import OculiError

INDEX_NAME = "gallery.sqlite"
MAX_PHOTO_BYTES = 40 * 1024 * 1024
FORMATS = {"JPEG": ".jpg", "PNG": ".png"}
"""What cameras hand over; frames are stored as they came, never re-encoded."""
_PHOTO_NAME = re.compile(r"^IMG_(\d{8}_\d{6})_(\d{3})(-\d+)?\.(jpg|png)$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS photos (
    name TEXT PRIMARY KEY,
    taken REAL NOT NULL,
    bytes INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL
);
"""


class BrokenImage(OculiError):
    """The frame is not an image that decodes completely."""


class GalleryError(OculiError):
    """The gallery folder or its index cannot be used."""


@dataclass(frozen=True)
class Photo:
    name: str
    taken: float
    """Unix time."""
    bytes: int
    width: int
    height: int


def check_image(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of a frame that decodes completely; BrokenImage otherwise."""
    if not data:
        raise BrokenImage("the frame is empty")
    if len(data) > MAX_PHOTO_BYTES:
        raise BrokenImage(f"the frame is over {MAX_PHOTO_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format or ""
                image.load()  # decodes every pixel: a truncated JPEG fails here, not later
                width, height = image.size
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning) as err:
        raise BrokenImage(f"the frame does not decode ({err})") from err
    if kind not in FORMATS:
        raise BrokenImage(f"the frame is {kind or 'an unknown format'}, not JPEG or PNG")
    return kind, width, height


class Gallery:
    """Photos in `folder`, newest last, with an index that can always be rebuilt."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, data: bytes, taken: float | None = None) -> Photo:
        """Keep a frame under a timestamped name; nothing is written when it does not decode."""
        kind, width, height = check_image(data)
        taken = time.time() if taken is None else taken
        self._prepare()
        with self._index() as db:  # opened first: a new index is filled from the files there
            target = self._free_name(taken, FORMATS[kind])
            self._write_atomically(target, data)
            photo = Photo(target.name, taken, len(data), width, height)
            try:
                with db:
                    db.execute(
                        "INSERT INTO photos VALUES (?, ?, ?, ?, ?)",
                        (photo.name, photo.taken, photo.bytes, photo.width, photo.height),
                    )
            except sqlite3.Error:
                target.unlink(missing_ok=True)  # a photo the index does not know is not kept
                raise
        return photo

    def count(self) -> int:
        return len(self.photos())

    def last(self) -> Photo | None:
        found = self.photos()
        return found[-1] if found else None

    def photos(self) -> list[Photo]:
        """Every indexed photo still on disk, oldest first."""
        if not self.folder.is_dir():
            return []
        with self._index() as db:
            rows = db.execute("SELECT name, taken, bytes, width, height FROM photos").fetchall()
        found = [Photo(str(n), float(t), int(b), int(w), int(h)) for n, t, b, w, h in rows]
        found.sort(key=lambda p: (p.taken, p.name))
        return [p for p in found if (self.folder / p.name).is_file()]

    # --- files ---------------------------------------------------------------------------------

    def _prepare(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise GalleryError(f"cannot create the gallery folder: {err.strerror}") from err

    def _free_name(self, taken: float, suffix: str) -> Path:
        stamp = time.strftime("IMG_%Y%m%d_%H%M%S", time.localtime(taken))
        base = f"{stamp}_{int(taken * 1000) % 1000:03d}"
        candidate, n = self.folder / f"{base}{suffix}", 1
        while candidate.exists():
            n += 1
            candidate = self.folder / f"{base}-{n}{suffix}"
        return candidate

    def _write_atomically(self, target: Path, data: bytes) -> None:
        try:
            handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=target.suffix)
        except OSError as err:
            raise GalleryError(f"cannot write to the gallery: {err.strerror}") from err
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except OSError as err:
            Path(temp).unlink(missing_ok=True)
            raise GalleryError(f"cannot write to the gallery: {err.strerror}") from err

    # --- index ---------------------------------------------------------------------------------

    @contextmanager
    def _index(self) -> Iterator[sqlite3.Connection]:
        """The index, rebuilt from the files when it is missing a table or cannot be read."""
        path = self.folder / INDEX_NAME
        try:
            db = self._open(path)
        except sqlite3.DatabaseError:
            self._set_aside(path)
            try:
                db = self._open(path)
            except sqlite3.Error as err:
                raise GalleryError(f"the gallery index cannot be rebuilt: {err}") from err
        try:
            yield db
        except sqlite3.Error as err:
            raise GalleryError(f"the gallery index cannot be used: {err}") from err
        finally:
            db.close()

    def _open(self, path: Path) -> sqlite3.Connection:
        """The index with its table; a new one is filled from the files already there."""
        fresh = not path.exists()
        db = sqlite3.connect(path, timeout=5.0)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            if fresh:
                self._rebuild(db)
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _set_aside(self, path: Path) -> None:
        stamp = time.strftime("%Y%m%d%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            old = path.with_name(path.name + suffix)
            if old.exists():
                old.replace(path.with_name(f"{path.name}.damaged-{stamp}{suffix}"))

    def _rebuild(self, db: sqlite3.Connection) -> None:
        """Index every photo file in the folder; files that do not decode are left out."""
        rows = []
        for path in sorted(self.folder.iterdir()):
            if not _PHOTO_NAME.match(path.name):
                continue
            try:
                _, width, height = check_image(path.read_bytes())
                stat = path.stat()
            except (BrokenImage, OSError):
                continue
            rows.append((path.name, _taken(path.name, stat.st_mtime), stat.st_size, width, height))
        with db:
            db.executemany("INSERT OR REPLACE INTO photos VALUES (?, ?, ?, ?, ?)", rows)


def _taken(name: str, fallback: float) -> float:
    """When a photo was taken, from its name (the file's time changes when it is copied)."""
    match = _PHOTO_NAME.match(name)
    if match is None:
        return fallback
    try:
        stamp = time.mktime(time.strptime(match.group(1), "%Y%m%d_%H%M%S"))
    except (ValueError, OverflowError):
        return fallback
    return stamp + int(match.group(2)) / 1000
