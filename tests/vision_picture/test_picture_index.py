"""The picture index finds drawn packs in camera-like photos, persists, and grows photo by photo."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from conftest import PACKS, UNKNOWN
from oculi.errors import PerceptionError
from oculi.vision.picture import PictureIndex
from oculi.vision.synthetic import PackSpec, draw_pack, render_pack_photo


def _photo(spec: PackSpec, seed: int, neighbour: PackSpec | None = None) -> Image.Image:
    return render_pack_photo(spec, rotate_deg=-12 + 6 * seed, blur=0.6 + 0.4 * (seed % 3),
                             seed=seed, neighbour=neighbour)  # fmt: skip


def test_each_pack_is_recognised_in_a_turned_blurred_shop_photo(pack_index: PictureIndex) -> None:
    for seed, spec in enumerate(PACKS):
        neighbour = PACKS[(seed + 2) % len(PACKS)]
        ranked = pack_index.query(_photo(spec, seed, neighbour), gaze=(0.55, 0.5), top_k=3)
        assert ranked[0][0] == spec.gtin
        assert all(0.0 <= score <= 1.0 for _, score in ranked)
        assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_index_reopens_with_the_same_answers(pack_index: PictureIndex) -> None:
    photo = _photo(PACKS[1], 3)
    before = pack_index.query(photo, gaze=(0.55, 0.5))
    reopened = PictureIndex.open(pack_index.folder)
    assert len(reopened) == len(PACKS)
    assert reopened.query(photo, gaze=(0.55, 0.5)) == before
    reopened.compact()
    compacted = PictureIndex.open(pack_index.folder).query(photo, gaze=(0.55, 0.5))
    assert compacted[0][0] == before[0][0]


def test_adding_a_photo_leaves_the_base_untouched(pack_index: PictureIndex) -> None:
    pack_index.compact()
    base = sorted(p.name for p in pack_index.folder.glob("base-*"))
    stamps = [(pack_index.folder / name).stat().st_mtime_ns for name in base]
    pack_index.add(UNKNOWN.gtin, draw_pack(UNKNOWN))
    assert sorted(p.name for p in pack_index.folder.glob("base-*")) == base
    assert [(pack_index.folder / n).stat().st_mtime_ns for n in base] == stamps
    reopened = PictureIndex.open(pack_index.folder)
    assert len(reopened) == len(PACKS) + 1
    assert reopened.query(_photo(UNKNOWN, 1), gaze=(0.55, 0.5))[0][0] == UNKNOWN.gtin


def test_gaze_picks_the_pack_looked_at(pack_index: PictureIndex) -> None:
    frame = Image.new("RGB", (1280, 720), (120, 110, 90))
    left, right = PACKS[0], PACKS[3]
    for spec, x in ((left, 90), (right, 770)):
        frame.paste(draw_pack(spec).convert("RGB").resize((380, 470)), (x, 125))
    assert pack_index.query(frame, gaze=(0.22, 0.5))[0][0] == left.gtin
    assert pack_index.query(frame, gaze=(0.75, 0.5))[0][0] == right.gtin


def test_an_unknown_product_scores_below_a_known_one(pack_index: PictureIndex) -> None:
    known = [pack_index.query(_photo(spec, i), gaze=(0.55, 0.5))[0][1]
             for i, spec in enumerate(PACKS)]  # fmt: skip
    unknown = pack_index.query(_photo(UNKNOWN, 2), gaze=(0.55, 0.5))
    assert unknown[0][1] < min(known)
    assert unknown[0][1] < 0.5


def test_sync_adds_each_catalog_photo_once(
    tmp_path: Path, pack_images: dict[str, Image.Image]
) -> None:
    photos = []
    for gtin, image in list(pack_images.items())[:3]:
        path = tmp_path / "photos" / f"{gtin}.png"
        path.parent.mkdir(exist_ok=True)
        image.save(path)
        photos.append((gtin, path))
    index = PictureIndex.open(tmp_path / "pictures")
    ticks: list[int] = []
    assert index.sync(photos, progress=lambda: ticks.append(1)) == 3
    assert len(ticks) == 3
    assert PictureIndex.open(tmp_path / "pictures").sync(photos) == 0
    assert index.query(_photo(PACKS[2], 0), gaze=(0.55, 0.5))[0][0] == PACKS[2].gtin


def test_a_bad_catalog_photo_is_named_and_nothing_is_written(
    tmp_path: Path, pack_images: dict[str, Image.Image]
) -> None:
    good = tmp_path / "good.png"
    next(iter(pack_images.values())).save(good)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    index = PictureIndex.open(tmp_path / "pictures")
    with pytest.raises(PerceptionError, match=r"bad\.jpg"):
        index.sync([("a", good), ("b", bad)])
    assert len(PictureIndex.open(tmp_path / "pictures")) == 0


def test_empty_index_and_unreadable_query(tmp_path: Path) -> None:
    index = PictureIndex.open(tmp_path / "pictures")
    assert index.query(_photo(PACKS[0], 0)) == []
    with pytest.raises(PerceptionError, match="too small"):
        index.query(Image.new("RGB", (4, 4)))
