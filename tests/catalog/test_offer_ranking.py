"""Offers ranked by price per litre, kg or item, and the saving against the shelf price."""

from __future__ import annotations

import pytest

from oculi.services.catalog import Catalog, NewOffer, Product
from oculi.services.demo_catalog import DEMO_PRODUCTS, DemoProduct

COLA = "4006381333931"
STORES = [("a", "Alpha"), ("b", "Beta"), ("c", "Gamma")]


def _cola(catalog: Catalog, offers: list[NewOffer], quantity: str = "330 ml") -> None:
    catalog.add(STORES, [Product(COLA, "Cola", "Fizz", quantity)], offers)


def test_a_multipack_that_costs_more_can_still_be_the_better_deal(catalog: Catalog) -> None:
    _cola(
        catalog,
        [
            NewOffer(COLA, "a", 99, "EUR"),  # 3.00 €/l
            NewOffer(COLA, "b", 499, "EUR", pack_quantity="6 x 330 ml"),  # 2.52 €/l
            NewOffer(COLA, "c", 1190, "EUR", pack_quantity="24x0,33l"),  # 1.50 €/l
        ],
    )
    comparison = catalog.compare_offers(COLA)
    assert comparison is not None
    assert comparison.ranked_by == "unit_price"
    assert [o.store_id for o in comparison.offers] == ["c", "b", "a"]
    assert comparison.offers[0].unit_price == pytest.approx(1190 / 7.92)
    # the single can's own price list is still cheapest first
    by_price = catalog.compare_prices(COLA)
    assert by_price is not None
    assert [o.store_id for o in by_price.offers] == ["a", "b", "c"]


def test_an_unreadable_pack_size_falls_back_to_price(catalog: Catalog) -> None:
    _cola(
        catalog,
        [
            NewOffer(COLA, "a", 99, "EUR"),
            NewOffer(COLA, "b", 499, "EUR", pack_quantity="party size"),
        ],
    )
    comparison = catalog.compare_offers(COLA)
    assert comparison is not None
    assert comparison.ranked_by == "price"
    assert [o.store_id for o in comparison.offers] == ["a", "b"]


def test_out_of_stock_and_other_currencies_come_last(catalog: Catalog) -> None:
    _cola(
        catalog,
        [
            NewOffer(COLA, "a", 50, "EUR", in_stock=False),
            NewOffer(COLA, "b", 120, "EUR"),
            NewOffer(COLA, "c", 90, "SEK"),
            NewOffer(COLA, "c", 110, "EUR", pack_quantity="330 ml"),
        ],
    )
    comparison = catalog.compare_offers(COLA)
    assert comparison is not None
    assert [(o.store_id, o.currency) for o in comparison.offers] == [
        ("c", "EUR"), ("b", "EUR"), ("c", "SEK"), ("a", "EUR"),
    ]  # fmt: skip
    assert comparison.saving_cents == 10


def test_saving_against_the_shelf_is_for_the_shelf_pack(catalog: Catalog) -> None:
    _cola(catalog, [NewOffer(COLA, "b", 499, "EUR", pack_quantity="6 x 330 ml")])
    comparison = catalog.compare_offers(COLA, shelf_price_cents=129)
    assert comparison is not None
    # six cans for 4.99 make one can 0.83: 1.29 on the shelf is 0.46 dearer
    assert comparison.shelf_saving_cents == 129 - round(499 / 6)


def test_a_cheap_shelf_shows_a_negative_saving(catalog: Catalog) -> None:
    demo = DEMO_PRODUCTS[0]
    comparison = catalog.compare_offers(demo.gtin, shelf_price_cents=199)
    assert comparison is not None
    assert comparison.best is not None
    assert comparison.shelf_saving_cents == 199 - comparison.best.price_cents < 0


def test_no_shelf_price_means_no_shelf_saving(catalog: Catalog) -> None:
    comparison = catalog.compare_offers(DEMO_PRODUCTS[0].gtin)
    assert comparison is not None and comparison.shelf_saving_cents is None


def test_unknown_product_id_gives_none(catalog: Catalog) -> None:
    assert catalog.compare_offers("photo:nothing") is None


@pytest.mark.parametrize("demo", DEMO_PRODUCTS, ids=lambda p: p.name)
def test_demo_offers_rank_the_same_by_unit_price_and_by_price(
    catalog: Catalog, demo: DemoProduct
) -> None:
    by_unit = catalog.compare_offers(demo.gtin)
    by_price = catalog.compare_prices(demo.gtin)
    assert by_unit is not None and by_price is not None
    assert [o.store_id for o in by_unit.offers] == [o.store_id for o in by_price.offers]
    assert by_unit.saving_cents == by_price.saving_cents
