"""The same catalog in PostgreSQL, against a real server the tests start (pgserver)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from catalogdata import draw_photo

from oculi.errors import CatalogError
from oculi.services.catalog import Catalog, NewOffer, Product, init_catalog, open_catalog
from oculi.services.catalog.imports import import_photos, import_products
from oculi.services.demo_catalog import DEMO_PRODUCTS

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def url(pg_url: str) -> str:
    """A fresh database per test on the session's server (tests/conftest.py)."""
    return pg_url


@pytest.fixture
def pg(url: str, tmp_path: Path) -> Iterator[Catalog]:
    with open_catalog(url, files_dir=tmp_path) as catalog:
        yield catalog


def test_a_new_database_gets_the_demo_catalog(pg: Catalog) -> None:
    assert pg.kind == "postgresql"
    assert pg.counts() == {"products": 12, "stores": 4, "offers": 48, "photos": 0}
    for demo in DEMO_PRODUCTS:
        comparison = pg.compare_prices(demo.gtin)
        assert comparison is not None and comparison.best is not None
        cheapest = min(c for _, c in demo.prices if c is not None)
        assert comparison.best.price_cents == cheapest


def test_text_search_tolerates_ocr_noise(pg: Catalog) -> None:
    pg.add([], [Product("4006381333931", "Oat Drink", "Oatly", "1 l", "plant milk"),
                Product("6921168509256", "饮用天然水", "农夫山泉", "550ml")], [])  # fmt: skip
    (best, score), *_ = pg.search_text("0ATLY 0AT DRINK 1L")
    assert best.id == "4006381333931" and score > 0.9
    (best, _), *_ = pg.search_text("农夫山泉 饮用天然水")
    assert best.id == "6921168509256"
    assert pg.search_text("totally unrelated words") == []


def test_unit_price_ranking(pg: Catalog) -> None:
    gtin = DEMO_PRODUCTS[0].gtin
    pg.add([], [], [NewOffer(gtin, "depot", 900, "EUR", pack_quantity="6 x 1 l")])
    comparison = pg.compare_offers(gtin, shelf_price_cents=249)
    assert comparison is not None and comparison.ranked_by == "unit_price"
    assert comparison.best is not None and comparison.best.pack_quantity == "6 x 1 l"
    assert comparison.shelf_saving_cents == 249 - 150


def test_an_import_is_one_transaction(pg: Catalog, tmp_path: Path) -> None:
    source = tmp_path / "p.jsonl.gz"
    rows = [json.dumps({"code": "4006381333931", "product_name": "Pencil"}), "{bad"]
    source.write_bytes(gzip.compress("\n".join(rows).encode()))
    before = pg.counts()
    with pytest.raises(CatalogError, match="line 2"):
        import_products(pg, source, strict=True)
    assert pg.counts() == before
    report = import_products(pg, source)
    assert report.imported == 1 and [p.where for p in report.problems] == ["line 2"]
    assert pg.product("4006381333931") is not None


def test_photos_live_in_the_local_files_folder(pg: Catalog, tmp_path: Path) -> None:
    draw_photo(tmp_path / "shots" / "Bravo-Apple-Juice" / "1.jpg", (200, 180, 40))
    report = import_photos(pg, tmp_path / "shots")
    assert report.imported == 1
    ((product_id, path),) = pg.photos()
    assert product_id == "photo:Bravo-Apple-Juice"
    assert path.is_file() and tmp_path in path.parents


def test_init_with_force_resets_the_database(url: str) -> None:
    with open_catalog(url) as catalog:
        catalog.add([("corner", "Corner")], [], [])
    with pytest.raises(CatalogError, match="force"):
        init_catalog(url)
    assert init_catalog(url, force=True)["stores"] == 4


def test_a_url_folded_by_path_still_connects(url: str, tmp_path: Path) -> None:
    with Catalog(Path(url), files_dir=tmp_path) as catalog:
        assert catalog.kind == "postgresql"


def test_an_unreachable_server_is_a_catalog_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot connect") as caught:
        Catalog(f"postgresql://postgres:secret@/none?host={tmp_path}&connect_timeout=2")
    assert "secret" not in str(caught.value)
