"""The product catalog: products and the offers several stores make for them, in SQLite (WAL).

The shop app asks one question of it — what does this GTIN cost where — so the schema is keyed on
the normalised 13-digit GTIN and prices are integer cents, never floats.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from oculi.errors import CatalogError
from oculi.services.demo_catalog import CURRENCY, DEMO_PRODUCTS, DEMO_STORES
from oculi.vision.gtin import is_valid_gtin

SCHEMA = """
CREATE TABLE IF NOT EXISTS stores (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS products (
    gtin     TEXT PRIMARY KEY CHECK (length(gtin) = 13),
    name     TEXT NOT NULL,
    brand    TEXT NOT NULL DEFAULT '',
    quantity TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS offers (
    gtin        TEXT NOT NULL REFERENCES products(gtin) ON DELETE CASCADE,
    store_id    TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    price_cents INTEGER NOT NULL CHECK (price_cents > 0),
    currency    TEXT NOT NULL,
    in_stock    INTEGER NOT NULL DEFAULT 1,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (gtin, store_id)
);
"""


@dataclass(frozen=True)
class Product:
    gtin: str
    name: str
    brand: str = ""
    quantity: str = ""
    category: str = ""


@dataclass(frozen=True)
class Offer:
    store_id: str
    store: str
    price_cents: int
    currency: str
    in_stock: bool


@dataclass(frozen=True)
class PriceComparison:
    """A product's offers, cheapest in-stock first, and what the best one saves."""

    product: Product
    offers: tuple[Offer, ...]

    @property
    def available(self) -> tuple[Offer, ...]:
        return tuple(o for o in self.offers if o.in_stock)

    @property
    def best(self) -> Offer | None:
        return self.available[0] if self.available else None

    @property
    def saving_cents(self) -> int:
        """Best price against the dearest in-stock offer: what looking around is worth."""
        available = self.available
        return available[-1].price_cents - available[0].price_cents if available else 0


class Catalog:
    """One SQLite catalog file; the schema is created on first open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as err:
            raise CatalogError(f"cannot open the catalog at {path}: {err}") from err

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def counts(self) -> dict[str, int]:
        return {
            table: int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("products", "stores", "offers")
        }

    def product(self, gtin: str) -> Product | None:
        row = self._db.execute(
            "SELECT gtin, name, brand, quantity, category FROM products WHERE gtin = ?", (gtin,)
        ).fetchone()
        return Product(*row) if row else None

    def compare_prices(self, gtin: str) -> PriceComparison | None:
        """None when the product is unknown; offers sorted cheapest in-stock first."""
        product = self.product(gtin)
        if product is None:
            return None
        rows = self._db.execute(
            """SELECT o.store_id, s.name, o.price_cents, o.currency, o.in_stock
               FROM offers o JOIN stores s ON s.id = o.store_id
               WHERE o.gtin = ? ORDER BY o.in_stock DESC, o.price_cents, s.name""",
            (gtin,),
        ).fetchall()
        offers = tuple(Offer(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows)
        return PriceComparison(product, offers)

    def add(
        self,
        stores: Iterable[tuple[str, str]],
        products: Iterable[Product],
        offers: Iterable[tuple[str, str, int, str, bool]],
    ) -> None:
        """Insert or replace stores, products and offers (gtin, store, cents, currency, in stock)
        in one transaction: all of it lands or none of it does."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        products = list(products)
        for p in products:
            if len(p.gtin) != 13 or not is_valid_gtin(p.gtin):
                raise CatalogError(f"product {p.name!r}: {p.gtin!r} is not a valid GTIN-13")
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO stores VALUES (?, ?)", stores)
                self._db.executemany(
                    "INSERT OR REPLACE INTO products VALUES (?, ?, ?, ?, ?)",
                    [(p.gtin, p.name, p.brand, p.quantity, p.category) for p in products],
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO offers VALUES (?, ?, ?, ?, ?, ?)",
                    [(g, s, c, cur, int(stock), now) for g, s, c, cur, stock in offers],
                )
        except sqlite3.Error as err:
            raise CatalogError(f"catalog update refused, nothing written: {err}") from err

    def fill_demo(self) -> None:
        """The demo products, stores and offers; prices missing in a store mean out of stock."""
        offers: list[tuple[str, str, int, str, bool]] = []
        for p in DEMO_PRODUCTS:
            listed = [c for _, c in p.prices if c is not None]
            for store, cents in p.prices:
                # out of stock: keep the store's last known price so the card can still say so
                price = cents if cents is not None else max(listed)
                offers.append((p.gtin, store, price, CURRENCY, cents is not None))
        self.add(
            DEMO_STORES,
            (Product(p.gtin, p.name, p.brand, p.quantity, p.category) for p in DEMO_PRODUCTS),
            offers,
        )


def open_catalog(path: Path) -> Catalog:
    """The catalog at `path`; a new, empty one is filled with the demo catalog first."""
    catalog = Catalog(path)
    if catalog.counts()["products"] == 0:
        catalog.fill_demo()
    return catalog


def init_catalog(path: Path, *, force: bool = False) -> dict[str, int]:
    """`oculi catalog init`: create the catalog with the demo data (replacing it with `force`)."""
    if path.exists() and force:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    with Catalog(path) as catalog:
        if catalog.counts()["products"] and not force:
            raise CatalogError(f"{path} already holds a catalog; pass --force to replace it")
        catalog.fill_demo()
        return catalog.counts()
