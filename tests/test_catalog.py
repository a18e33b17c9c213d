"""The product catalog: SQLite (WAL), demo data, price comparison, all-or-nothing writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from oculi.errors import CatalogError
from oculi.services.catalog import Catalog, Product, init_catalog, open_catalog
from oculi.services.demo_catalog import (
    CURRENCY,
    DEMO_PRODUCTS,
    DEMO_STORES,
    DemoProduct,
    demo_product,
)


def _gs1_check_digit_ok(code: str) -> bool:
    """The GS1 mod-10 rule written out here, independent of oculi.vision.gtin."""
    digits = [int(c) for c in code]
    # weights 3,1,3,1... counted from the digit just left of the check digit
    weights = [3 if i % 2 == 0 else 1 for i in range(len(digits) - 1)]
    total = sum(w * d for w, d in zip(weights, reversed(digits[:-1]), strict=True))
    return (total + digits[-1]) % 10 == 0


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    init_catalog(tmp_path / "catalog.sqlite3")
    with Catalog(tmp_path / "catalog.sqlite3") as cat:
        yield cat


def test_init_creates_a_wal_catalog_with_the_demo_data(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "catalog.sqlite3"
    counts = init_catalog(path)
    assert counts["products"] == 12
    assert counts["stores"] == 4
    assert counts["offers"] == sum(len(p.prices) for p in DEMO_PRODUCTS)
    assert path.is_file()
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT count(*) FROM products").fetchone()[0] == 12
        assert db.execute("SELECT count(*) FROM stores").fetchone()[0] == 4
    finally:
        db.close()


def test_init_again_without_force_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    init_catalog(path)
    with pytest.raises(CatalogError, match="force"):
        init_catalog(path)


def test_init_with_force_replaces_the_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    init_catalog(path)
    with Catalog(path) as cat:
        cat.add([("corner", "Corner Shop")], [], [])
        assert cat.counts()["stores"] == 5
    counts = init_catalog(path, force=True)
    assert counts["products"] == 12
    assert counts["stores"] == 4
    with Catalog(path) as cat:
        assert cat.counts()["stores"] == 4


def test_open_catalog_fills_a_new_file_with_the_demo_data(tmp_path: Path) -> None:
    with open_catalog(tmp_path / "new.sqlite3") as cat:
        assert cat.counts()["products"] == len(DEMO_PRODUCTS)


def test_every_demo_gtin_has_a_valid_check_digit() -> None:
    for p in DEMO_PRODUCTS:
        assert len(p.gtin) == 13 and p.gtin.isdigit(), p.gtin
        assert _gs1_check_digit_ok(p.gtin), p.gtin
    assert len({p.gtin for p in DEMO_PRODUCTS}) == len(DEMO_PRODUCTS)


def test_check_digit_helper_agrees_with_known_real_codes() -> None:
    # sanity check of the independent rule used above
    assert _gs1_check_digit_ok("4006381333931")
    assert _gs1_check_digit_ok("036000291452")
    assert not _gs1_check_digit_ok("4006381333932")


def test_every_demo_product_names_every_demo_store() -> None:
    stores = {store_id for store_id, _ in DEMO_STORES}
    for p in DEMO_PRODUCTS:
        assert {store for store, _ in p.prices} == stores, p.name


def test_demo_product_looks_up_by_gtin() -> None:
    first = DEMO_PRODUCTS[0]
    assert demo_product(first.gtin) == first
    assert demo_product("0000000000000") is None


@pytest.mark.parametrize("demo", DEMO_PRODUCTS, ids=lambda p: p.name)
def test_compare_prices_matches_the_demo_data(catalog: Catalog, demo: DemoProduct) -> None:
    in_stock = {store: cents for store, cents in demo.prices if cents is not None}
    out_of_stock = {store for store, cents in demo.prices if cents is None}
    cheapest = min(in_stock.values())
    (best_store,) = [store for store, cents in in_stock.items() if cents == cheapest]

    comparison = catalog.compare_prices(demo.gtin)
    assert comparison is not None
    assert comparison.product.name == demo.name
    assert comparison.best is not None
    assert comparison.best.store_id == best_store
    assert comparison.best.price_cents == cheapest
    assert comparison.best.currency == CURRENCY
    assert comparison.saving_cents == max(in_stock.values()) - cheapest

    ids = [o.store_id for o in comparison.offers]
    # in-stock offers first, cheapest first; the out-of-stock ones after all of them
    n = len(in_stock)
    assert sorted(ids[:n]) == sorted(in_stock)
    assert set(ids[n:]) == out_of_stock
    assert [o.price_cents for o in comparison.offers[:n]] == sorted(in_stock.values())
    assert all(o.in_stock for o in comparison.offers[:n])
    assert not any(o.in_stock for o in comparison.offers[n:])
    assert [o.store_id for o in comparison.available] == ids[:n]


def test_store_names_come_with_the_offers(catalog: Catalog) -> None:
    comparison = catalog.compare_prices(DEMO_PRODUCTS[0].gtin)
    assert comparison is not None
    names = dict(DEMO_STORES)
    for offer in comparison.offers:
        assert offer.store == names[offer.store_id]


def test_unknown_gtin_gives_none(catalog: Catalog) -> None:
    assert catalog.compare_prices("4006381333931") is None
    assert catalog.product("4006381333931") is None


def test_product_out_of_stock_everywhere_has_no_best(tmp_path: Path) -> None:
    gtin = "4006381333931"
    with Catalog(tmp_path / "c.sqlite3") as cat:
        cat.add(
            [("a", "A"), ("b", "B")],
            [Product(gtin, "Pen")],
            [(gtin, "a", 150, "EUR", False), (gtin, "b", 120, "EUR", False)],
        )
        comparison = cat.compare_prices(gtin)
    assert comparison is not None
    assert comparison.best is None
    assert comparison.available == ()
    assert comparison.saving_cents == 0
    assert len(comparison.offers) == 2


def test_add_with_an_invalid_gtin_is_refused_and_writes_nothing(catalog: Catalog) -> None:
    before = catalog.counts()
    with pytest.raises(CatalogError, match="4006381333932"):
        catalog.add(
            [("corner", "Corner Shop")],
            [Product("4006381333931", "Good"), Product("4006381333932", "Bad check digit")],
            [],
        )
    assert catalog.counts() == before
    assert catalog.product("4006381333931") is None


@pytest.mark.parametrize("gtin", ["036000291452", "96385074", "40063813339310", "400638133393X"])
def test_add_refuses_anything_but_a_gtin_13(catalog: Catalog, gtin: str) -> None:
    before = catalog.counts()
    with pytest.raises(CatalogError):
        catalog.add([], [Product(gtin, "Odd code")], [])
    assert catalog.counts() == before


def test_offer_for_an_unknown_store_leaves_no_partial_write(catalog: Catalog) -> None:
    before = catalog.counts()
    gtin = "4006381333931"
    with pytest.raises(CatalogError):
        catalog.add(
            [("corner", "Corner Shop")],
            [Product(gtin, "Pencil")],
            [(gtin, "corner", 120, "EUR", True), (gtin, "no-such-store", 99, "EUR", True)],
        )
    assert catalog.counts() == before
    assert catalog.product(gtin) is None
    assert catalog.compare_prices(gtin) is None


def test_refused_write_is_not_visible_to_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    gtin = "4006381333931"
    with Catalog(path) as cat, pytest.raises(CatalogError):
        cat.add([("corner", "Corner")], [Product(gtin, "Pencil")], [(gtin, "x", 1, "EUR", True)])
    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT count(*) FROM products").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM stores").fetchone()[0] == 0
    finally:
        db.close()


def test_offer_with_a_non_positive_price_is_refused(catalog: Catalog) -> None:
    before = catalog.counts()
    gtin = "4006381333931"
    with pytest.raises(CatalogError):
        catalog.add([], [Product(gtin, "Free lunch")], [(gtin, "depot", 0, "EUR", True)])
    assert catalog.counts() == before


def test_add_replaces_an_existing_offer(catalog: Catalog) -> None:
    demo = DEMO_PRODUCTS[0]
    catalog.add([], [], [(demo.gtin, "freshmart", 99, CURRENCY, True)])
    comparison = catalog.compare_prices(demo.gtin)
    assert comparison is not None
    assert comparison.best is not None
    assert comparison.best.store_id == "freshmart"
    assert comparison.best.price_cents == 99
    assert len(comparison.offers) == len(demo.prices)
