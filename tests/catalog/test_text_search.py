"""Finding a product from text read off its pack, OCR mistakes included."""

from __future__ import annotations

import pytest

from oculi.services.catalog import MIN_SCORE, Catalog, Product
from oculi.services.catalog.search import Query, normalise, ocr_variants

PRODUCTS = [
    Product("4006381333931", "Oat Drink", "Oatly", "1 l", "plant milk"),
    Product("4006381333948", "Oat Drink Barista Edition", "Oatly", "1 l", "plant milk"),
    Product("4006381333955", "Oat Drink", "Oatly", "250 ml", "plant milk"),
    Product("5449000000996", "Coca-Cola Zero Sugar", "Coca-Cola", "6 x 330 ml", "soft drinks"),
    Product("8715700407760", "Tomato Ketchup", "Heinz", "500 ml", "sauces"),
    Product("6921168509256", "农夫山泉 饮用天然水", "农夫山泉", "550ml", "水"),
    Product("3017620422003", "Nutella", "Ferrero", "400 g", "pâtes à tartiner"),
    Product(None, "Crème Fraîche Épaisse", "Président", "20 cl", "crème", id="photo:creme"),
]


@pytest.fixture
def shelf(catalog: Catalog) -> Catalog:
    catalog.add([], PRODUCTS, [])
    return catalog


@pytest.mark.parametrize(
    ("read", "expected"),
    [
        ("0ATLY 0AT DRINK 1L", "4006381333931"),
        ("Oatly Oat Drink 1 l", "4006381333931"),
        ("OATLY 0AT DRlNK BARISTA EDITI0N 1L", "4006381333948"),
        ("oatly oat drink 250ml", "4006381333955"),
        ("COCA COLA zero sugar 6x330ml", "5449000000996"),
        ("Heinz TOMAT0 KETCHUP", "8715700407760"),
        ("HElNZ Tomato Ketchup 500 ml squeeze me", "8715700407760"),
        ("农夫山泉 饮用天然水 550ml", "6921168509256"),
        ("农夫山泉饮用天然水", "6921168509256"),
        ("creme fraiche epaisse PRESIDENT", "photo:creme"),
        ("Ferrero nutela 400g", "3017620422003"),
    ],
)
def test_ocr_text_finds_the_product(shelf: Catalog, read: str, expected: str) -> None:
    matches = shelf.search_text(read)
    assert matches, f"nothing found for {read!r}"
    best, score = matches[0]
    assert best.id == expected, [(p.name, p.quantity, s) for p, s in matches]
    assert MIN_SCORE <= score <= 1.0


def test_a_whole_pack_of_text_still_finds_the_product(shelf: Catalog) -> None:
    read = (
        "OATLY 0AT DRINK 1L  Ingredients: water, oats 10%, rapeseed oil, calcium carbonate, "
        "salt, vitamins. Shake before use. Keep refrigerated after opening. Best before: see top"
    )
    (best, _), *_ = shelf.search_text(read)
    assert best.id == "4006381333931"


def test_the_pack_size_read_decides_between_sizes(shelf: Catalog) -> None:
    ids = [p.id for p, _ in shelf.search_text("Oatly Oat Drink 250 ml")]
    assert ids.index("4006381333955") < ids.index("4006381333931")


def test_scores_are_best_first_and_limited(shelf: Catalog) -> None:
    matches = shelf.search_text("Oatly oat drink", limit=2)
    assert len(matches) == 2
    assert matches[0][1] >= matches[1][1]


@pytest.mark.parametrize(
    "read", ["", "   ", "totally unrelated words here", "drink", "!!!", "12345", "x"]
)
def test_nothing_is_claimed_below_the_floor(shelf: Catalog, read: str) -> None:
    assert shelf.search_text(read) == []


def test_a_higher_floor_keeps_fewer(shelf: Catalog) -> None:
    loose = shelf.search_text("oatly oat drink", limit=10, min_score=0.3)
    strict = shelf.search_text("oatly oat drink", limit=10, min_score=0.95)
    assert len(strict) < len(loose)


def test_search_follows_product_updates(shelf: Catalog) -> None:
    shelf.add([], [Product("8715700407760", "Mayonnaise", "Heinz", "400 ml")], [])
    assert [p.name for p, _ in shelf.search_text("HEINZ MAY0NNAISE")][:1] == ["Mayonnaise"]
    assert all(p.name != "Tomato Ketchup" for p, _ in shelf.search_text("tomato ketchup"))


def test_normalise_drops_case_accents_and_punctuation() -> None:
    assert normalise("Crème  Fraîche, ÉPAISSE!") == "creme fraiche epaisse"
    assert normalise("农夫山泉 550ml") == "农夫山泉 550ml"


def test_ocr_variants_swap_digits_for_letters_but_leave_sizes_alone() -> None:
    assert "oatly" in ocr_variants("0atly")
    assert "500g" in ocr_variants("5oog")
    assert ocr_variants("330ml") == {"330ml"}


def test_query_builds_safe_full_text_expressions() -> None:
    query = Query.of('OR "AND" NEAR( x*')
    assert all(part.startswith('"') for part in query.fts_match().split(" OR "))
