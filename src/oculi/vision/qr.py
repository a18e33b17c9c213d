"""Read QR codes in a frame (merchant payment codes), nearest to the gaze first.

Only the raw text comes out; what it means (an EMVCo merchant code, a link) is decided by the
app that reads it, so a code in view never does anything by itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import zxingcpp
from PIL import Image

QR_FORMATS = zxingcpp.barcode_formats_from_str("QRCode")
MAX_PAYLOAD_CHARS = 4296
"""The most a QR code can hold; anything longer did not come from one."""


@dataclass(frozen=True)
class ReadQr:
    payload: str
    x: float
    y: float


def read_qr_codes(image: Image.Image, gaze: tuple[float, float] | None = None) -> list[ReadQr]:
    """Every QR code zxing finds in the greyscale frame, nearest to the gaze point first."""
    gx, gy = gaze if gaze is not None else (0.5, 0.5)
    found = []
    for result in zxingcpp.read_barcodes(np.asarray(image), formats=QR_FORMATS):
        if not result.valid or not result.text or len(result.text) > MAX_PAYLOAD_CHARS:
            continue
        pos = result.position
        corners = (pos.top_left, pos.top_right, pos.bottom_right, pos.bottom_left)
        x = sum(p.x for p in corners) / 4 / image.width
        y = sum(p.y for p in corners) / 4 / image.height
        found.append(ReadQr(result.text, x, y))
    return sorted(found, key=lambda c: math.hypot(c.x - gx, c.y - gy))
