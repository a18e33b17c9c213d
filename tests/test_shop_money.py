"""Prices as shown on the card and as spoken: integer cents in, words and symbols out."""

from __future__ import annotations

import pytest

from oculi.apps.shop.money import say_price, show_price


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [
        (215, "EUR", "€2.15"),
        (5, "EUR", "€0.05"),
        (50, "EUR", "€0.50"),
        (100, "EUR", "€1.00"),
        (123456, "EUR", "€1234.56"),
        (999, "USD", "$9.99"),
        (1099, "GBP", "£10.99"),
    ],
)
def test_show_price_uses_the_currency_symbol_and_two_decimals(
    cents: int, currency: str, shown: str
) -> None:
    assert show_price(cents, currency) == shown


def test_show_price_of_unknown_currency_uses_its_code() -> None:
    assert show_price(215, "CHF") == "2.15 CHF"


@pytest.mark.parametrize(
    ("cents", "spoken"),
    [
        (215, "2 euros 15"),
        (100, "1 euro"),
        (199, "1 euro 99"),
        (64, "64 cents"),
        (900, "9 euros"),
        (1005, "10 euros 5"),
        (99, "99 cents"),
    ],
)
def test_say_price_in_euros(cents: int, spoken: str) -> None:
    assert say_price(cents, "EUR") == spoken


def test_say_price_uses_the_currency_words() -> None:
    assert say_price(100, "USD") == "1 dollar"
    assert say_price(250, "GBP") == "2 pounds 50"
    assert say_price(300, "CNY") == "3 yuan"


def test_say_price_of_unknown_currency_uses_its_code() -> None:
    assert say_price(215, "CHF") == "2 CHF 15"


def test_say_price_of_one_cent_is_singular() -> None:
    assert say_price(1, "EUR") == "1 cent"
