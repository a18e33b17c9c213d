"""The barcode path: generated pack photos, gaze choosing between two products, real photos."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from oculi.errors import PerceptionError
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.vision.barcode import decode_image, read_codes_near
from oculi.vision.synthetic import PackSpec, ean13_modules, render_pack_photo, to_jpeg


def _spec(index: int) -> PackSpec:
    p = DEMO_PRODUCTS[index]
    return PackSpec(p.gtin, p.name, p.brand, p.colour)


@pytest.mark.parametrize("seed", range(6))
def test_generated_pack_photo_reads_back_its_gtin(seed: int) -> None:
    spec = _spec(seed)
    photo = render_pack_photo(spec, rotate_deg=-8 + 3 * seed, blur=0.6 + 0.2 * seed, seed=seed)
    codes = read_codes_near(decode_image(to_jpeg(photo)), (0.55, 0.5))
    assert codes, "no barcode found"
    assert codes[0].gtin == spec.gtin
    assert codes[0].symbology == "EAN-13"


def test_gaze_picks_the_product_looked_at_not_its_neighbour() -> None:
    looked_at, neighbour = _spec(0), _spec(1)
    photo = render_pack_photo(looked_at, neighbour=neighbour, centre=(0.6, 0.5), seed=3)
    image = decode_image(to_jpeg(photo))
    nearest = read_codes_near(image, (0.6, 0.5))[0]
    assert nearest.gtin == looked_at.gtin
    assert abs(nearest.x - 0.6) < 0.15


def test_frame_without_barcode_gives_nothing() -> None:
    blank = Image.new("RGB", (640, 480), (120, 90, 60))
    assert read_codes_near(blank.convert("L"), (0.5, 0.5)) == []


@pytest.mark.parametrize("data", [b"", b"not an image", b"\xff\xd8\xff\xe0" + b"\x00" * 40])
def test_unreadable_frame_raises_a_clear_error(data: bytes) -> None:
    with pytest.raises(PerceptionError, match="frame"):
        decode_image(data)


def test_truncated_jpeg_is_refused() -> None:
    photo = to_jpeg(render_pack_photo(_spec(2), size=(320, 240)))
    with pytest.raises(PerceptionError, match="could not be decoded"):
        decode_image(photo[: len(photo) // 3])


def test_ean13_encoding_has_95_modules_with_guards() -> None:
    modules = ean13_modules("4006381333931")
    assert len(modules) == 95
    assert modules.startswith("101") and modules.endswith("101")
    assert modules[45:50] == "01010"


@pytest.mark.parametrize(("folder", "must_pass"), [("ean13-2", 12), ("upca-2", 28)])
def test_real_barcode_photos_meet_zxing_own_detection_floor(
    shared_data: Path, folder: str, must_pass: int
) -> None:
    """zxing's black-box suite: our reader must decode at least as many as zxing requires."""
    images = sorted((shared_data / "barcodes" / "zxing_blackbox" / folder).glob("*.png"))
    assert images
    correct = 0
    for image_path in images:
        expected = image_path.with_suffix(".txt").read_text().strip().zfill(13)
        codes = read_codes_near(decode_image(image_path.read_bytes()), None, window=1.0)
        correct += any(c.gtin == expected for c in codes)
    assert correct >= must_pass, f"{correct}/{len(images)} decoded"
