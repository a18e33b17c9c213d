"""Product photos: checked with Pillow, then copied beside the catalog under a content name.

Copies are named by their SHA-256, so adding the same photo twice is a no-op, and a catalog
folder can be moved with its photos (the database keeps paths relative to the photos folder).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from oculi.errors import CatalogError

_EXTENSIONS = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "WEBP": ".webp",
    "BMP": ".bmp",
    "GIF": ".gif",
    "TIFF": ".tif",
    "MPO": ".jpg",
}


def verify_image(path: Path) -> str:
    """The file's extension for its real format; CatalogError when it is not a whole image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.verify()
            with Image.open(path) as image:
                image_format = image.format or ""
                image.load()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as err:
        raise CatalogError(f"{path}: not a usable image ({err})") from err
    except (OSError, SyntaxError, ValueError) as err:
        raise CatalogError(f"{path}: damaged or truncated image ({err})") from err
    if image_format not in _EXTENSIONS:
        raise CatalogError(f"{path}: {image_format or 'unknown'} images are not supported")
    return _EXTENSIONS[image_format]


def product_folder(product_id: str) -> str:
    """A file-system-safe folder name that stays unique per product id."""
    slug = re.sub(r"[^\w.-]+", "_", product_id).strip("._")[:60] or "product"
    return f"{slug}-{hashlib.sha1(product_id.encode()).hexdigest()[:8]}"


def copy_photo(
    source: Path, photos_dir: Path, product_id: str, checked_extension: str | None = None
) -> tuple[str, bool]:
    """(path relative to `photos_dir`, whether a new file was written); atomic per file."""
    extension = checked_extension or verify_image(source)
    try:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:20]
        relative = f"{product_folder(product_id)}/{digest}{extension}"
        target = photos_dir / relative
        if target.exists():
            return relative, False
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.part")
        shutil.copyfile(source, partial)
        partial.replace(target)
    except OSError as err:
        raise CatalogError(f"cannot copy the photo {source} into {photos_dir}: {err}") from err
    return relative, True
