"""The region the wearer looks at: a crop around the gaze point, then a wider one.

Every reading path (barcode, text, picture) looks where the wearer looks first: the crop is
smaller (faster), and the neighbours on the shelf stay out of it. When the first try finds
nothing, the next box is wider, up to the whole frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

CENTRE = (0.5, 0.5)
"""Where the wearer looks when the device does not track the eyes."""
MIN_SIDE_PX = 400
"""A crop is never smaller than this, so a code or a pack held close still fits inside."""


@dataclass(frozen=True)
class Box:
    """A pixel rectangle of the frame: left, top, right, bottom (right and bottom exclusive)."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def as_tuple(self) -> tuple[int, int, int, int]:
        return self.left, self.top, self.right, self.bottom


def gaze_point(gaze: tuple[float, float] | None) -> tuple[float, float]:
    """The gaze as fractions of the frame, clamped to it; the centre when there is none."""
    gx, gy = gaze if gaze is not None else CENTRE
    return min(max(gx, 0.0), 1.0), min(max(gy, 0.0), 1.0)


def gaze_box(size: tuple[int, int], gaze: tuple[float, float] | None, window: float) -> Box:
    """A box of `window` times the frame's sides (at least MIN_SIDE_PX) centred on the gaze,
    shifted to stay inside the frame."""
    width, height = size
    gx, gy = gaze_point(gaze)
    w = min(width, max(round(width * window), MIN_SIDE_PX))
    h = min(height, max(round(height * window), MIN_SIDE_PX))
    left = min(max(round(gx * width - w / 2), 0), width - w)
    top = min(max(round(gy * height - h / 2), 0), height - h)
    return Box(left, top, left + w, top + h)


def gaze_boxes(
    size: tuple[int, int], gaze: tuple[float, float] | None, window: float = 0.5
) -> list[Box]:
    """The boxes to try in order: around the gaze, then the whole frame.

    A frame barely larger than the first box is read whole at once: cropping it would save
    nothing and could cut the code in half.
    """
    full = Box(0, 0, size[0], size[1])
    if window >= 1.0:
        return [full]
    first = gaze_box(size, gaze, window)
    if first.width * first.height >= 0.8 * size[0] * size[1]:
        return [full]
    return [first, full]


def crop(image: Image.Image, box: Box) -> Image.Image:
    """The image inside `box` (the image itself when the box is the whole frame)."""
    if box.as_tuple() == (0, 0, image.width, image.height):
        return image
    return image.crop(box.as_tuple())
