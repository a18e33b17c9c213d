"""Bulk imports into the catalog: products (Open Food Facts JSONL or CSV) here, offers and
photos in their own modules, all three importable from this one.

The rules every import follows are in `oculi.services.catalog.importing`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oculi.errors import CatalogError, OculiError
from oculi.services.catalog.importing import (
    BATCH,
    READ_ERRORS,
    ImportReport,
    Progress,
    RowProblem,
    Rows,
    chain,
    columns_of,
    csv_reader,
    file_error,
    finish,
)
from oculi.services.catalog.model import Product
from oculi.services.catalog.offer_import import import_offers, parse_price
from oculi.services.catalog.photo_import import import_photos, product_folders, sync_pictures
from oculi.services.catalog.store import Catalog
from oculi.vision.gtin import normalise_gtin

__all__ = [
    "ImportReport",
    "Progress",
    "RowProblem",
    "import_offers",
    "import_photos",
    "import_products",
    "parse_price",
    "product_folders",
    "sync_pictures",
]


def import_products(
    catalog: Catalog, path: Path, progress: Progress | None = None, *, strict: bool = False
) -> ImportReport:
    """Open Food Facts products (JSONL, or CSV/TSV with a `code` column; gzip or not)."""
    report = ImportReport(path)
    rows = Rows(path, progress)
    try:
        with catalog.transaction():
            batch: list[tuple[int, Product]] = []
            for line, product in _product_rows(rows, report):
                batch.append((line, product))
                if len(batch) >= BATCH:
                    _write_products(catalog, batch, report)
                    batch = []
            _write_products(catalog, batch, report)
            finish(report, strict)
    except READ_ERRORS as err:
        raise file_error(rows, err) from err
    finally:
        rows.close()
    return report


def _product_rows(rows: Rows, report: ImportReport) -> Iterator[tuple[int, Product]]:
    lines = rows.lines()
    first = next(lines, None)
    if first is None:
        raise CatalogError(f"{rows.path} is empty")
    if first.lstrip().startswith("{"):
        yield from _jsonl_products(first, lines, rows, report)
    else:
        yield from _csv_products(first, lines, rows, report)


def _jsonl_products(
    first: str, lines: Iterator[str], rows: Rows, report: ImportReport
) -> Iterator[tuple[int, Product]]:
    for text in chain(first, lines):
        line = rows.line
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as err:
            report.problems.append(RowProblem(f"line {line}", f"not JSON ({err.msg})"))
            continue
        if not isinstance(record, dict):
            report.problems.append(RowProblem(f"line {line}", "not a JSON object"))
            continue
        name = _off_name(record)
        yield from _checked_product(
            line,
            str(record.get("code") or record.get("_id") or ""),
            name,
            _text(record.get("brands")),
            _text(record.get("quantity")),
            _text(record.get("categories")),
            report,
        )


def _off_name(record: dict[str, Any]) -> str:
    """The product's name: `product_name`, else its main language's, English, generic name."""
    lang = _text(record.get("lang"))
    for key in ("product_name", f"product_name_{lang}", "product_name_en", "generic_name"):
        if name := _text(record.get(key)):
            return name
    return ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return " ".join(str(value).split())


_PRODUCT_COLUMNS = {
    "code": ("code", "gtin", "barcode", "ean"),
    "name": ("product_name", "name"),
    "brand": ("brands", "brand"),
    "quantity": ("quantity",),
    "category": ("categories", "category"),
}


def _csv_products(
    first: str, lines: Iterator[str], rows: Rows, report: ImportReport
) -> Iterator[tuple[int, Product]]:
    reader, header = csv_reader(first, lines, rows)
    columns = columns_of(header, _PRODUCT_COLUMNS, rows.path, ("code", "name"))
    line = 1
    while True:
        start = rows.line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            report.problems.append(RowProblem(f"line {start}", f"not CSV ({err})"))
            continue
        line = start
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            report.problems.append(
                RowProblem(f"line {line}", f"{len(cells)} fields, the header has {len(header)}")
            )
            continue

        values = {k: " ".join(cells[i].split()) for k, i in columns.items()}
        yield from _checked_product(
            line,
            values["code"],
            values["name"],
            values.get("brand", ""),
            values.get("quantity", ""),
            values.get("category", ""),
            report,
        )


def _checked_product(
    line: int,
    code: str,
    name: str,
    brands: str,
    quantity: str,
    categories: str,
    report: ImportReport,
) -> Iterator[tuple[int, Product]]:
    where = f"line {line}"
    if not code:
        report.problems.append(RowProblem(where, "no product code"))
        return
    try:
        gtin = normalise_gtin(code)
    except OculiError as err:
        report.problems.append(RowProblem(where, f"code {code!r}: {err}"))
        return
    if not name:
        report.problems.append(RowProblem(where, f"product {gtin} has no name"))
        return
    brand = brands.split(",")[0].strip()
    category = categories.split(",")[-1].strip()
    yield line, Product(gtin, name, brand, quantity, category)


def _write_products(
    catalog: Catalog, batch: list[tuple[int, Product]], report: ImportReport
) -> None:
    """Write a batch; when the database refuses it, row by row to find and skip the bad ones."""
    if not batch:
        return
    try:
        catalog.add([], [p for _, p in batch], [])
        report.imported += len(batch)
        return
    except CatalogError:
        pass
    for line, product in batch:
        try:
            catalog.add([], [product], [])
            report.imported += 1
        except CatalogError as err:
            report.problems.append(RowProblem(f"line {line}", str(err)))
