"""Recognise a product from catalog photos when no barcode and little text can be read."""

from __future__ import annotations

from oculi.vision.picture.index import PictureIndex
from oculi.vision.picture.store import PictureIndexError

__all__ = ["PictureIndex", "PictureIndexError"]
