"""Catalog files written by older Oculi open, upgraded in place inside one transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from catalogdata import write_v1_catalog

from oculi.errors import CatalogError
from oculi.services.catalog import Catalog, NewOffer, Product, open_catalog
from oculi.services.catalog.schema import SCHEMA_VERSION

OAT = "4006381333931"
CREME = "5449000000996"
V1_OFFERS = [
    (OAT, "corner", 199, "EUR", 1),
    (OAT, "depot", 189, "EUR", 0),
    (CREME, "depot", 349, "EUR", 1),
]


def test_a_first_schema_catalog_opens_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    write_v1_catalog(path, V1_OFFERS)
    with open_catalog(path) as catalog:  # not refilled with the demo: it has products
        assert catalog.counts() == {"products": 2, "stores": 2, "offers": 3, "photos": 0}
        oat = catalog.product(OAT)
        assert oat == Product(OAT, "Oat Drink", "Oatly", "1 l", "plant milk")
        comparison = catalog.compare_prices(OAT)
        assert comparison is not None
        assert [(o.store_id, o.price_cents, o.in_stock) for o in comparison.offers] == [
            ("corner", 199, True),
            ("depot", 189, False),
        ]
        assert comparison.offers[0].updated == "2025-01-01T00:00:00+00:00"
        # the new parts work on the upgraded file
        (best, _), *_ = catalog.search_text("creme brulee DESSERT C0")
        assert best.id == CREME
        catalog.add([], [], [NewOffer(CREME, "corner", 1, "EUR", pack_quantity="6 x 100 g")])
        catalog.add([], [Product(None, "Loose apples", id="photo:apples")], [])
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
    with Catalog(path) as again:
        assert again.counts()["products"] == 3


def test_a_failed_upgrade_leaves_the_old_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    write_v1_catalog(path, [*V1_OFFERS, (OAT, "ghost", 100, "EUR", 1)])  # no such store
    with pytest.raises(CatalogError, match="missing products or stores"):
        Catalog(path)
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"stores", "products", "offers"}
        assert db.execute("SELECT count(*) FROM offers").fetchone()[0] == 4
    finally:
        db.close()


def test_a_catalog_from_a_newer_oculi_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    Catalog(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(CatalogError, match="newer Oculi"):
        Catalog(path)


@pytest.mark.parametrize("content", [b"not a database at all" * 100, b""])
def test_a_file_that_is_not_a_catalog_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.sqlite3"
    path.write_bytes(content)
    if content:
        with pytest.raises(CatalogError, match="cannot open"):
            Catalog(path)
    else:
        Catalog(path).close()  # an empty file is a new catalog


def test_unknown_tables_are_not_mistaken_for_a_catalog(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE products (sku TEXT, title TEXT)")
    db.close()
    with pytest.raises(CatalogError, match="does not recognise"):
        Catalog(path)
