"""`oculi identify` and `oculi price`: what product is in a photo, and what it costs elsewhere.

The JSON they print is a contract: `product` ({id, name, brand, gtin} or null), `via`
(barcode, text, picture or null), `confidence`, `candidates` ([{name, score}]), `read_text`,
`shelf_price`, `timings_ms`; `price` adds `offers`, `ranked_by` and the savings. Fields may be
added, never renamed. A file that is not a readable image exits with 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from oculi.agent.commands import parse_gaze as parse_gaze_pair
from oculi.errors import OculiError
from oculi.runtime.config import Config
from oculi.services.catalog import Catalog, PriceComparison, is_database_url, open_catalog
from oculi.vision.identify import Identification, identify, open_pictures

console = Console()

MAX_FILE_BYTES = 200 * 1024 * 1024
"""Files larger than this are refused before they are read into memory."""


def add_commands(sub: Any) -> None:
    """Register `identify` and `price` on the `oculi` command's subparsers."""
    for name, help_text, handler in (
        ("identify", "identify the product in a photo (barcode, text, picture)", _identify),
        ("price", "identify the product in a photo and rank its offers", _price),
    ):
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument("image", type=Path, help="photo of the product (JPEG, PNG…)")
        parser.add_argument("--gaze", help="where the wearer looks, X,Y as fractions 0..1")
        parser.add_argument("--catalog", help="catalog file or postgresql:// URL (default: config)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.set_defaults(handler=handler)


def parse_gaze(text: str | None) -> tuple[float, float] | None:
    """`--gaze X,Y` as fractions of the frame; None when not given."""
    return None if text is None else parse_gaze_pair(text)


def read_image_file(path: Path) -> bytes:
    """The file's bytes; a missing, unreadable, empty or oversized file is a clear error."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise OculiError(f"{path}: {size // 2**20} MiB is too large for a camera frame")
        data = path.read_bytes()
    except OSError as err:
        raise OculiError(f"{path}: cannot read the image: {err.strerror or err}") from err
    if not data:
        raise OculiError(f"{path}: the file is empty")
    return data


def _open(args: argparse.Namespace, config: Config) -> Catalog:
    raw = args.catalog or str(config.get("catalog.path"))
    target: Path | str = config.catalog_path
    if raw:
        target = raw if is_database_url(raw) else Path(raw)
    return open_catalog(target, files_dir=config.data_dir)


def _run(args: argparse.Namespace, config: Config, *, want_price: bool) -> tuple[
    Identification, PriceComparison | None
]:  # fmt: skip
    data = read_image_file(args.image)
    gaze = parse_gaze(args.gaze)
    with _open(args, config) as catalog:
        try:
            found = identify(data, gaze, catalog, open_pictures(catalog), want_price=want_price)
        except OculiError as err:
            raise OculiError(f"{args.image}: {err}") from err
        comparison = None
        if want_price and found.product is not None:
            comparison = catalog.compare_offers(found.product.id, found.shelf_price_cents)
    return found, comparison


def _identify(args: argparse.Namespace, config: Config) -> int:
    found, _ = _run(args, config, want_price=False)
    if args.json:
        print(json.dumps(found.to_json(), ensure_ascii=False))
    else:
        _print_identification(found)
    return 0


def _price(args: argparse.Namespace, config: Config) -> int:
    found, comparison = _run(args, config, want_price=True)
    result = found.to_json()
    result.update(offers_json(comparison))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    _print_identification(found)
    if comparison is not None:
        _print_offers(comparison)
    return 0


def offers_json(comparison: PriceComparison | None) -> dict[str, Any]:
    """The ranked offers part of `oculi price --json`."""
    if comparison is None:
        return {"offers": [], "ranked_by": None, "saving_cents": 0, "shelf_saving_cents": None}
    return {
        "offers": [
            {
                "store": o.store,
                "price_cents": o.price_cents,
                "currency": o.currency,
                "in_stock": o.in_stock,
                "pack_quantity": o.pack_quantity,
                "unit_price": None if o.unit_price is None else round(o.unit_price, 2),
                "unit": o.quantity.unit if o.quantity else None,
                "url": o.url,
            }
            for o in comparison.offers
        ],
        "ranked_by": comparison.ranked_by,
        "saving_cents": comparison.saving_cents,
        "shelf_saving_cents": comparison.shelf_saving_cents,
    }


def _print_identification(found: Identification) -> None:
    product = found.product
    if product is None:
        console.print("[bold]I don't know this product.[/]")
    else:
        brand = f"{product.brand} · " if product.brand else ""
        console.print(
            f"[bold]{brand}{product.name}[/] via {found.via}, confidence {found.confidence:.2f}"
            + (f" (GTIN {product.gtin})" if product.gtin else "")
        )
    if found.gtin_read and (product is None or product.gtin != found.gtin_read):
        console.print(f"barcode read: {found.gtin_read} (not in the catalog)")
    if found.read_text:
        console.print(f"text read: {found.read_text}", highlight=False)
    if found.shelf_price is not None:
        console.print(f"shelf price: {found.shelf_price.text}", highlight=False)
    if found.candidates and (product is None or len(found.candidates) > 1):
        console.print("candidates: " + ", ".join(f"{n} ({s:.2f})" for n, s in found.candidates[:5]))
    console.print(
        "timings (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in found.timings_ms.items()),
        style="dim",
    )


def _print_offers(comparison: PriceComparison) -> None:
    from oculi.apps.shop.money import show_price

    by = "price per unit" if comparison.ranked_by == "unit_price" else "price"
    table = Table(title=f"Offers for {comparison.product.name}, best {by} first")
    for column in ("store", "price", "pack", "per unit"):
        table.add_column(column, justify="left" if column == "store" else "right")
    for offer in comparison.offers:
        unit = ""
        if offer.unit_price is not None and offer.quantity is not None:
            unit = f"{show_price(round(offer.unit_price), offer.currency)}/{offer.quantity.unit}"
        price = show_price(offer.price_cents, offer.currency) if offer.in_stock else "out of stock"
        table.add_row(offer.store, price, offer.pack_quantity, unit)
    console.print(table)
    saving = comparison.shelf_saving_cents
    best = comparison.best
    if saving is not None and best is not None and saving > 0:
        console.print(f"{show_price(saving, best.currency)} cheaper at {best.store} than here")
