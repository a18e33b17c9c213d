"""A damaged picture index folder is refused with a message naming what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oculi.vision.picture import PictureIndex, PictureIndexError


def test_a_folder_that_is_not_an_index_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(PictureIndexError, match="not a picture index"):
        PictureIndex.open(tmp_path)


def test_an_unreadable_manifest_is_refused(pack_index: PictureIndex) -> None:
    (pack_index.folder / "manifest.json").write_text("{not json")
    with pytest.raises(PictureIndexError, match=r"manifest\.json"):
        PictureIndex.open(pack_index.folder)


def test_a_manifest_of_another_format_is_refused(pack_index: PictureIndex) -> None:
    manifest = pack_index.folder / "manifest.json"
    raw = json.loads(manifest.read_text())
    raw["format"] = 99
    manifest.write_text(json.dumps(raw))
    with pytest.raises(PictureIndexError, match="format 99"):
        PictureIndex.open(pack_index.folder)


def test_a_truncated_base_is_refused(pack_index: PictureIndex) -> None:
    pack_index.compact()
    base = next(pack_index.folder.glob("base-*.npz"))
    base.write_bytes(base.read_bytes()[:100])
    with pytest.raises(PictureIndexError, match=base.name):
        PictureIndex.open(pack_index.folder)


def test_a_damaged_forest_is_refused_before_opencv_reads_it(pack_index: PictureIndex) -> None:
    pack_index.compact()
    forest = next(pack_index.folder.glob("base-*.flann"))
    data = bytearray(forest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    forest.write_bytes(bytes(data))
    with pytest.raises(PictureIndexError, match="damaged"):
        PictureIndex.open(pack_index.folder)


def test_a_missing_added_photo_is_refused(pack_index: PictureIndex) -> None:
    next(pack_index.folder.glob("added/*.npz")).unlink()
    with pytest.raises(PictureIndexError, match="missing"):
        PictureIndex.open(pack_index.folder)
