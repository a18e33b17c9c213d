"""`oculi catalog ...`: create the catalog, look prices up, search it, and import into it.

Import exit codes: 0 every row imported, 1 imported with some rows skipped (listed, with their
line numbers), 2 nothing written (unreadable file, missing columns, or any bad row with
--strict).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from oculi.errors import CatalogError, OculiError
from oculi.runtime.config import Config
from oculi.services.catalog.imports import ImportReport
from oculi.services.catalog.imports import Progress as Advance
from oculi.services.catalog.store import Catalog, init_catalog, is_database_url, open_catalog

console = Console()
err_console = Console(stderr=True)
MAX_PROBLEMS_SHOWN = 20


def add_commands(sub: Any) -> None:
    """Register `catalog` and its actions on the `oculi` command's subparsers."""
    catalog = sub.add_parser("catalog", help="the product catalog")
    actions = catalog.add_subparsers(required=True, metavar="ACTION")

    def action(name: str, help_text: str, handler: Callable[..., int]) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
        parser.add_argument("--db", help="catalog file or postgresql:// URL (default from config)")
        parser.set_defaults(handler=handler)
        return parser

    init = action("init", "create the catalog filled with the demo products", run_init)
    init.add_argument("--force", action="store_true", help="replace an existing catalog")
    price = action("price", "compare a product's offers by GTIN", run_price)
    price.add_argument("gtin")
    price.add_argument("--shelf", help="the shelf price, e.g. 2.49, to show the saving against")
    search = action("search", "find products from text read off a pack", run_search)
    search.add_argument("text")
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--json", action="store_true", help="print the matches as JSON")
    for name, what, handler in (
        ("import-products", "Open Food Facts products: JSONL or CSV, gzip ok", run_import_products),
        ("import-offers", "store offers from a CSV (see docs/catalog.md)", run_import_offers),
        ("import-photos", "product photos: one leaf folder per product", run_import_photos),
    ):
        parser = action(name, what, handler)
        parser.add_argument("source", type=Path, metavar="DIR" if "photos" in name else "FILE")
        parser.add_argument(
            "--strict", action="store_true", help="reject the whole file when any row is bad"
        )


def catalog_target(args: argparse.Namespace, config: Config) -> Path | str:
    """--db, else `catalog.path` as written (a URL survives), else the default file."""
    if args.db:
        return args.db if is_database_url(args.db) else Path(args.db)
    raw = str(config.get("catalog.path"))
    return raw if is_database_url(raw) else config.catalog_path


def _open(args: argparse.Namespace, config: Config) -> Catalog:
    return open_catalog(catalog_target(args, config), files_dir=config.data_dir)


