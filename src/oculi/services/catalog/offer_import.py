"""Offer imports: what stores charge, from a CSV whose columns docs/catalog.md describes."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from oculi.errors import CatalogError, OculiError
from oculi.services.catalog.importing import (
    READ_ERRORS,
    ImportReport,
    Progress,
    RowProblem,
    Rows,
    columns_of,
    csv_reader,
    file_error,
    finish,
)
from oculi.services.catalog.model import NewOffer, Product
from oculi.services.catalog.store import Catalog
from oculi.vision.gtin import normalise_gtin

_ZERO_DECIMAL = {
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "ISK",
    "JPY",
    "KMF",
    "KRW",
    "PYG",
    "RWF",
    "UGX",
    "UYI",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
}
_THREE_DECIMAL = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
_YES = {"1", "true", "yes", "y", "in stock", "instock"}
_NO = {"0", "false", "no", "n", "out of stock", "outofstock"}


OFFER_COLUMNS = {
    "gtin": ("gtin", "code", "ean", "barcode"),
    "product_id": ("product_id", "id"),
    "store": ("store", "store_id"),
    "store_name": ("store_name",),
    "price": ("price",),
    "currency": ("currency",),
    "pack_quantity": ("pack_quantity", "pack"),
    "date": ("date", "updated"),
    "url": ("url", "link"),
    "in_stock": ("in_stock", "stock"),
    "name": ("name", "product_name"),
    "brand": ("brand", "brands"),
    "quantity": ("quantity",),
    "category": ("category", "categories"),
}
"""The offers CSV: docs/catalog.md. `gtin` or `product_id`, `store`, `price`, `currency` are
required; a row for an unknown GTIN with a `name` creates the product."""


def import_offers(
    catalog: Catalog, path: Path, progress: Progress | None = None, *, strict: bool = False
) -> ImportReport:
    """Store offers from a CSV (columns in `OFFER_COLUMNS`); stores are created as they come."""
    report = ImportReport(path)
    rows = Rows(path, progress)
    try:
        lines = rows.lines()
        first = next(lines, None)
        if first is None:
            raise CatalogError(f"{path} is empty")
        reader, header = csv_reader(first, lines, rows)
        columns = columns_of(header, OFFER_COLUMNS, path, ("store", "price", "currency"))
        if "gtin" not in columns and "product_id" not in columns:
            raise CatalogError(f"{path}: needs a gtin or a product_id column; nothing imported")
        with catalog.transaction():
            stores = catalog.stores()
            while True:
                start = rows.line + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    break
                except csv.Error as err:
                    report.problems.append(RowProblem(f"line {start}", f"not CSV ({err})"))
                    continue
                if not any(c.strip() for c in cells):
                    continue
                try:
                    _offer_row(catalog, stores, header, columns, cells, report)
                    report.imported += 1
                except CatalogError as err:
                    report.problems.append(RowProblem(f"line {start}", str(err)))
            finish(report, strict)
    except READ_ERRORS as err:
        raise file_error(rows, err) from err
    finally:
        rows.close()
    return report


def _offer_row(
    catalog: Catalog,
    stores: dict[str, str],
    header: list[str],
    columns: dict[str, int],
    cells: list[str],
    report: ImportReport,
) -> None:
    if len(cells) != len(header):
        raise CatalogError(f"{len(cells)} fields, the header has {len(header)}")

    def cell(key: str) -> str:
        return cells[columns[key]].strip() if key in columns else ""

    product_id, new_product = _offer_product(catalog, cell)
    store_id = cell("store")
    if not store_id:
        raise CatalogError("no store")
    currency = cell("currency").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise CatalogError(f"currency {cell('currency')!r} is not an ISO 4217 code like EUR")
    offer = NewOffer(
        product_id,
        store_id,
        parse_price(cell("price"), currency),
        currency,
        _in_stock(cell("in_stock")),
        cell("pack_quantity"),
        _date(cell("date")),
        _url(cell("url")),
    )
    new_stores = []
    name = cell("store_name")
    if store_id not in stores or (name and stores[store_id] != name):
        new_stores.append((store_id, name or stores.get(store_id, store_id)))
    catalog.add(new_stores, [new_product] if new_product else [], [offer])
    stores.update(new_stores)
    report.created += new_product is not None


def _offer_product(catalog: Catalog, cell: Callable[[str], str]) -> tuple[str, Product | None]:
    """The offer's product id, and a product to create when the row names a new one."""
    if product_id := cell("product_id"):
        if catalog.product_by_id(product_id) is None:
            raise CatalogError(f"no product {product_id!r} in the catalog")
        return product_id, None
    code = cell("gtin")
    if not code:
        raise CatalogError("no gtin or product_id")
    try:
        gtin = normalise_gtin(code)
    except OculiError as err:
        raise CatalogError(f"gtin {code!r}: {err}") from err
    if catalog.product(gtin) is not None:
        return gtin, None
    if not cell("name"):
        raise CatalogError(f"GTIN {gtin} is not in the catalog (add a name column to create it)")
    product = Product(gtin, cell("name"), cell("brand"), cell("quantity"), cell("category"))
    return gtin, product


def parse_price(text: str, currency: str) -> int:
    """ "2.49", "2,49", "1 299,00" in major units to integer minor units for `currency`."""
    cleaned = re.sub(r"[\s\u00a0]", "", text)
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+[.,]\d{1,3}", cleaned):  # thousands and decimals
        cleaned = re.sub(r"[.,](?=\d{3}[.,])", "", cleaned)
    cleaned = cleaned.replace(",", ".")
    digits = 0 if currency in _ZERO_DECIMAL else 3 if currency in _THREE_DECIMAL else 2
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise CatalogError(f"price {text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise CatalogError(f"price {text!r} must be more than zero")
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise CatalogError(f"price {text!r} has more than {digits} decimals for {currency}")
    return int(minor)


def _in_stock(text: str) -> bool:
    value = text.strip().casefold()
    if not value or value in _YES:
        return True
    if value in _NO:
        return False
    raise CatalogError(f"in_stock {text!r}: expected yes/no, true/false or 1/0")


def _date(text: str) -> str:
    if not text:
        return ""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise CatalogError(f"date {text!r} is not YYYY-MM-DD") from None


def _url(text: str) -> str:
    if text and not re.match(r"^https?://\S+$", text):
        raise CatalogError(f"url {text!r} is not an http(s) link")
    return text
