"""Offer imports from CSV: prices to minor units, stores created, bad rows reported by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from oculi.errors import CatalogError
from oculi.services.catalog import Catalog
from oculi.services.catalog.imports import import_offers, parse_price
from oculi.services.demo_catalog import DEMO_PRODUCTS

OAT = DEMO_PRODUCTS[0].gtin
COFFEE = DEMO_PRODUCTS[1].gtin
HEADER = "gtin,store,store_name,price,currency,pack_quantity,date,url,in_stock,name\n"


def _csv(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "offers.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_offers_land_with_their_store_pack_date_and_link(tmp_path: Path, catalog: Catalog) -> None:
    source = _csv(
        tmp_path,
        f'{OAT},corner,Corner Shop,"1,99",eur,,2026-05-01,https://corner.example/oat,yes,\n'
        f"{OAT},corner,,10.50,EUR,6 x 1 l,2026-05-01,,no,\n"
        f"{COFFEE},depot,,7.99,EUR,,,,,\n",
    )
    report = import_offers(catalog, source)
    assert report.clean and report.imported == 3
    assert catalog.stores()["corner"] == "Corner Shop"
    comparison = catalog.compare_offers(OAT)
    assert comparison is not None
    corner = [o for o in comparison.offers if o.store_id == "corner"]
    assert {(o.price_cents, o.pack_quantity, o.in_stock) for o in corner} == {
        (199, "", True),
        (1050, "6 x 1 l", False),
    }
    single = next(o for o in corner if not o.pack_quantity)
    assert single.url == "https://corner.example/oat" and single.updated == "2026-05-01"
    assert comparison.best is not None and comparison.best.store_id == "corner"
    coffee = catalog.compare_prices(COFFEE)
    assert coffee is not None and coffee.best is not None and coffee.best.price_cents == 799


def test_bad_rows_are_reported_by_line_and_the_rest_lands(tmp_path: Path, catalog: Catalog) -> None:
    source = _csv(
        tmp_path,
        f"{OAT},corner,,1.99,EUR,,,,,\n"
        f"4006381333931,corner,,1.00,EUR,,,,,\n"
        f"{OAT},corner,,free,EUR,,,,,\n"
        f"{OAT},corner,,1.999,EUR,,,,,\n"
        f"{OAT},corner,,1.00,EURO,,,,,\n"
        f"{OAT},corner,,1.00,EUR,,May 1st,,,\n"
        f"{OAT},corner,,1.00,EUR,,,ftp://x,,\n"
        f"{OAT},corner,,1.00,EUR,,,,maybe,\n"
        f"{OAT},,,1.00,EUR,,,,,\n"
        f"{OAT},corner,,0,EUR,,,,,\n"
        f"4006381333932,corner,,1.00,EUR,,,,,\n"
        f"{OAT},corner\n"
        "5449000000996,corner,,0.99,EUR,,,,,Cola\n",
    )
    report = import_offers(catalog, source)
    lines = [p.where for p in report.problems]
    assert lines == [f"line {n}" for n in range(3, 14)]
    messages = " | ".join(p.message for p in report.problems)
    for expected in (
        "not in the catalog",
        "not a number",
        "decimals",
        "ISO 4217",
        "YYYY-MM-DD",
        "http",
        "in_stock",
        "no store",
        "more than zero",
        "check digit",
        "fields",
    ):
        assert expected in messages
    assert report.imported == 2 and report.created == 1
    cola = catalog.product("5449000000996")
    assert cola is not None and cola.name == "Cola"


def test_strict_offer_import_writes_nothing(tmp_path: Path, catalog: Catalog) -> None:
    source = _csv(tmp_path, f"{OAT},corner,,1.99,EUR,,,,,\n{OAT},corner,,x,EUR,,,,,\n")
    before = catalog.counts()
    with pytest.raises(CatalogError, match="line 3"):
        import_offers(catalog, source, strict=True)
    assert catalog.counts() == before
    assert "corner" not in catalog.stores()


def test_offers_by_product_id(tmp_path: Path, catalog: Catalog) -> None:
    source = _csv(
        tmp_path,
        f"{OAT},corner,1.99,EUR\nphoto:nothing,corner,1.00,EUR\n",
        header="product_id,store,price,currency\n",
    )
    report = import_offers(catalog, source)
    assert report.imported == 1
    assert [str(p) for p in report.problems] == [
        "line 3: no product 'photo:nothing' in the catalog"
    ]


def test_an_offers_file_without_a_product_column_is_refused(
    tmp_path: Path, catalog: Catalog
) -> None:
    source = _csv(tmp_path, "corner,1.99,EUR\n", header="store,price,currency\n")
    with pytest.raises(CatalogError, match="gtin or a product_id"):
        import_offers(catalog, source)


@pytest.mark.parametrize(
    ("text", "currency", "cents"),
    [
        ("2.49", "EUR", 249),
        ("2,49", "EUR", 249),
        ("1 299,00", "EUR", 129900),
        ("1.299,50", "EUR", 129950),
        ("1,299.50", "USD", 129950),
        ("3", "EUR", 300),
        ("120", "JPY", 120),
        ("1.250", "KWD", 1250),
    ],
)
def test_prices_become_whole_minor_units(text: str, currency: str, cents: int) -> None:
    assert parse_price(text, currency) == cents


@pytest.mark.parametrize("text", ["", "abc", "-1", "0", "1.5", "nan", "inf"])
def test_prices_that_cannot_be_charged_are_refused(text: str) -> None:
    with pytest.raises(CatalogError):
        parse_price(text, "JPY")
