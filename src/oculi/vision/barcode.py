"""Read the retail barcode the wearer looks at: zxing-cpp first, then the passes it misses.

A head-worn camera sees codes turned at any angle, small, faint and slightly out of focus.
One plain zxing pass reads the easy ones in a few milliseconds; when it finds nothing we
look for regions that have the texture of a barcode (many parallel edges), turn each one
upright and read it again with contrast fixes and, when libzbar is installed, a second reader.
Passes run in order of what they found on real photos, and the first code whose check digit
holds wins: a code that fails its check digit is never trusted.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import zxingcpp
from PIL import Image, UnidentifiedImageError

from oculi.errors import PerceptionError
from oculi.vision.bar_regions import Floats, Grey, barcode_regions, looks_like_bars, upright
from oculi.vision.gaze import Box, gaze_boxes, gaze_point
from oculi.vision.gtin import normalise_gtin

cv2.setNumThreads(1)

try:
    from pyzbar import pyzbar as _pyzbar  # type: ignore[import-untyped]
except (ImportError, OSError):  # pyzbar missing, or installed without Debian's libzbar0
    _pyzbar = None

RETAIL_FORMATS = zxingcpp.barcode_formats_from_str("EAN13,UPCA,EAN8,UPCE")
MAX_PIXELS = 40_000_000
"""Larger images are refused rather than risk running a small device out of memory."""
CLOSE_UP_PIXELS = 300_000
"""A frame this small, read whole, is a close-up: it gets the whole-frame passes too."""
MAX_CANDIDATES = 3
"""Barcode-like regions tried per box, nearest the gaze first."""
ZBAR_AVAILABLE = _pyzbar is not None
"""Whether the second reader is here (pip `pyzbar` plus Debian `libzbar0`)."""


@dataclass(frozen=True)
class ReadCode:
    """A retail code found in a frame, with its centre as a fraction of the frame."""

    gtin: str
    symbology: str
    raw: str
    x: float
    y: float
    found_by: str = "zxing"
    """The pass that read it, for the benchmarks (`zxing`, `upright+clahe`, `zbar`…)."""


@dataclass(frozen=True)
class _Hit:
    gtin: str
    symbology: str
    raw: str
    x: float
    y: float


def decode_image(data: bytes, mode: str = "L") -> Image.Image:
    """An encoded frame as a PIL image (greyscale by default); unreadable raises PerceptionError."""
    if not data:
        raise PerceptionError("the frame is empty")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise PerceptionError(
                    f"the frame is too large ({opened.width}x{opened.height}, "
                    f"more than {MAX_PIXELS // 1_000_000} MP)"
                )
            if mode == "L" and opened.format == "JPEG":
                opened.draft("L", opened.size)  # decode the luma plane only: about 2x faster
            opened.load()
            if opened.mode in ("P", "PA"):
                return opened.convert("RGBA").convert(mode)
            return opened.convert(mode)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        raise PerceptionError(f"the frame could not be decoded as an image: {err}") from err


def read_codes_near(
    image: Image.Image,
    gaze: tuple[float, float] | None,
    window: float = 0.5,
    *,
    use_zbar: bool = True,
) -> list[ReadCode]:
    """Retail codes the wearer looks at, nearest to the gaze point first.

    The box around the gaze is read with every pass; the whole frame only when that found
    nothing, and with one plain pass (a code away from the gaze is not what was asked about,
    and the frame costs four times the box). A close-up (a small frame read whole, the code
    filling most of it) also gets the whole-frame contrast and scale passes that read most of
    zxing's hard photos.
    """
    grey = image if image.mode == "L" else image.convert("L")
    pixels: Grey = np.asarray(grey)
    gx, gy = gaze_point(gaze)
    boxes = gaze_boxes(grey.size, gaze, window)
    for index, box in enumerate(boxes):
        region = np.ascontiguousarray(pixels[box.top : box.bottom, box.left : box.right])
        focus = ((gx * grey.width - box.left), (gy * grey.height - box.top))
        thorough = index == 0
        close_up = len(boxes) == 1 and box.width * box.height <= CLOSE_UP_PIXELS
        zbar = use_zbar and ZBAR_AVAILABLE
        for name, hits in _passes(region, focus, thorough, close_up, zbar):
            if hits:
                codes = [_in_frame(hit, box, grey.size, name) for hit in hits]
                return sorted(codes, key=lambda c: math.hypot(c.x - gx, c.y - gy))
    return []


def read_codes_zxing(image: Image.Image) -> list[ReadCode]:
    """One plain zxing-cpp pass over the whole frame: the baseline the benchmark compares to."""
    grey = image if image.mode == "L" else image.convert("L")
    box = Box(0, 0, grey.width, grey.height)
    return [_in_frame(h, box, grey.size, "zxing") for h in _zxing(np.asarray(grey))]


def _in_frame(hit: _Hit, box: Box, size: tuple[int, int], name: str) -> ReadCode:
    x = (box.left + hit.x) / size[0]
    y = (box.top + hit.y) / size[1]
    return ReadCode(hit.gtin, hit.symbology, hit.raw, x, y, name)


# --- the passes, in order of payoff ------------------------------------------------------------


def _passes(
    region: Grey, focus: tuple[float, float], thorough: bool, close_up: bool, zbar: bool
) -> Iterator[tuple[str, list[_Hit]]]:
    """Each pass's name and what it read, lazily: the caller stops at the first hit."""
    yield "zxing", _zxing(region)
    if not thorough:
        return
    candidates = barcode_regions(region, focus, coarse_retry=close_up)
    for number, candidate in enumerate(candidates[:MAX_CANDIDATES]):
        turned, to_region = upright(region, candidate)
        if not looks_like_bars(turned):
            continue
        for name, enhance in _UPRIGHT_FIXES:
            hits = _zxing(enhance(turned))
            if hits:
                yield f"upright+{name}", [_moved(h, to_region) for h in hits]
                return
        if zbar and number == 0:
            yield "upright+zbar", [_moved(h, to_region) for h in _zbar(_clahe(turned))]
    if not close_up or not candidates:
        return
    for name, transform in _WHOLE_FIXES:
        scaled, factor = transform(region)
        yield name, [_scaled(h, factor) for h in _zxing(scaled)]
    if zbar:
        yield "zbar+clahe", _zbar(_clahe(region))


