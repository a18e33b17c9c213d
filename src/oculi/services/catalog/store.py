"""The catalog: products, their photos, and what several stores charge for them.

SQLite (WAL) by default; a `postgresql://` URL in `catalog.path` puts the same tables in
PostgreSQL. Photos always live on this machine, in `<path>.photos/` beside the catalog, and the
picture index in `<path>.pictures/`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from oculi.errors import CatalogError
from oculi.services.catalog.backends import Backend, PostgresBackend, SQLiteBackend
from oculi.services.catalog.model import NewOffer, Offer, PriceComparison, Product, rank_offers
from oculi.services.catalog.photos import copy_photo
from oculi.services.catalog.search import (
    MIN_SCORE,
    SURE_SCORE,
    Query,
    normalise,
    rank,
    search_text_of,
)
from oculi.services.demo_catalog import CURRENCY, DEMO_PRODUCTS, DEMO_STORES
from oculi.services.units import parse_quantity
from oculi.vision.gtin import is_valid_gtin

OfferRow = tuple[str, str, int, str, bool]
"""(product id, store id, price in minor units, currency, in stock): the short form of an offer."""

_PRODUCT_COLUMNS = "id, gtin, name, brand, quantity, category"
_MAX_TEXT = 500


def is_database_url(target: Path | str) -> bool:
    return re.match(r"^postgres(?:ql)?:/", str(target)) is not None


def _as_url(target: Path | str) -> str:
    """A URL back from a Path, which folds `postgresql://` to `postgresql:/`."""
    return re.sub(r"^(postgres(?:ql)?):/(?!/)", r"\1://", str(target))


class Catalog:
    """One catalog: a SQLite file, or a PostgreSQL database named by URL."""

    def __init__(self, target: Path | str, *, files_dir: Path | None = None) -> None:
        self._backend: Backend
        if is_database_url(target):
            url = _as_url(target)
            self._backend = PostgresBackend(url)
            database = (urlsplit(url).path.strip("/") or "catalog").replace("/", "_")
            self.path = (files_dir or _default_files_dir()) / f"postgresql-{database}"
        else:
            self.path = Path(target)
            self._backend = SQLiteBackend(self.path)

    @property
    def kind(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._backend.kind

    @property
    def photos_dir(self) -> Path:
        return self.path.with_name(f"{self.path.name}.photos")

    @property
    def pictures_dir(self) -> Path:
        """Where the picture index (oculi.vision.picture) keeps itself."""
        return self.path.with_name(f"{self.path.name}.pictures")

    def close(self) -> None:
        self._backend.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside lands together or not at all; nested ones are savepoints."""
        with self._errors("catalog update refused, nothing written"), self._backend.transaction():
            yield

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except self._backend.errors as err:
            raise CatalogError(f"{what}: {err}") from err

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._errors("catalog query failed"):
            return self._backend.query(sql, params)

    def counts(self) -> dict[str, int]:
        return {
            table: int(self._query(f"SELECT count(*) FROM {table}")[0][0])
            for table in ("products", "stores", "offers", "photos")
        }

    def product(self, gtin: str) -> Product | None:
        rows = self._query(f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE gtin = ?", (gtin,))
        return _product(rows[0]) if rows else None

    def product_by_id(self, product_id: str) -> Product | None:
        rows = self._query(f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE id = ?", (product_id,))
        return _product(rows[0]) if rows else None

    def products_named(self, name: str) -> list[Product]:
        """Products whose name, or brand and name, read the same as `name` once normalised."""
        wanted = normalise(name)
        return [
            p
            for p in self._candidates(name)
            if wanted in (normalise(p.name), normalise(f"{p.brand} {p.name}"))
        ]

    def search_text(
        self, text: str, limit: int = 5, min_score: float = MIN_SCORE
    ) -> list[tuple[Product, float]]:
        """Products that the text read off a pack most likely names, best first, score 0..1."""
        if not text.strip() or limit < 1:
            return []
        query = Query.of(text)
        with self._errors("catalog search failed"):
            by_word = self._products_by_key(self._backend.word_candidates(query))
            found = rank(by_word, text, limit, min_score)
            if found and found[0][1] >= SURE_SCORE:
                return found  # the words were read well: no need to look for misspellings
            fuzzy = self._products_by_key(self._backend.fuzzy_candidates(query))
        candidates = {p.id: p for p in [*by_word, *fuzzy]}
        return rank(list(candidates.values()), text, limit, min_score)

    def _candidates(self, text: str) -> list[Product]:
        """Every product the database proposes for `text`, by words and by trigrams."""
        query = Query.of(text)
        with self._errors("catalog search failed"):
            keys = self._backend.word_candidates(query) + self._backend.fuzzy_candidates(query)
        return list({p.id: p for p in self._products_by_key(keys)}.values())

    def _products_by_key(self, keys: list[int]) -> list[Product]:
        if not keys:
            return []
        marks = ", ".join("?" for _ in keys)
        rows = self._query(f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE key IN ({marks})", keys)
        return [_product(r) for r in rows]

    def compare_prices(self, gtin: str) -> PriceComparison | None:
        """None when the product is unknown; offers sorted cheapest in-stock first."""
        product = self.product(gtin)
        if product is None:
            return None
        return rank_offers(product, self._offers(product), unit_prices=False)

    def compare_offers(
        self, product_id: str, shelf_price_cents: int | None = None
    ) -> PriceComparison | None:
        """Offers best first by price per litre, kg or item when every pack size reads (else by
        price), and the saving against the shelf price when one was read from the tag."""
        product = self.product_by_id(product_id)
        if product is None:
            return None
        return rank_offers(product, self._offers(product), shelf_price_cents)

    def _offers(self, product: Product) -> list[Offer]:
        rows = self._query(
            """SELECT o.store_id, s.name, o.price_cents, o.currency, o.in_stock,
                      o.pack_quantity, o.url, o.updated_at
               FROM offers o JOIN stores s ON s.id = o.store_id
               WHERE o.product_id = ?""",
            (product.id,),
        )
        own = parse_quantity(product.quantity)
        return [
            Offer(
                r[0],
                r[1],
                int(r[2]),
                r[3],
                bool(r[4]),
                r[5],
                r[6],
                r[7],
                parse_quantity(r[5]) if r[5] else own,
            )
            for r in rows
        ]

    def stores(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self._query("SELECT id, name FROM stores")}

    def add(
        self,
        stores: Iterable[tuple[str, str]],
        products: Iterable[Product],
        offers: Iterable[OfferRow | NewOffer],
    ) -> None:
        """Insert or update stores, products and offers in one transaction: all of it lands or
        none of it does (inside `transaction()`, a savepoint)."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        product_rows = [_product_row(p) for p in products]
        offer_rows = [
            _offer_row(o if isinstance(o, NewOffer) else NewOffer(*o), now) for o in offers
        ]
        with self.transaction():
            self._backend.run_many(
                "INSERT INTO stores (id, name) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                list(stores),
            )
            self._backend.run_many(
                "INSERT INTO products (id, gtin, name, brand, quantity, category, search_text) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "gtin = excluded.gtin, name = excluded.name, brand = excluded.brand, "
                "quantity = excluded.quantity, category = excluded.category, "
                "search_text = excluded.search_text",
                product_rows,
            )
            self._backend.run_many(
                "INSERT INTO offers (product_id, store_id, pack_quantity, price_cents, currency, "
                "in_stock, updated_at, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (product_id, store_id, pack_quantity) DO UPDATE SET "
                "price_cents = excluded.price_cents, currency = excluded.currency, "
                "in_stock = excluded.in_stock, updated_at = excluded.updated_at, "
                "url = excluded.url",
                offer_rows,
            )

    def add_photo(self, product_id: str, image_path: Path) -> None:
        """Copy a checked photo of a known product beside the catalog and record it."""
        self.add_photo_file(product_id, image_path)

    def add_photo_file(
        self, product_id: str, image_path: Path, checked_extension: str | None = None
    ) -> tuple[Path, bool]:
        """`add_photo`, answering (the copy, whether the photo is new to the catalog); pass
        `checked_extension` (from `verify_image`) when the image was checked already."""
        if self.product_by_id(product_id) is None:
            raise CatalogError(f"cannot add a photo to {product_id!r}: no such product")
        relative, written = copy_photo(image_path, self.photos_dir, product_id, checked_extension)
        try:
            with self.transaction():
                exists = self._backend.query("SELECT 1 FROM photos WHERE file = ?", (relative,))
                if not exists:
                    self._backend.run(
                        "INSERT INTO photos (product_id, file, added_at) VALUES (?, ?, ?)",
                        (product_id, relative, datetime.now(UTC).date().isoformat()),
                    )
        except BaseException:
            if written:
                (self.photos_dir / relative).unlink(missing_ok=True)
            raise
        return self.photos_dir / relative, not exists

    def photos(self) -> list[tuple[str, Path]]:
        """(product id, photo file) for every photo, oldest first."""
        rows = self._query("SELECT product_id, file FROM photos ORDER BY id")
        return [(r[0], self.photos_dir / r[1]) for r in rows]

    def clear(self) -> None:
        """Forget every product, store, offer and photo (the copied photo files too)."""
        with self.transaction():
            for table in ("offers", "photos", "products", "stores"):
                self._backend.run(f"DELETE FROM {table}")
        for folder in (self.photos_dir, self.pictures_dir):
            shutil.rmtree(folder, ignore_errors=True)

    def fill_demo(self) -> None:
        """The demo products, stores and offers; prices missing in a store mean out of stock."""
        offers: list[OfferRow] = []
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


def _product(row: tuple[Any, ...]) -> Product:
    return Product(row[1], row[2], row[3], row[4], row[5], id=row[0])


def _product_row(p: Product) -> tuple[str, str | None, str, str, str, str, str]:
    if p.gtin is not None and (len(p.gtin) != 13 or not is_valid_gtin(p.gtin)):
        raise CatalogError(f"product {p.name!r}: {p.gtin!r} is not a valid GTIN-13")
    if p.gtin is not None and p.id != p.gtin:
        raise CatalogError(f"product {p.name!r}: id {p.id!r} must be its GTIN {p.gtin}")
    if not p.name.strip():
        raise CatalogError(f"product {p.id!r} has no name")
    for field in (p.id, p.name, p.brand, p.quantity, p.category):
        if len(field) > _MAX_TEXT:
            raise CatalogError(f"product {p.id!r}: a field is longer than {_MAX_TEXT} characters")
    text = search_text_of(p.name, p.brand, p.quantity, p.category)
    return (p.id, p.gtin, p.name, p.brand, p.quantity, p.category, text)


def _offer_row(o: NewOffer, now: str) -> tuple[str, str, str, int, str, int, str, str]:
    if isinstance(o.price_cents, bool) or not isinstance(o.price_cents, int):
        raise CatalogError(f"offer for {o.product_id!r}: price must be whole minor units")
    return (
        o.product_id,
        o.store_id,
        o.pack_quantity,
        o.price_cents,
        o.currency,
        int(o.in_stock),
        o.updated or now,
        o.url,
    )


def _default_files_dir() -> Path:
    from oculi.runtime.config import default_data_dir

    return default_data_dir()


def open_catalog(target: Path | str, *, files_dir: Path | None = None) -> Catalog:
    """The catalog at `target`; a new, empty one is filled with the demo catalog first."""
    catalog = Catalog(target, files_dir=files_dir)
    try:
        if catalog.counts()["products"] == 0:
            catalog.fill_demo()
    except BaseException:
        catalog.close()
        raise
    return catalog


def init_catalog(target: Path | str, *, force: bool = False) -> dict[str, int]:
    """`oculi catalog init`: create the catalog with the demo data (replacing it with `force`)."""
    if force and not is_database_url(target):
        path = Path(target)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    with Catalog(target) as catalog:
        if catalog.counts()["products"] and not force:
            raise CatalogError(f"{target} already holds a catalog; pass --force to replace it")
        if force:
            catalog.clear()
        catalog.fill_demo()
        return catalog.counts()
