"""The picture index on disk: a manifest, one consolidated base, and one small file per photo
added since.

Adding a photo writes its own file and a new manifest, never the base; consolidating (a new
base and its kd-forest, written under new names) happens when the added photos grow or on
demand. The manifest is replaced last and atomically, so a crash leaves the previous index
whole. Checksums guard the base and the forest, because OpenCV's loader trusts its input.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from oculi.errors import CatalogError
from oculi.vision.picture.features import COLOUR_SIZE, Features

MANIFEST = "manifest.json"
FORMAT = 1
"""Bump when the files change shape; an index of another format must be rebuilt."""


class PictureIndexError(CatalogError):
    """The picture index folder is damaged or not a picture index; rebuild it with `sync`."""


@dataclass
class PhotoArrays:
    """Photos as flat arrays: descriptors of all photos one after another."""

    descriptors: npt.NDArray[np.uint8] = field(default_factory=lambda: np.zeros((0, 128), np.uint8))
    points: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    descriptor_photo: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    """Which photo (0-based within these arrays) each descriptor comes from."""
    colours: npt.NDArray[np.float32] = field(
        default_factory=lambda: np.zeros((0, COLOUR_SIZE), np.float32)
    )

    @property
    def photo_count(self) -> int:
        return len(self.colours)

    @classmethod
    def of(cls, features: Features) -> PhotoArrays:
        return cls(
            features.descriptors,
            features.points,
            np.zeros(len(features), np.int32),
            features.colour[None, :],
        )

    @classmethod
    def join(cls, parts: list[PhotoArrays]) -> PhotoArrays:
        if not parts:
            return cls()
        offsets = np.cumsum([0] + [p.photo_count for p in parts[:-1]])
        return cls(
            np.concatenate([p.descriptors for p in parts]),
            np.concatenate([p.points for p in parts]),
            np.concatenate(
                [p.descriptor_photo + int(o) for p, o in zip(parts, offsets, strict=True)]
            ).astype(np.int32),
            np.concatenate([p.colours for p in parts]),
        )

    def save(self, path: Path) -> str:
        """Write atomically; returns the file's SHA-256."""
        with _atomic(path) as tmp, tmp.open("wb") as out:
            np.savez(out, descriptors=self.descriptors, points=self.points,
                     descriptor_photo=self.descriptor_photo, colours=self.colours)  # fmt: skip
        return sha256(path)

    @classmethod
    def load(cls, path: Path, expected_sha: str | None = None) -> PhotoArrays:
        if not path.is_file():
            raise PictureIndexError(f"picture index file {path} is missing")
        if expected_sha is not None and sha256(path) != expected_sha:
            raise PictureIndexError(f"picture index file {path} is damaged (checksum differs)")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = cls(data["descriptors"], data["points"], data["descriptor_photo"],
                             data["colours"])  # fmt: skip
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as err:
            raise PictureIndexError(f"picture index file {path} cannot be read: {err}") from err
        arrays.check(path)
        return arrays

    def check(self, path: Path) -> None:
        n = len(self.descriptors)
        ok = (
            self.descriptors.dtype == np.uint8
            and self.descriptors.shape == (n, 128)
            and self.points.shape == (n, 2)
            and self.descriptor_photo.shape == (n,)
            and self.colours.ndim == 2
            and self.colours.shape[1] == COLOUR_SIZE
            and (n == 0 or int(self.descriptor_photo.min()) >= 0)
            and (n == 0 or int(self.descriptor_photo.max()) < len(self.colours))
        )
        if not ok:
            raise PictureIndexError(f"picture index file {path} has arrays of the wrong shape")


@dataclass
class Manifest:
    """What the folder holds; the only file rewritten on every change."""

    products: list[str] = field(default_factory=list)
    photo_product: list[int] = field(default_factory=list)
    """Product number of each photo, base photos first, then added ones in order."""
    photo_keys: list[str] = field(default_factory=list)
    """A key per photo (file path and stamp, or pixel hash), so `sync` adds each only once."""
    base: str | None = None
    base_sha: str | None = None
    tree: str | None = None
    tree_sha: str | None = None
    base_photos: int = 0
    added: list[str] = field(default_factory=list)
    generation: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "products": self.products, "photo_product": self.photo_product,
                "photo_keys": self.photo_keys, "base": self.base, "base_sha": self.base_sha,
                "tree": self.tree, "tree_sha": self.tree_sha, "base_photos": self.base_photos,
                "added": self.added, "generation": self.generation}  # fmt: skip

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise PictureIndexError(f"picture index manifest {path} cannot be read: {err}") from err
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            found = raw.get("format") if isinstance(raw, dict) else None
            raise PictureIndexError(
                f"picture index manifest {path} is format {found!r}, expected {FORMAT}; "
                "delete the folder and sync again"
            )
        try:
            manifest = cls(
                products=[str(p) for p in raw["products"]],
                photo_product=[int(p) for p in raw["photo_product"]],
                photo_keys=[str(k) for k in raw["photo_keys"]],
                base=raw["base"], base_sha=raw["base_sha"], tree=raw["tree"],
                tree_sha=raw["tree_sha"], base_photos=int(raw["base_photos"]),
                added=[str(a) for a in raw["added"]], generation=int(raw["generation"]),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as err:
            raise PictureIndexError(f"picture index manifest {path} lacks {err}") from err
        manifest.check(path)
        return manifest

    def check(self, path: Path) -> None:
        photos = len(self.photo_product)
        consistent = (
            len(self.photo_keys) == photos
            and self.base_photos + len(self.added) == photos
            and all(0 <= p < len(self.products) for p in self.photo_product)
            and (self.base is None) == (self.base_photos == 0)
        )
        if not consistent:
            raise PictureIndexError(f"picture index manifest {path} contradicts itself")

    def write(self, folder: Path) -> None:
        with _atomic(folder / MANIFEST) as tmp:
            tmp.write_text(json.dumps(self.to_json()), encoding="utf-8")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; move it over `path` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_path(path: Path) -> contextlib.AbstractContextManager[Path]:
    """Public form of the atomic-write helper, for files written by other code (the forest)."""
    return _atomic(path)
