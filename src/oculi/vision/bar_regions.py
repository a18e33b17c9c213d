"""Where a barcode seems to be in a frame, turned upright for the readers.

zxing scans rows: a code turned more than about 15° from level or from vertical is missed.
The structure tensor of the image finds patches with many parallel edges (the texture of
bars) and the direction across them, so each patch can be cut out with its quiet zones and
turned so its bars stand vertical, at a size the readers like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

Grey = np.ndarray[Any, np.dtype[Any]]
"""A greyscale image, uint8 (OpenCV's stubs type results loosely)."""
Floats = np.ndarray[Any, np.dtype[Any]]


@dataclass(frozen=True)
class BarcodeRegion:
    """Where a barcode seems to be: the bars' normal angle and the extent along and across it."""

    angle: float
    """Direction of the intensity gradient across the bars, radians (image axes)."""
    u: tuple[float, float]
    """Extent along the gradient (across the bars), in region pixels after rotation."""
    v: tuple[float, float]
    """Extent along the bars."""
    centre: tuple[float, float]


DETECT_SIDE = 400
"""Regions are found on a copy no larger than this (a gaze box of a 720p frame keeps bars
of 2 pixels or more a pixel wide); finer codes are left to the plain pass, which reads them."""
_WINDOW = 11
_MIN_COHERENCE = 0.8
_MIN_FREQUENCY = 8.0
_MIN_VARIANCE = 20.0
_MIN_SPAN_PX = 40.0
"""A retail code is 67 modules or more across: narrower patches are shelf edges or text."""


def barcode_regions(
    region: Grey, focus: tuple[float, float], *, coarse_retry: bool = True
) -> list[BarcodeRegion]:
    """Patches with many parallel edges (the texture of bars), nearest `focus` first.

    The structure tensor gives the dominant edge direction and how coherent it is; the ratio
    of gradient energy to intensity variance says how many edges there are per pixel, which
    separates a barcode from the single edge of a box or a shelf. That ratio depends on the
    bars' width in pixels, so with `coarse_retry` a code held close (wide bars) is looked for
    again at half size.
    """
    side = max(region.shape)
    found = _regions_at(region, min(1.0, DETECT_SIDE / side))
    if not found and coarse_retry and side > DETECT_SIDE / 2:
        found = _regions_at(region, min(1.0, DETECT_SIDE / 2 / side))
    return sorted(found, key=lambda r: math.hypot(r.centre[0] - focus[0], r.centre[1] - focus[1]))


def _regions_at(region: Grey, scale: float) -> list[BarcodeRegion]:
    height, width = region.shape
    small = region
    if scale < 1.0:
        size = (max(round(width * scale), 1), max(round(height * scale), 1))
        small = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
    image = small.astype(np.float32)
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)
    window = (_WINDOW, _WINDOW)
    energy = cv2.boxFilter(gx * gx + gy * gy, -1, window) + 1e-3
    diff = cv2.boxFilter(gx * gx - gy * gy, -1, window)
    jxy = cv2.boxFilter(gx * gy, -1, window)
    coherence = cv2.magnitude(diff, 2 * jxy) / energy
    mean = cv2.boxFilter(image, -1, window)
    variance = cv2.sqrBoxFilter(image, -1, window) - mean * mean
    frequency = energy / (variance + 1.0)
    barlike = (
        (coherence > _MIN_COHERENCE) & (frequency > _MIN_FREQUENCY) & (variance > _MIN_VARIANCE)
    ).astype(np.uint8)
    mask = cv2.morphologyEx(barlike, cv2.MORPH_OPEN, np.ones((_WINDOW, _WINDOW), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return []
    flat = labels.ravel()
    sum_xy = np.bincount(flat, weights=jxy.ravel(), minlength=count)
    sum_diff = np.bincount(flat, weights=diff.ravel(), minlength=count)
    found = []
    min_area = max(4 * _WINDOW * _WINDOW, 0.001 * mask.size)
    for label in range(1, count):
        left, top, w, h, area = (int(v) for v in stats[label])
        if area < min_area:
            continue
        angle = 0.5 * math.atan2(2 * sum_xy[label], sum_diff[label])
        ys, xs = np.nonzero(labels[top : top + h, left : left + w] == label)
        xs_full = (xs + left + 0.5) / scale
        ys_full = (ys + top + 0.5) / scale
        cos, sin = math.cos(angle), math.sin(angle)
        u = xs_full * cos + ys_full * sin
        v = -xs_full * sin + ys_full * cos
        if u.max() - u.min() < _MIN_SPAN_PX:
            continue
        found.append(
            BarcodeRegion(angle, (float(u.min()), float(u.max())), (float(v.min()), float(v.max())),
                          (float(xs_full.mean()), float(ys_full.mean())))
        )  # fmt: skip
    return found


_QUIET = 0.2
"""Margin added on each side across the bars, as a fraction of the region's width (quiet zone)."""
_UPRIGHT_WIDTH = (360.0, 900.0)
"""An upright crop is scaled into this width: about 3 to 9 pixels a bar module."""


def upright(region: Grey, found: BarcodeRegion) -> tuple[Grey, Floats]:
    """The barcode region turned so its bars stand vertical, with quiet zones, at a readable
    size; and the affine map from its pixels back to the region's."""
    u0, u1 = found.u
    v0, v1 = found.v
    span_u = u1 - u0
    span_v = v1 - v0
    u0, u1 = u0 - _QUIET * span_u - 8, u1 + _QUIET * span_u + 8
    v0, v1 = v0 - 0.1 * span_v - 4, v1 + 0.1 * span_v + 4
    width = u1 - u0
    scale = min(max(_UPRIGHT_WIDTH[0] / width, 1.0), 3.0)
    scale = min(scale, _UPRIGHT_WIDTH[1] / width)
    cos, sin = math.cos(found.angle), math.sin(found.angle)
    to_region = np.array(
        [[cos / scale, -sin / scale, u0 * cos - v0 * sin],
         [sin / scale, cos / scale, u0 * sin + v0 * cos]], dtype=np.float32
    )  # fmt: skip
    size = (max(round(width * scale), 8), max(round((v1 - v0) * scale), 8))
    turned: Grey = cv2.warpAffine(
        region, to_region, size,
        flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE,
    )  # fmt: skip
    return turned, to_region


MIN_BARS = 20
"""Dark-light swings along the middle scan line of an upright crop: an EAN-8 has 43, an
EAN-13 59; the edge of a box or a shelf a handful."""


def looks_like_bars(upright: Grey) -> bool:
    """Whether an upright crop has bars: its middle swings dark-light often enough, and the
    same way above and below the middle (bars are tall; the strokes of lettering are not).
    A cheap check that keeps the reading passes off shelf edges and printed words."""
    height = upright.shape[0]
    if height < 6:
        return False
    rows = upright.astype(np.float32)
    upper = rows[height // 5 : 2 * height // 5].mean(axis=0)
    middle = rows[2 * height // 5 : 3 * height // 5].mean(axis=0)
    lower = rows[3 * height // 5 : 4 * height // 5].mean(axis=0)
    if _swings(middle) < MIN_BARS:
        return False
    upper, lower = upper - upper.mean(), lower - lower.mean()
    spread = float(np.sqrt((upper * upper).sum() * (lower * lower).sum()))
    return spread > 0 and float((upper * lower).sum()) / spread >= MIN_BAR_AGREEMENT


MIN_BAR_AGREEMENT = 0.25
"""Correlation of the scan lines above and below the middle that bars reach; words don't."""


def _swings(profile: Floats) -> int:
    low, high = float(profile.min()), float(profile.max())
    if high - low < 8:
        return 0
    step = 0.12 * (high - low)
    swings, rising, extreme = 0, True, float(profile[0])
    for value in profile.tolist():
        if rising:
            if value > extreme:
                extreme = value
            elif value < extreme - step:
                swings, rising, extreme = swings + 1, False, value
        elif value < extreme:
            extreme = value
        elif value > extreme + step:
            swings, rising, extreme = swings + 1, True, value
    return swings
