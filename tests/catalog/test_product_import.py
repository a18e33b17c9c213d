"""Product imports: Open Food Facts JSONL and CSV, bad rows reported by line, one transaction."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from oculi.errors import CatalogError
from oculi.services.catalog import Catalog
from oculi.services.catalog.imports import import_products

GOOD = "4006381333931"
GOOD_2 = "5449000000996"


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _record(code: str, name: str, **extra: str) -> str:
    return json.dumps({"code": code, "product_name": name, **extra})


def test_open_food_facts_jsonl_imports_every_usable_product(
    catalog: Catalog, shared_data: Path
) -> None:
    source = shared_data / "barcodes/openfoodfacts/openfoodfacts-products-min.jsonl.gz"
    if not source.is_file():
        pytest.skip("Open Food Facts sample missing")
    before = catalog.counts()["products"]
    seen: list[tuple[int, int]] = []
    report = import_products(catalog, source, lambda done, total: seen.append((done, total)))
    assert report.imported > 950
    assert catalog.counts()["products"] == before + report.imported
    assert seen and seen[-1][0] == seen[-1][1]
    product = catalog.product("0000101209159")
    assert product is not None
    assert product.brand == "Bovetti" and product.quantity == "350 g"
    # every problem names its line; bad check digits are among them, never imported
    assert all(p.where.startswith("line ") for p in report.problems)
    assert any("check digit" in p.message for p in report.problems)
    assert catalog.product("0000000022205") is None


def test_open_food_facts_csv_and_jsonl_agree(tmp_path: Path, shared_data: Path) -> None:
    folder = shared_data / "barcodes/openfoodfacts"
    if not (folder / "off_products_1000.csv").is_file():
        pytest.skip("Open Food Facts sample missing")
    with Catalog(tmp_path / "csv.sqlite3") as from_csv:
        csv_report = import_products(from_csv, folder / "off_products_1000.csv")
        csv_lines = [int(p.where.split()[1]) for p in csv_report.problems]
        with Catalog(tmp_path / "jsonl.sqlite3") as from_jsonl:
            jsonl_report = import_products(
                from_jsonl, folder / "openfoodfacts-products-min.jsonl.gz"
            )
            assert csv_report.imported == jsonl_report.imported
            # the CSV has a header line, so each row sits one line lower
            assert csv_lines == [int(p.where.split()[1]) + 1 for p in jsonl_report.problems]
            assert from_csv.product("0000105000011") == from_jsonl.product("0000105000011")
    found = Catalog(tmp_path / "csv.sqlite3").search_text("LAGGS CHAM0MILE HERBAL TEA")
    assert found and found[0][0].id == "0000105000011"


def test_bad_rows_are_skipped_and_reported_with_their_line(
    tmp_path: Path, catalog: Catalog
) -> None:
    source = _jsonl(
        tmp_path / "p.jsonl",
        [
            _record(GOOD, "Pencil", brands="Acme, Acme Corp", categories="Office, Pencils"),
            "{not json",
            _record("4006381333932", "Bad check digit"),
            "",
            _record(GOOD_2, ""),
            "[1, 2]",
            json.dumps({"product_name": "No code"}),
            _record("036000291452", "UPC-A soap", quantity="3 x 100 g"),
        ],
    )
    report = import_products(catalog, source)
    assert report.imported == 2
    assert [(p.where, p.message.split()[0]) for p in report.problems] == [
        ("line 2", "not"),
        ("line 3", "code"),
        ("line 5", "product"),
        ("line 6", "not"),
        ("line 7", "no"),
    ]
    pencil = catalog.product(GOOD)
    assert pencil is not None and pencil.brand == "Acme" and pencil.category == "Pencils"
    assert catalog.product("0036000291452") is not None  # UPC-A normalised to GTIN-13


def test_strict_rejects_the_whole_file(tmp_path: Path, catalog: Catalog) -> None:
    source = _jsonl(tmp_path / "p.jsonl", [_record(GOOD, "Pencil"), "{oops"])
    before = catalog.counts()
    with pytest.raises(CatalogError, match="line 2"):
        import_products(catalog, source, strict=True)
    assert catalog.counts() == before


def test_a_damaged_gzip_writes_nothing(tmp_path: Path, catalog: Catalog) -> None:
    lines = [_record(GOOD, "Pencil")] * 2000
    whole = gzip.compress(("\n".join(lines) + "\n").encode())
    source = tmp_path / "p.jsonl.gz"
    source.write_bytes(whole[: len(whole) // 2])
    before = catalog.counts()
    with pytest.raises(CatalogError, match="damaged"):
        import_products(catalog, source)
    assert catalog.counts() == before


def test_a_file_that_is_not_utf8_writes_nothing(tmp_path: Path, catalog: Catalog) -> None:
    source = tmp_path / "p.csv"
    source.write_bytes(
        b"code,product_name\n" + f"{GOOD},Pencil\n".encode() + b"5449000000996,Caf\xe9\n"
    )
    before = catalog.counts()
    with pytest.raises(CatalogError, match=r"line 3.*UTF-8"):
        import_products(catalog, source)
    assert catalog.counts() == before


def test_csv_rows_with_the_wrong_shape_are_reported(tmp_path: Path, catalog: Catalog) -> None:
    source = tmp_path / "p.csv"
    source.write_text(
        "code,product_name,brands,quantity\n"
        f'{GOOD},"Pencil, HB",Acme,12 st\n'
        f"{GOOD_2},Cola\n"
        "\n"
        f'5000112637922,"Two-line\nname",Acme,1 l\n'
        "96385074,Tiny,Acme,10 g\n",
        encoding="utf-8",
    )
    report = import_products(catalog, source)
    assert [str(p) for p in report.problems] == ["line 3: 2 fields, the header has 4"]
    assert report.imported == 3
    assert catalog.product("0000096385074") is not None  # EAN-8 padded
    two_line = catalog.product("5000112637922")
    assert two_line is not None and two_line.name == "Two-line name"


def test_a_csv_without_the_needed_columns_is_refused(tmp_path: Path, catalog: Catalog) -> None:
    source = tmp_path / "offers.csv"
    source.write_text("store,price\nfreshmart,1.00\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="missing columns: code"):
        import_products(catalog, source)


def test_an_empty_or_missing_file_is_refused(tmp_path: Path, catalog: Catalog) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(CatalogError, match="empty"):
        import_products(catalog, tmp_path / "empty.jsonl")
    with pytest.raises(CatalogError, match="cannot read"):
        import_products(catalog, tmp_path / "missing.jsonl")


def test_a_row_the_database_refuses_is_skipped_alone(tmp_path: Path, catalog: Catalog) -> None:
    source = _jsonl(
        tmp_path / "p.jsonl",
        [_record(GOOD, "Pencil"), _record(GOOD_2, "x" * 600), _record("96385074", "Tiny")],
    )
    report = import_products(catalog, source)
    assert [p.where for p in report.problems] == ["line 2"]
    assert catalog.product(GOOD) is not None and catalog.product("0000096385074") is not None


def test_importing_again_updates_rather_than_duplicates(tmp_path: Path, catalog: Catalog) -> None:
    source = _jsonl(tmp_path / "p.jsonl", [_record(GOOD, "Pencil")])
    import_products(catalog, source)
    count = catalog.counts()["products"]
    _jsonl(source, [_record(GOOD, "Pencil HB")])
    import_products(catalog, source)
    assert catalog.counts()["products"] == count
    product = catalog.product(GOOD)
    assert product is not None and product.name == "Pencil HB"
