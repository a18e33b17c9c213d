"""The multi-pass barcode reader: codes a single zxing pass misses, and codes never trusted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageDraw

from oculi.events import BarcodeSeen, Gaze, VideoFrame
from oculi.vision import barcode
from oculi.vision.bar_regions import looks_like_bars
from oculi.vision.barcode import ZBAR_AVAILABLE, decode_image, read_codes_near, read_codes_zxing
from oculi.vision.gaze import gaze_box, gaze_boxes
from oculi.vision.samples import hard_barcode_frame, pack_front, price_tag, shelf_frame
from oculi.vision.stage import VisionStage
from oculi.vision.synthetic import _L_CODES, _PARITY, to_jpeg

GTIN = "4006381333931"
HARD: dict[str, dict[str, Any]] = {
    "turned 30°": {"rotate_deg": 30},
    "turned 45°": {"rotate_deg": 45},
    "turned 60°": {"rotate_deg": 60},
    "turned 70°": {"rotate_deg": 70},
    "small and turned": {"module_px": 2, "rotate_deg": 40},
    "faint": {"contrast": 0.1},
    "faint and turned": {"contrast": 0.15, "rotate_deg": 35},
}


def _frame(seed: int = 0, **kwargs: Any) -> Image.Image:
    return decode_image(to_jpeg(hard_barcode_frame(GTIN, seed=seed, **kwargs)))


def test_hard_cases_defeat_a_single_zxing_pass() -> None:
    missed = sum(
        not any(c.gtin == GTIN for c in read_codes_zxing(_frame(**kw))) for kw in HARD.values()
    )
    assert missed >= len(HARD) - 1, "the generated hard cases are no longer hard for zxing"


@pytest.mark.parametrize("case", list(HARD))
def test_multi_pass_reads_what_zxing_alone_misses_without_zbar(case: str) -> None:
    codes = read_codes_near(_frame(**HARD[case]), (0.5, 0.5), use_zbar=False)
    assert codes and codes[0].gtin == GTIN
    assert abs(codes[0].x - 0.5) < 0.1 and abs(codes[0].y - 0.5) < 0.1


@pytest.mark.skipif(not ZBAR_AVAILABLE, reason="libzbar0 not installed: no second reader")
def test_zbar_second_reader_reads_a_blurred_code() -> None:
    frames = [_frame(seed=s, blur=2.0) for s in range(3)]
    assert sum(bool(read_codes_near(f, None)) for f in frames) >= 2


def test_rotated_code_off_centre_is_found_around_the_gaze() -> None:
    frame = decode_image(to_jpeg(hard_barcode_frame(GTIN, rotate_deg=50, centre=(0.3, 0.6))))
    codes = read_codes_near(frame, (0.3, 0.6), use_zbar=False)
    assert codes and codes[0].gtin == GTIN
    assert abs(codes[0].x - 0.3) < 0.1


def _ean13_with_check(digits: str, module_px: int = 3) -> Image.Image:
    """An EAN-13 symbol drawn from 13 digits as given, check digit unverified."""
    d = [int(c) for c in digits]
    left = ""
    for digit, kind in zip(d[1:7], _PARITY[d[0]], strict=True):
        code = _L_CODES[digit]
        left += code if kind == "L" else code.translate(str.maketrans("01", "10"))[::-1]
    right = "".join(_L_CODES[x].translate(str.maketrans("01", "10")) for x in d[7:])
    modules = "101" + left + "01010" + right + "101"
    quiet = 12 * module_px
    img = Image.new("L", (len(modules) * module_px + 2 * quiet, 120), 255)
    draw = ImageDraw.Draw(img)
    for i, bit in enumerate(modules):
        if bit == "1":
            x = quiet + i * module_px
            draw.rectangle([x, 10, x + module_px - 1, 110], 0)
    return img


def test_code_with_a_bad_check_digit_is_never_trusted() -> None:
    good = _ean13_with_check(GTIN)
    assert [c.gtin for c in read_codes_near(good, None)] == [GTIN]
    bad = _ean13_with_check(GTIN[:-1] + "2")
    assert read_codes_near(bad, None) == []
    turned = bad.rotate(40, expand=True, fillcolor=255)
    assert read_codes_near(turned, None) == []


def test_a_reader_reporting_a_bad_check_digit_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    corner = SimpleNamespace(x=10, y=10)
    position = SimpleNamespace(
        top_left=corner, top_right=corner, bottom_right=corner, bottom_left=corner
    )
    fake = SimpleNamespace(text=GTIN[:-1] + "5", format="EAN-13", position=position)
    monkeypatch.setattr(zxingcpp, "read_barcodes", lambda *a, **k: [fake])
    monkeypatch.setattr(barcode, "_pyzbar", None)
    assert read_codes_near(Image.new("L", (640, 480), 200), None) == []


def test_text_and_shelf_edges_are_not_taken_for_bars() -> None:
    pack = pack_front("Kaffa Hills", "Dark Roast Coffee Beans", "500 g")
    frame = shelf_frame([pack, price_tag(["€7.99", "15,98 €/kg"], size=26)], seed=2)
    assert read_codes_near(frame.convert("L"), (0.5, 0.5)) == []
    words = np.asarray(price_tag(["WWWWWWWWWWWW MMMMMMMMM"], size=40).convert("L"))
    assert not looks_like_bars(words)


def test_gaze_box_stays_inside_the_frame_and_widens_to_the_whole_frame() -> None:
    box = gaze_box((1280, 720), (0.98, 0.02), 0.5)
    assert (box.left, box.top, box.right, box.bottom) == (640, 0, 1280, 400)
    boxes = gaze_boxes((1280, 720), None)
    assert boxes[-1].as_tuple() == (0, 0, 1280, 720) and len(boxes) == 2
    assert len(gaze_boxes((480, 360), (0.5, 0.5))) == 1  # a close-up is read whole


def test_vision_stage_reports_a_turned_code_it_reads() -> None:
    stage = VisionStage()
    frame = to_jpeg(hard_barcode_frame(GTIN, rotate_deg=45, centre=(0.6, 0.5)))

    async def feed() -> list[object]:
        await stage(Gaze(x=0.6, y=0.5))
        return list(await stage(VideoFrame(image=frame)))

    seen = asyncio.run(feed())
    assert any(isinstance(e, BarcodeSeen) and e.gtin == GTIN for e in seen)


def test_multi_pass_beats_zxing_alone_on_real_photos(shared_data: Path) -> None:
    for folder in ("ean13-2", "upca-2"):
        images = sorted((shared_data / "barcodes" / "zxing_blackbox" / folder).glob("*.png"))
        alone = ours = 0
        for path in images:
            expected = path.with_suffix(".txt").read_text().strip().zfill(13)
            frame = decode_image(path.read_bytes())
            alone += any(c.gtin == expected for c in read_codes_zxing(frame))
            ours += any(c.gtin == expected for c in read_codes_near(frame, None, use_zbar=False))
        assert ours > alone, f"{folder}: multi-pass {ours} vs zxing alone {alone}"
