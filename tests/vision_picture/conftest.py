"""Drawn packs and a small picture index of them, shared by the picture tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from oculi.vision.picture import PictureIndex
from oculi.vision.synthetic import PackSpec, draw_pack

PACKS = (
    PackSpec("4006381333931", "Oat Drink Barista", "Nordic Oats", (225, 180, 60)),
    PackSpec("5901234123457", "Dark Roast Beans", "Kaffa Hills", (90, 55, 30)),
    PackSpec("4012345678901", "Sparkling Lemon", "Clearspring", (40, 150, 200)),
    PackSpec("8711253001202", "Greek Yoghurt", "Olympia", (30, 90, 170)),
    PackSpec("7310865004703", "Basmati Rice", "Himala", (150, 30, 90)),
)
UNKNOWN = PackSpec("9780201379624", "Mango Chutney", "Spice Route", (60, 160, 60))


@pytest.fixture(scope="session")
def pack_images() -> dict[str, Image.Image]:
    return {p.gtin: draw_pack(p).convert("RGB") for p in PACKS}


@pytest.fixture
def pack_index(tmp_path: Path, pack_images: dict[str, Image.Image]) -> PictureIndex:
    index = PictureIndex.open(tmp_path / "catalog.db.pictures")
    for gtin, image in pack_images.items():
        index.add(gtin, image)
    return index