def run_init(args: argparse.Namespace, config: Config) -> int:
    target = catalog_target(args, config)
    counts = init_catalog(target, force=args.force)
    console.print(f"catalog {target}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    return 0


def run_price(args: argparse.Namespace, config: Config) -> int:
    from oculi.apps.shop.money import show_price
    from oculi.services.catalog.imports import parse_price
    from oculi.vision.gtin import normalise_gtin

    with _open(args, config) as catalog:
        product = catalog.product(normalise_gtin(args.gtin))
        comparison = catalog.compare_offers(product.id) if product else None
    if comparison is None:
        raise OculiError(f"GTIN {args.gtin} is not in the catalog")
    if args.shelf and comparison.best is not None:
        shelf = parse_price(args.shelf, comparison.best.currency)
        comparison = replace(comparison, shelf_price_cents=shelf)
    table = Table(title=f"{comparison.product.name} ({comparison.product.gtin})")
    for column in ("store", "price", "pack", "unit price"):
        table.add_column(column, justify="left" if column in ("store", "pack") else "right")
    for offer in comparison.offers:
        price = show_price(offer.price_cents, offer.currency) if offer.in_stock else "out of stock"
        per = (
            f"{show_price(round(offer.unit_price), offer.currency)}/{offer.quantity.unit}"
            if offer.unit_price is not None and offer.quantity is not None
            else ""
        )
        table.add_row(offer.store, price, offer.pack_quantity or comparison.product.quantity, per)
    console.print(table)
    saving = comparison.shelf_saving_cents
    if saving is not None and comparison.best is not None:
        verdict = "saves" if saving > 0 else "costs" if saving < 0 else "saves nothing"
        amount = show_price(abs(saving), comparison.best.currency) if saving else ""
        console.print(f"{comparison.best.store} against the shelf: {verdict} {amount}".rstrip())
    return 0


def run_search(args: argparse.Namespace, config: Config) -> int:
    if args.limit < 1:
        raise OculiError("--limit must be at least 1")
    with _open(args, config) as catalog:
        matches = catalog.search_text(args.text, args.limit)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": p.id,
                        "gtin": p.gtin,
                        "name": p.name,
                        "brand": p.brand,
                        "quantity": p.quantity,
                        "score": s,
                    }
                    for p, s in matches
                ],
                ensure_ascii=False,
            )
        )
        return 0
    if not matches:
        console.print("no product matches that text")
        return 0
    table = Table(title=f"matches for {args.text!r}")
    for column in ("score", "id", "brand", "name", "quantity"):
        table.add_column(column)
    for product, score in matches:
        table.add_row(f"{score:.2f}", product.id, product.brand, product.name, product.quantity)
    console.print(table)
    return 0


@contextmanager
def _progress(label: str, in_bytes: bool) -> Iterator[Advance]:
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn() if in_bytes else MofNCompleteColumn(),
    ]
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


def run_import_products(args: argparse.Namespace, config: Config) -> int:
    from oculi.services.catalog.imports import import_products

    with _open(args, config) as catalog, _progress(f"products {args.source.name}", True) as bar:
        report = import_products(catalog, args.source, bar, strict=args.strict)
        total = catalog.counts()["products"]
    return _summary(report, f"{report.imported} products imported ({total} in the catalog)")


def run_import_offers(args: argparse.Namespace, config: Config) -> int:
    from oculi.services.catalog.imports import import_offers

    with _open(args, config) as catalog, _progress(f"offers {args.source.name}", True) as bar:
        report = import_offers(catalog, args.source, bar, strict=args.strict)
    created = f", {report.created} new products" if report.created else ""
    return _summary(report, f"{report.imported} offers imported{created}")


def run_import_photos(args: argparse.Namespace, config: Config) -> int:
    from oculi.services.catalog.imports import import_photos, sync_pictures

    with _open(args, config) as catalog:
        with _progress(f"photos {args.source.name}", False) as bar:
            report = import_photos(catalog, args.source, bar, strict=args.strict)
        indexed = _sync_pictures(catalog, sync_pictures)
    message = f"{report.imported} photos imported, {report.created} new products"
    if report.ignored:
        message += f", {report.ignored} other files ignored"
    if indexed is not None:
        message += f"; picture index: {indexed} photos added"
    return _summary(report, message)


def _sync_pictures(catalog: Catalog, sync: Callable[..., int | None]) -> int | None:
    total = len(catalog.photos())
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("picture index", total=total)
        try:
            return sync(catalog, lambda: progress.advance(task))
        except OculiError as err:
            raise CatalogError(f"photos imported, but the picture index failed: {err}") from err


def _summary(report: ImportReport, message: str) -> int:
    console.print(f"{report.source}: {message}")
    if report.clean:
        return 0
    for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
        err_console.print(f"[yellow]skipped[/] {problem}", highlight=False, soft_wrap=True)
    if (more := len(report.problems) - MAX_PROBLEMS_SHOWN) > 0:
        err_console.print(f"... and {more} more skipped")
    err_console.print(f"{len(report.problems)} rows skipped; the rest was imported")
    return 1
