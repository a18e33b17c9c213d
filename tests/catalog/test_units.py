"""Pack quantities as people write them, and what a unit price is per."""

from __future__ import annotations

import pytest

from oculi.services.units import Quantity, is_unit_word, parse_quantity, unit_price

CASES = [
    ("6 x 330 ml", 1.98, "l", 6),
    ("6x0,33l", 1.98, "l", 6),
    ("1,5 l", 1.5, "l", 1),
    ("1.5L", 1.5, "l", 1),
    ("500g", 0.5, "kg", 1),
    ("2 kg", 2.0, "kg", 1),
    ("12 st", 12.0, "item", 12),
    ("12 pcs", 12.0, "item", 12),
    ("1 pint", 0.568261, "l", 1),
    ("2 US pints", 0.946352, "l", 1),
    ("16 fl oz", 0.473176, "l", 1),
    ("1 lb", 0.453592, "kg", 1),
    ("250 cl", 2.5, "l", 1),
    ("75cl", 0.75, "l", 1),
    ("3 × 125 g", 0.375, "kg", 3),
    ("pack of 4", 4.0, "item", 4),
    ("8 pack", 8.0, "item", 8),
    ("4-pack", 4.0, "item", 4),
    ("20 bags", 20.0, "item", 20),
    ("330ml x 6", 1.98, "l", 6),
    ("24 x 33cl", 7.92, "l", 24),
    ("0,164 kg", 0.164, "kg", 1),
    ("1,000 g", 1.0, "kg", 1),
    ("1 l.", 1.0, "l", 1),
    ("2000g", 2.0, "kg", 1),
    ("500克", 0.5, "kg", 1),
    ("1.5升装", 1.5, "l", 1),
    ("12个", 12.0, "item", 12),
]


@pytest.mark.parametrize(("text", "amount", "unit", "count"), CASES, ids=[c[0] for c in CASES])
def test_quantities_as_people_write_them(text: str, amount: float, unit: str, count: int) -> None:
    quantity = parse_quantity(text)
    assert quantity is not None
    assert quantity.amount == pytest.approx(amount, rel=1e-6)
    assert quantity.unit == unit
    assert quantity.count == count


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("16 fl. oz (1 pt) 473 mL", 0.473),
        ("3.5 OZ (100g)", 0.1),
        ("1 gallon (3.78 L)", 3.78),
        ("0.75 oz (22 g)", 0.022),
    ],
)
def test_the_metric_figure_wins_when_a_label_gives_two(text: str, amount: float) -> None:
    quantity = parse_quantity(text)
    assert quantity is not None
    assert quantity.amount == pytest.approx(amount)


@pytest.mark.parametrize("text", ["", "   ", "1", "SPF 50", "Dark Chocolate 85%", "large", "0 g"])
def test_text_without_a_usable_quantity_gives_none(text: str) -> None:
    assert parse_quantity(text) is None


def test_unit_price_is_minor_units_per_litre_kg_or_item() -> None:
    assert unit_price(198, parse_quantity("6 x 330 ml")) == pytest.approx(100.0)
    assert unit_price(450, Quantity(0.5, "kg")) == pytest.approx(900.0)
    assert unit_price(600, parse_quantity("12 st")) == pytest.approx(50.0)
    assert unit_price(100, None) is None


def test_unit_words_are_recognised_in_any_case() -> None:
    assert is_unit_word("ML") and is_unit_word("pcs") and is_unit_word("克")
    assert not is_unit_word("atly")