def _zxing(pixels: Grey) -> list[_Hit]:
    hits = []
    for result in zxingcpp.read_barcodes(pixels, formats=RETAIL_FORMATS):
        hit = _verified(result.text, str(result.format), result.position)
        if hit is not None:
            hits.append(hit)
    return hits


def _verified(text: str, symbology: str, position: Any) -> _Hit | None:
    try:
        gtin = normalise_gtin(text, symbology)
    except PerceptionError:
        return None
    corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    x = sum(p.x for p in corners) / 4
    y = sum(p.y for p in corners) / 4
    return _Hit(gtin, symbology, text, x, y)


_ZBAR_NAMES = {"EAN13": "EAN-13", "UPCA": "UPC-A", "EAN8": "EAN-8", "UPCE": "UPC-E"}


def _zbar(pixels: Grey) -> list[_Hit]:
    if _pyzbar is None:
        return []
    symbols = [_pyzbar.ZBarSymbol[name] for name in _ZBAR_NAMES]
    height, width = pixels.shape
    hits = []
    for result in _pyzbar.decode((pixels.tobytes(), width, height), symbols=symbols):
        symbology = _ZBAR_NAMES.get(result.type, result.type)
        try:
            gtin = normalise_gtin(result.data.decode("ascii"), symbology)
        except (PerceptionError, UnicodeDecodeError):
            continue
        rect = result.rect
        hits.append(
            _Hit(gtin, symbology, result.data.decode("ascii"),
                 rect.left + rect.width / 2, rect.top + rect.height / 2)
        )  # fmt: skip
    return hits


def _clahe(pixels: Grey) -> Grey:
    """Local contrast: faint or glossy labels under shop lights."""
    out: Grey = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(pixels)
    return out


def _threshold(pixels: Grey) -> Grey:
    """Adaptive binarisation: uneven light across the label."""
    out: Grey = cv2.adaptiveThreshold(
        pixels, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, 31, 5
    )
    return out


def _sharpen(pixels: Grey) -> Grey:
    """Unsharp mask: a head-worn camera is often slightly out of focus."""
    blurred = cv2.GaussianBlur(pixels, (0, 0), 2.0)
    out: Grey = cv2.addWeighted(pixels, 1.8, blurred, -0.8, 0)
    return out


def _resized(factor: float) -> Callable[[Grey], tuple[Grey, float]]:
    def resize(pixels: Grey) -> tuple[Grey, float]:
        interpolation = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
        out: Grey = cv2.resize(pixels, None, fx=factor, fy=factor, interpolation=interpolation)
        return out, factor

    return resize


def _unscaled(fix: Callable[[Grey], Grey]) -> Callable[[Grey], tuple[Grey, float]]:
    return lambda pixels: (fix(pixels), 1.0)


def _plain(pixels: Grey) -> Grey:
    return pixels


_UPRIGHT_FIXES: tuple[tuple[str, Callable[[Grey], Grey]], ...] = (
    ("plain", _plain),
    ("clahe", _clahe),
    ("threshold", _threshold),
    ("sharpen", _sharpen),
)
"""Tried on each barcode-like region once it is turned upright and scaled to a readable size."""

_WHOLE_FIXES: tuple[tuple[str, Callable[[Grey], tuple[Grey, float]]], ...] = (
    ("clahe", _unscaled(_clahe)),
    ("half size", _resized(0.5)),
    ("threshold", _unscaled(_threshold)),
    ("1.5x", _resized(1.5)),
    ("2x", _resized(2.0)),
)
"""Tried on a close-up when nothing else read it: what read most of zxing's hard photos."""


def _scaled(hit: _Hit, factor: float) -> _Hit:
    return _Hit(hit.gtin, hit.symbology, hit.raw, hit.x / factor, hit.y / factor)


def _moved(hit: _Hit, to_region: Floats) -> _Hit:
    x, y = to_region @ np.array([hit.x, hit.y, 1.0], dtype=np.float32)
    return _Hit(hit.gtin, hit.symbology, hit.raw, float(x), float(y))


def zbar_note() -> str:
    """Why the second reader is off, for benchmark notes and reports; empty when it is on."""
    if ZBAR_AVAILABLE:
        return ""
    return "pyzbar second reader off: install Debian libzbar0 (and pip pyzbar) to turn it on"
