"""Faces in a frame, found and blurred beyond recognition before the frame goes to a third party.

The detector is OpenCV's Haar cascades, frontal and profile (both ways): `cv2.CascadeClassifier`
with the cascade files OpenCV 4 bundles, or, on OpenCV 5 which ships neither, the same cascades
run by `oculi.privacy.cascade`. Each face is covered whole, with a margin, by a coarse mosaic
that is then smoothed: no detail of the face survives, and the rest of the frame is untouched.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from oculi.errors import OculiError
from oculi.privacy.cascade import Box, cascade

DETECT_SIDE = 640
"""Frames are searched at most this many pixels on their long side (boxes scaled back)."""
MIN_FACE = 24
"""Smallest face searched for, in pixels at the search size."""
MARGIN = 0.25
"""Each box grows by this fraction of its size on every side: hair, ears and chin too."""
MOSAIC_CELLS = 6
"""A face becomes this many cells across, then a blur: far too coarse to recognise anyone."""
JPEG_QUALITY = 90
MAX_PIXELS = 50_000_000

FRONTAL, PROFILE = "haarcascade_frontalface_default", "haarcascade_profileface"


class BrokenFrame(OculiError):
    """A frame that is not a readable image: it is refused, never released as it is."""


@dataclass(frozen=True)
class Blurred:
    """A frame after the face pass: the image to release and what was done to it."""

    image: bytes
    faces: tuple[Box, ...]
    """The boxes blurred (margin included), in the frame's pixels."""


def decode(image: bytes) -> npt.NDArray[Any]:
    """The frame as a BGR array; BrokenFrame when it is not a whole, readable image."""
    if not image:
        raise BrokenFrame("the frame is empty")
    buffer = np.frombuffer(image, dtype=np.uint8)
    if image[:2] == b"\xff\xd8" and image.rfind(b"\xff\xd9") < image.rfind(b"\xff\xda"):
        raise BrokenFrame("the frame is a truncated JPEG (its last scan has no end)")
    pixels = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if pixels is None or pixels.size == 0:
        raise BrokenFrame("the frame is not a readable JPEG or PNG image")
    if pixels.shape[0] * pixels.shape[1] > MAX_PIXELS:
        raise BrokenFrame(f"the frame is too large ({pixels.shape[1]}×{pixels.shape[0]})")
    return pixels


def find_faces(pixels: npt.NDArray[Any]) -> list[Box]:
    """Boxes around the faces in a BGR frame (frontal, and profiles facing either way)."""
    grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
    height, width = grey.shape
    scale = min(1.0, DETECT_SIDE / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    found = _detect(FRONTAL, grey) + _detect(PROFILE, grey)
    mirrored = _detect(PROFILE, np.ascontiguousarray(grey[:, ::-1]))
    found += [(grey.shape[1] - x - w, y, w, h) for x, y, w, h in mirrored]
    merged: list[Box] = []
    for box in found:
        if all(_overlap(box, kept) < 0.3 for kept in merged):
            merged.append(box)
    return [
        (round(x / scale), round(y / scale), round(w / scale), round(h / scale))
        for x, y, w, h in merged
    ]


def blur_faces(image: bytes) -> Blurred:
    """The frame with every face found blurred, re-encoded as JPEG; the same bytes when there is
    none. BrokenFrame when it cannot be read (nothing is released then)."""
    pixels = decode(image)
    faces = find_faces(pixels)
    if not faces:
        return Blurred(image, ())
    covered = tuple(_cover(pixels, box) for box in faces)
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise BrokenFrame("the blurred frame could not be encoded")
    return Blurred(encoded.tobytes(), covered)


def _cover(pixels: npt.NDArray[Any], box: Box) -> Box:
    """Mosaic and smooth the box grown by the margin, in place; the box actually covered."""
    x, y, w, h = box
    dx, dy = round(w * MARGIN), round(h * MARGIN)
    left, top = max(0, x - dx), max(0, y - dy)
    right, bottom = min(pixels.shape[1], x + w + dx), min(pixels.shape[0], y + h + dy)
    region = pixels[top:bottom, left:right]
    across = max(1, min(MOSAIC_CELLS, region.shape[1]))
    down = max(1, round(across * region.shape[0] / max(1, region.shape[1])))
    cells = cv2.resize(region, (across, down), interpolation=cv2.INTER_AREA)
    mosaic = cv2.resize(cells, (region.shape[1], region.shape[0]), interpolation=cv2.INTER_NEAREST)
    soft = max(3, (region.shape[1] // across) | 1)
    region[:] = cv2.GaussianBlur(mosaic, (soft, soft), 0)
    return (left, top, right - left, bottom - top)


def _overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes: one face found by two cascades counts once."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / (a[2] * a[3] + b[2] * b[3] - w * h)


def _detect(name: str, grey: npt.NDArray[Any]) -> list[Box]:
    opencv = _opencv_cascade(name)
    if opencv is not None:
        boxes = opencv.detectMultiScale(grey, 1.2, 3, minSize=(MIN_FACE, MIN_FACE))
        return [(int(x), int(y), int(w), int(h)) for x, y, w, h in boxes]
    return cascade(name).detect(grey, 1.2, 3, MIN_FACE)


@functools.cache
def _opencv_cascade(name: str) -> Any:
    """OpenCV's own classifier and bundled file, where this OpenCV still has them (4.x)."""
    classifier = getattr(cv2, "CascadeClassifier", None)
    folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
    path = os.path.join(folder, f"{name}.xml")
    if classifier is None or not folder or not os.path.exists(path):
        return None
    loaded = classifier(path)
    return None if loaded.empty() else loaded
