"""What the picture path keeps of a photo: local features near the gaze and the pack's colours.

Shop photos share shelves with the catalog photos, so keypoints on the background vote for
whatever was photographed on that shelf; only the square around the gaze point (the centre
when there is none) is described, and keypoints near the gaze weigh most. Colour is kept apart
because flavour variants of one brand often differ only by it, which grey SIFT cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from oculi.errors import PerceptionError

ROI_SIDE = 348
"""Side (px) the square around the gaze is resized to: the Grocery Store photos' own size."""
MAX_FEATURES = 1000
"""SIFT keypoints kept per region, strongest first."""
DESCRIPTOR_SCALE = 512.0
"""RootSIFT values times this fit a byte (they rarely exceed 0.5): 4x smaller than float32."""
COLOUR_BINS = (12, 4, 4)
"""Hue x saturation bins, plus value bins, of the colour signature."""
THREADS = 2
"""OpenCV threads: the device has two cores shared with the other stages."""
PLAIN_BORDER_SHARE = 0.7
PLAIN_TOLERANCE = 20
"""A photo is on a plain background when this share of its outer ring is within this many
levels of the ring's median colour (packshots: 0.78-1.0; Grocery shop photos: at most 0.52)."""
MAX_PIXELS = 50_000_000
"""Larger photos are refused rather than decoded (a 50 MP frame is a mistake, not a product)."""

FloatArray = npt.NDArray[np.float32]
ByteArray = npt.NDArray[np.uint8]

_threads_pinned = False


def pin_threads() -> None:
    """Keep OpenCV to THREADS threads, once per process."""
    global _threads_pinned
    if not _threads_pinned:
        cv2.setNumThreads(THREADS)
        _threads_pinned = True


@dataclass(frozen=True)
class Features:
    """A photo as the index compares it."""

    points: FloatArray
    """(n, 2) keypoint positions as fractions of the region, (0.5, 0.5) being the gaze."""
    descriptors: ByteArray
    """(n, 128) RootSIFT descriptors, scaled by DESCRIPTOR_SCALE into bytes."""
    colour: FloatArray
    """Square-rooted, unit-sum colour histogram of the region's centre (Hellinger-ready)."""

    def __len__(self) -> int:
        return len(self.descriptors)


def to_rgb(image: Image.Image) -> npt.NDArray[np.uint8]:
    """The image as an RGB array; an empty, huge or unreadable image raises PerceptionError."""
    if image.width < 16 or image.height < 16:
        raise PerceptionError(f"the image is too small ({image.width}x{image.height}) to match")
    if image.width * image.height > MAX_PIXELS:
        raise PerceptionError(f"the image is too large ({image.width}x{image.height})")
    try:
        rgb = image.convert("RGB")
    except (OSError, ValueError) as err:
        raise PerceptionError(f"the image could not be read: {err}") from err
    return np.asarray(rgb, dtype=np.uint8)


def gaze_region(
    rgb: npt.NDArray[np.uint8], gaze: tuple[float, float] | None
) -> npt.NDArray[np.uint8]:
    """The largest square around the gaze (kept inside the frame), resized to ROI_SIDE."""
    height, width = rgb.shape[:2]
    gx, gy = gaze if gaze is not None else (0.5, 0.5)
    gx, gy = min(max(gx, 0.0), 1.0), min(max(gy, 0.0), 1.0)
    side = min(width, height)
    left = min(max(round(gx * width - side / 2), 0), width - side)
    top = min(max(round(gy * height - side / 2), 0), height - side)
    square = rgb[top : top + side, left : left + side]
    shrink = side > ROI_SIDE
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    resized = cv2.resize(square, (ROI_SIDE, ROI_SIDE), interpolation=interpolation)
    return np.ascontiguousarray(resized, dtype=np.uint8)


