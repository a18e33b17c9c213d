"""`oculi catalog ...`: exit codes 0 (all imported), 1 (rows skipped), 2 (nothing written)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from catalogdata import draw_photo

from oculi.cli import main
from oculi.services.demo_catalog import DEMO_PRODUCTS

OAT = DEMO_PRODUCTS[0].gtin


def _db(tmp_path: Path) -> list[str]:
    return ["--db", str(tmp_path / "c.sqlite3")]


def _products(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "c.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM products").fetchone()[0])


def test_import_products_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.csv"
    good.write_text("code,product_name\n4006381333931,Pencil\n", encoding="utf-8")
    assert main(["catalog", "import-products", str(good), *_db(tmp_path)]) == 0
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("code,product_name\n5449000000996,Cola\n123,Bad\n", encoding="utf-8")
    assert main(["catalog", "import-products", str(mixed), *_db(tmp_path)]) == 1
    assert "line 3" in capsys.readouterr().err
    count = _products(tmp_path)
    assert main(["catalog", "import-products", str(mixed), "--strict", *_db(tmp_path)]) == 2
    assert main(["catalog", "import-products", str(tmp_path / "nope.csv"), *_db(tmp_path)]) == 2
    assert _products(tmp_path) == count


def test_import_offers_and_price_with_a_shelf_price(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    offers = tmp_path / "offers.csv"
    offers.write_text(
        f"gtin,store,store_name,price,currency,pack_quantity\n"
        f"{OAT},corner,Corner Shop,5.94,EUR,6 x 1 l\n",
        encoding="utf-8",
    )
    assert main(["catalog", "import-offers", str(offers), *_db(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["catalog", "price", OAT, "--shelf", "2,49", *_db(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Corner Shop" in out and "6 x 1 l" in out
    assert "against the shelf: saves" in out


def test_import_photos_then_search(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    draw_photo(tmp_path / "photos" / "Bravo-Apple-Juice" / "1.jpg", (200, 180, 40))
    (tmp_path / "photos" / "Bravo-Apple-Juice" / "2.jpg").write_bytes(b"junk")
    assert main(["catalog", "import-photos", str(tmp_path / "photos"), *_db(tmp_path)]) == 1
    capsys.readouterr()
    assert main(["catalog", "search", "bravo apple juice", "--json", *_db(tmp_path)]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found[0]["id"] == "photo:Bravo-Apple-Juice" and found[0]["gtin"] is None
    assert main(["catalog", "import-photos", str(tmp_path / "none"), *_db(tmp_path)]) == 2


def test_search_with_nothing_found_still_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "search", "qwertyuiop", *_db(tmp_path)]) == 0
    assert "no product" in capsys.readouterr().out
    assert main(["catalog", "search", "oat", "--limit", "0", *_db(tmp_path)]) == 2


def test_catalog_commands_use_the_configured_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCULI_CATALOG__PATH", str(tmp_path / "configured.sqlite3"))
    assert main(["catalog", "init"]) == 0
    assert (tmp_path / "configured.sqlite3").is_file()
