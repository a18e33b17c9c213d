"""Fonts for everything Oculi draws: a system sans when there is one, else Pillow's own."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

_REGULAR = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
)
_BOLD = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
)


@lru_cache(maxsize=32)
def ui_font(size: int, bold: bool = False) -> Font:
    """DejaVu Sans (covers €, → and ·) when installed, else the scalable font Pillow ships."""
    for name in _BOLD if bold else _REGULAR:
        if Path(name).exists():
            return ImageFont.truetype(name, size)
    return ImageFont.load_default(size=size)