def packshot_region(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8] | None:
    """A product shot on a plain background, padded to a square; None for any other photo.

    Such photos (a shop's packshot, the dataset's iconic images) are all product: keeping only
    their centre, as for shop photos, would throw the brand and name away.
    """
    height, width = rgb.shape[:2]
    ring = max(2, round(0.03 * min(height, width)))
    sides = (rgb[:ring], rgb[-ring:], rgb[:, :ring], rgb[:, -ring:])
    border = np.concatenate([side.reshape(-1, 3) for side in sides])
    fill = np.median(border, axis=0).astype(np.uint8)
    near = np.abs(border.astype(np.int16) - fill.astype(np.int16)).max(axis=1) < PLAIN_TOLERANCE
    if float(near.mean()) < PLAIN_BORDER_SHARE:
        return None
    side = max(height, width)
    square = np.empty((side, side, 3), np.uint8)
    square[:] = fill
    top, left = (side - height) // 2, (side - width) // 2
    square[top : top + height, left : left + width] = rgb
    interpolation = cv2.INTER_AREA if side > ROI_SIDE else cv2.INTER_LINEAR
    resized = cv2.resize(square, (ROI_SIDE, ROI_SIDE), interpolation=interpolation)
    return np.ascontiguousarray(resized, dtype=np.uint8)


def extract(
    image: Image.Image,
    gaze: tuple[float, float] | None = None,
    *,
    box: float = 0.35,
    catalog: bool = False,
) -> Features:
    """Features of the region around the gaze; keypoints farther than `box` from it are dropped.

    `box` is a half-side, as a fraction of the region: 0.5 keeps the whole square. A catalog
    photo that is a packshot (see `packshot_region`) is kept whole.
    """
    pin_threads()
    rgb = to_rgb(image)
    packshot = packshot_region(rgb) if catalog else None
    if packshot is not None:
        region, box = packshot, 0.5
    else:
        region = gaze_region(rgb, gaze)
    grey = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY)
    mask = np.zeros_like(grey)
    low, high = max(round(ROI_SIDE * (0.5 - box)), 0), round(ROI_SIDE * (0.5 + box))
    mask[low:high, low:high] = 255
    keypoints, raw = cv2.SIFT.create(nfeatures=MAX_FEATURES).detectAndCompute(grey, mask)
    colour = colour_signature(region)
    if raw is None or not keypoints:
        return Features(np.zeros((0, 2), np.float32), np.zeros((0, 128), np.uint8), colour)
    points = np.array([kp.pt for kp in keypoints], dtype=np.float32)
    points /= np.float32(ROI_SIDE)
    return Features(points, root_sift(np.asarray(raw, dtype=np.float32)), colour)


def root_sift(raw: npt.NDArray[np.float32]) -> ByteArray:
    """RootSIFT (Hellinger kernel as Euclidean distance): better matches at the same cost."""
    normalised = raw / (raw.sum(axis=1, keepdims=True) + 1e-7)
    scaled = np.sqrt(normalised) * DESCRIPTOR_SCALE
    result: ByteArray = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return result


def as_float(descriptors: ByteArray) -> FloatArray:
    """Byte descriptors back to the float32 RootSIFT that matching uses."""
    result: FloatArray = descriptors.astype(np.float32)
    result /= np.float32(DESCRIPTOR_SCALE)
    return result


def colour_signature(region: npt.NDArray[np.uint8], centre: float = 0.5) -> FloatArray:
    """Hue-saturation and value histograms of the central `centre` of the region."""
    side = region.shape[0]
    crop_side = max(int(side * centre), 8)
    start = (side - crop_side) // 2
    crop = region[start : start + crop_side, start : start + crop_side]
    hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)
    hue_bins, sat_bins, val_bins = COLOUR_BINS
    hue_sat = cv2.calcHist([hsv], [0, 1], None, [hue_bins, sat_bins], [0, 180, 0, 256])
    value = cv2.calcHist([hsv], [2], None, [val_bins], [0, 256])
    histogram = np.concatenate([hue_sat.ravel(), 0.5 * value.ravel()]).astype(np.float32)
    signature: FloatArray = np.sqrt(histogram / max(float(histogram.sum()), 1e-7))
    return signature.astype(np.float32)


COLOUR_SIZE = COLOUR_BINS[0] * COLOUR_BINS[1] + COLOUR_BINS[2]
"""Length of a colour signature."""
