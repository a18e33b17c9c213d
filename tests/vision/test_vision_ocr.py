"""The text path: shelf prices as people print them, and OCR of generated tags and packs."""

from __future__ import annotations

import pytest

from oculi.vision.ocr import (
    ShelfPrice,
    TextLine,
    TextReader,
    parse_prices,
    read_text,
    shelf_price,
    words_for_search,
)
from oculi.vision.samples import pack_front, price_tag, shelf_frame, text_frame


@pytest.mark.parametrize(
    ("text", "cents", "currency", "per"),
    [
        ("€2.49", 249, "EUR", None),
        ("2,49 €", 249, "EUR", None),
        ("2,49 EUR", 249, "EUR", None),
        ("¥12.80", 1280, "CNY", None),
        ("￥ 9.9", 990, "CNY", None),
        ("12.80元/袋", 1280, "CNY", None),
        ("9.90元", 990, "CNY", None),
        ("$3.99", 399, "USD", None),
        ("£1.50", 150, "GBP", None),
        ("1.299,00 €", 129900, "EUR", None),
        ("0,99", 99, None, None),
        ("2.49/kg", 249, None, "kg"),
        ("2,49 € / kg", 249, "EUR", "kg"),
        ("€/kg 2.49", 249, "EUR", "kg"),
        ("1.99/lb", 199, None, "lb"),
        ("€1.29/100g", 129, "EUR", "100g"),
        ("6.50元/斤", 650, "CNY", "斤"),
    ],
)
def test_shelf_prices_parse_into_cents(
    text: str, cents: int, currency: str | None, per: str | None
) -> None:
    (price,) = parse_prices(text)
    assert (price.cents, price.currency, price.per) == (cents, currency, per)


@pytest.mark.parametrize(
    "text", ["500 g", "1,5 l", "6 x 330 ml", "EAN 4006381333931", "SPF 50", "12 st", "2024"]
)
def test_sizes_codes_and_bare_numbers_are_not_prices(text: str) -> None:
    assert parse_prices(text) == []


def _line(text: str, height: float) -> TextLine:
    return TextLine(text, 0.99, (0.4, 0.5, 0.6, 0.5 + height))


def test_the_pack_price_wins_over_the_smaller_unit_price() -> None:
    lines = [_line("15,98 €/kg", 0.02), _line("€7.99", 0.06), _line("Dark Roast", 0.04)]
    assert shelf_price(lines) == ShelfPrice(799, "EUR", None, "€7.99")
    assert shelf_price([_line("15,98 €/kg", 0.02)]) is None


def test_prices_are_left_out_of_the_catalog_search() -> None:
    lines = [_line("Kaffa Hills", 0.06), _line("€7.99", 0.06), _line("500 g", 0.03)]
    assert words_for_search(lines) == "Kaffa Hills 500 g"


@pytest.mark.parametrize(
    ("lines", "cents"),
    [(["€2.49"], 249), (["2,49 €", "4,98 €/kg"], 249), (["SALE", "$3.99"], 399)],
)
def test_ocr_reads_the_price_on_a_generated_shelf_tag(
    ocr: TextReader, lines: list[str], cents: int
) -> None:
    frame = text_frame([price_tag(lines)], seed=len(lines))
    read = read_text(frame, None, reader=ocr)
    price = shelf_price(read.lines)
    assert price is not None and price.cents == cents, read.text


@pytest.mark.usefixtures("cjk")
def test_ocr_reads_a_chinese_pack_and_its_yuan_price(ocr: TextReader) -> None:
    frame = text_frame([pack_front("伊利", "纯牛奶", "250ml", cjk=True),
                        price_tag(["¥12.80"], cjk=True, size=30)])  # fmt: skip
    read = read_text(frame, (0.5, 0.5), reader=ocr)
    assert "伊利" in read.text and "纯牛奶" in read.text
    assert shelf_price(read.lines) == ShelfPrice(1280, "CNY", None, "¥12.80")


def test_ocr_reads_brand_name_and_size_biggest_print_first(ocr: TextReader) -> None:
    frame = shelf_frame([pack_front("Himala", "Basmati Rice", "1 kg")], seed=1)
    read = read_text(frame, (0.5, 0.5), reader=ocr)
    assert read.lines and read.lines[0].text == "Himala"
    assert "Basmati Rice" in read.text


def test_nothing_to_read_gives_no_lines(ocr: TextReader) -> None:
    frame = text_frame([], seed=3)
    assert read_text(frame, None, reader=ocr).lines == ()
