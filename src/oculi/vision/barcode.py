"""Read the retail barcode the wearer looks at, with zxing-cpp.

The gaze point says which product matters: we search a window around it first (smaller, faster,
and free of the neighbours on the shelf), then the same window sharpened (a head-worn camera is
often slightly out of focus), and only then the whole frame.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
import zxingcpp
from PIL import Image, ImageFilter, UnidentifiedImageError

from oculi.errors import PerceptionError
from oculi.vision.gtin import normalise_gtin

RETAIL_FORMATS = zxingcpp.barcode_formats_from_str("EAN13,UPCA,EAN8,UPCE")
MAX_PIXELS = 40_000_000
"""Larger images are refused rather than risk running a small device out of memory."""


@dataclass(frozen=True)
class ReadCode:
    """A retail code found in a frame, with its centre as a fraction of the frame."""

    gtin: str
    symbology: str
    raw: str
    x: float
    y: float


def decode_image(data: bytes) -> Image.Image:
    """An encoded frame as a greyscale PIL image; anything unreadable raises PerceptionError."""
    if not data:
        raise PerceptionError("the frame is empty")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise PerceptionError(f"the frame is too large ({opened.width}x{opened.height})")
            opened.load()
            if opened.mode == "P":
                return opened.convert("RGBA").convert("L")
            return opened.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise PerceptionError(f"the frame could not be decoded as an image: {err}") from err


def read_codes_near(
    image: Image.Image, gaze: tuple[float, float] | None, window: float = 0.5
) -> list[ReadCode]:
    """Retail codes in the image, nearest to the gaze point first."""
    gx, gy = gaze if gaze is not None else (0.5, 0.5)
    box = _window_box(image, gx, gy, window) if window < 1.0 else (0, 0, image.width, image.height)
    codes = _read(image, box)
    if not codes:
        codes = _read(image, box, sharpen=True)
    if not codes and window < 1.0:
        codes = _read(image, (0, 0, image.width, image.height))
    return sorted(codes, key=lambda c: math.hypot(c.x - gx, c.y - gy))


def _window_box(
    image: Image.Image, gx: float, gy: float, window: float
) -> tuple[int, int, int, int]:
    w, h = image.width * window, image.height * window
    left = min(max(gx * image.width - w / 2, 0), image.width - w)
    top = min(max(gy * image.height - h / 2, 0), image.height - h)
    return int(left), int(top), int(left + w), int(top + h)


def _read(
    image: Image.Image, box: tuple[int, int, int, int], sharpen: bool = False
) -> list[ReadCode]:
    left, top = box[:2]
    region = image.crop(box) if box != (0, 0, image.width, image.height) else image
    if sharpen:
        region = region.filter(ImageFilter.UnsharpMask(radius=2, percent=200, threshold=0))
    pixels = np.asarray(region)
    found: list[ReadCode] = []
    for result in zxingcpp.read_barcodes(pixels, formats=RETAIL_FORMATS):
        symbology = str(result.format)
        try:
            gtin = normalise_gtin(result.text, symbology)
        except PerceptionError:
            continue
        pos = result.position
        corners = (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
        cx = left + sum(p.x for p in corners) / 4
        cy = top + sum(p.y for p in corners) / 4
        found.append(ReadCode(gtin, symbology, result.text, cx / image.width, cy / image.height))
    return found
