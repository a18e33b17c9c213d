"""Photo imports: each leaf folder of a tree is one product, named by the folder."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from oculi.errors import CatalogError, OculiError
from oculi.services.catalog.importing import (
    ImportReport,
    Progress,
    RowProblem,
    finish,
)
from oculi.services.catalog.model import Product
from oculi.services.catalog.photos import verify_image
from oculi.services.catalog.store import Catalog
from oculi.vision.gtin import normalise_gtin

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


def product_folders(root: Path) -> list[Path]:
    """Folders under `root` (itself included) that hold photos and no sub-folders."""
    found = []
    for folder in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        if any(part.startswith(".") for part in folder.relative_to(root).parts):
            continue
        if any(child.is_dir() and not child.name.startswith(".") for child in folder.iterdir()):
            continue
        if any(_is_photo_name(f) for f in folder.iterdir()):
            found.append(folder)
    return found


def _is_photo_name(path: Path) -> bool:
    return (
        path.is_file()
        and not path.name.startswith(".")
        and (path.suffix.casefold() in IMAGE_SUFFIXES)
    )


def import_photos(
    catalog: Catalog, root: Path, progress: Progress | None = None, *, strict: bool = False
) -> ImportReport:
    """Each leaf folder is one product, named by the folder: an existing product when the name
    is its id, GTIN or name, else a new `photo:<folder>` product."""
    if not root.is_dir():
        raise CatalogError(f"{root} is not a folder")
    report = ImportReport(root)
    folders = product_folders(root)
    photos = [
        (folder, f)
        for folder in folders
        for f in sorted(folder.iterdir())
        if f.is_file() and not f.name.startswith(".")
    ]
    if not photos:
        raise CatalogError(f"{root}: no photos in any folder ({', '.join(sorted(IMAGE_SUFFIXES))})")
    written: list[Path] = []
    try:
        with catalog.transaction():
            products: dict[Path, str] = {}
            for done, (folder, photo) in enumerate(photos, start=1):
                if progress is not None:
                    progress(done, len(photos))
                where = str(photo.relative_to(root))
                if photo.suffix.casefold() not in IMAGE_SUFFIXES:
                    report.ignored += 1
                    continue
                try:
                    extension = verify_image(photo)
                    if folder not in products:
                        products[folder] = _folder_product(catalog, folder, report)
                    file, new = catalog.add_photo_file(products[folder], photo, extension)
                except CatalogError as err:
                    report.problems.append(RowProblem(where, str(err).split(": ", 1)[-1]))
                    continue
                if new:
                    report.imported += 1
                    written.append(file)
            finish(report, strict)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return report


def _folder_product(catalog: Catalog, folder: Path, report: ImportReport) -> str:
    name = folder.name
    if catalog.product_by_id(name) is not None:
        return name
    if name.isdigit():
        try:
            gtin = normalise_gtin(name)
        except OculiError:
            gtin = ""
        if gtin and catalog.product(gtin) is not None:
            return gtin
    if len(named := catalog.products_named(name)) == 1:
        return named[0].id
    product = Product(None, name, id=f"photo:{name}")
    if catalog.product_by_id(product.id) is None:
        catalog.add([], [product], [])
        report.created += 1
    return product.id


def sync_pictures(catalog: Catalog, progress: Callable[[], None] | None = None) -> int | None:
    """Bring the picture index up to date with the catalog's photos; None when the picture
    path (oculi.vision.picture) is not installed."""
    try:
        module = importlib.import_module("oculi.vision.picture")
    except ImportError:
        return None
    picture_index = getattr(module, "PictureIndex", None)
    if picture_index is None:
        return None
    index = picture_index.open(catalog.pictures_dir)
    return int(index.sync(catalog.photos(), progress))
