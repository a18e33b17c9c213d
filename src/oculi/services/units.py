"""Pack quantities as people write them, normalised so prices compare per litre, kg or item.

"6 x 330 ml", "6x0,33l", "1,5 l", "500g", "12 st", "pack of 4", "16 fl oz (1 pt) 473 ml": a pack
label often says the same amount twice; the metric figure wins because it is the exact one.
Bare imperial words follow what a shop shelf most likely means: "pint" is the UK pint (568 ml,
milk in Britain), "fl oz" the US fluid ounce (US labels); "us pint" / "uk fl oz" say otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Unit = Literal["l", "kg", "item"]


@dataclass(frozen=True)
class Quantity:
    """How much a pack holds."""

    amount: float
    """The whole pack, in `unit`: 6 x 330 ml is 1.98 (litres); 12 pieces is 12 (items)."""
    unit: Unit
    """What a unit price is per: litre, kilogram or item."""
    count: int = 1
    """Pieces in the pack: 6 for "6 x 330 ml", 12 for "12 st", 1 for "500 g"."""


_LITRES: dict[float, tuple[str, ...]] = {
    0.001: ("ml", "毫升"),
    0.01: ("cl",),
    0.1: ("dl",),
    1.0: ("l", "ltr", "lt", "litre", "liter", "litres", "liters", "升"),
    0.0295735: ("floz", "usfloz"),
    0.0284131: ("ukfloz", "impfloz"),
    0.568261: ("pint", "pints", "pt", "ukpint", "ukpints", "imppint"),
    0.473176: ("uspint", "uspints", "uspt"),
    0.946353: ("qt", "quart"),
    3.78541: ("gal", "gallon"),
}
_KILOGRAMS: dict[float, tuple[str, ...]] = {
    1e-6: ("mg",),
    0.001: ("g", "gr", "gram", "grams", "克"),
    1.0: ("kg", "kilo", "kilos", "千克", "公斤"),
    0.5: ("斤",),
    0.0283495: ("oz",),
    0.453592: ("lb", "lbs"),
}
_MEASURES: dict[str, tuple[Unit, float]] = {
    **{word: ("l", factor) for factor, words in _LITRES.items() for word in words},
    **{word: ("kg", factor) for factor, words in _KILOGRAMS.items() for word in words},
}
_METRIC = {*_LITRES[0.001], *_LITRES[0.01], *_LITRES[0.1], *_LITRES[1.0],
           *_KILOGRAMS[1e-6], *_KILOGRAMS[0.001], *_KILOGRAMS[1.0]}  # fmt: skip
_PIECES = {
    "st", "stk", "stück", "stuck", "kpl", "pcs", "pc", "piece", "pieces", "pack", "pk", "pks",
    "count", "ct", "x", "bags", "bag", "tabs", "tablets", "capsules", "caps", "pods", "rolls",
    "sachets", "sticks", "eggs", "bars", "cans", "bottles", "个", "支", "片", "包", "瓶", "罐",
    "袋", "盒", "只", "枚", "颗", "卷",
}  # fmt: skip

_NUMBER = r"\d+(?:\.\d+)?"
_WORD = r"[a-zäöüß]+\.?|[\u4e00-\u9fff]{1,2}"
_MULTIPACK = re.compile(rf"(\d+)\s*x\s*({_NUMBER})\s*({_WORD})(?![a-z])")
_MULTIPACK_AFTER = re.compile(rf"({_NUMBER})\s*({_WORD})\s*x\s*(\d+)(?!\s*(?:{_NUMBER}))")
_SINGLE = re.compile(rf"({_NUMBER})\s*-?\s*({_WORD})(?![a-z])")
_PACK_OF = re.compile(r"(?:pack|box|set|case|bag) of (\d+)")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("×", "x").replace("*", "x").replace("℮", " ")
    # "1,000 g" (US thousands) before "1,5 l" (decimal comma)
    text = re.sub(r"(?<![\d,.])([1-9]\d{0,2}),(\d{3})(?=\s*(?:g|ml|mg)\b)", r"\1\2", text)
    text = re.sub(r"(\d),(\d)", r"\1.\2", text)
    text = re.sub(r"\bfl\.?\s*oz\b", "floz", text)
    return re.sub(r"\b(us|uk|imp)\.?\s+(floz|pints?|pt)\b", r"\1\2", text)


def _measure(word: str) -> tuple[Unit, float, bool] | None:
    """(unit, factor to it, metric?) for a unit word; None when it is not a measure."""
    key = word.rstrip(".").replace(".", "")
    for candidate in (key, key[:1]) if _is_cjk(key) else (key,):
        if candidate in _MEASURES:
            unit, factor = _MEASURES[candidate]
            return unit, factor, candidate in _METRIC
    return None


def _pieces(word: str) -> bool:
    key = word.rstrip(".")
    return key in _PIECES or (_is_cjk(key) and key[:1] in _PIECES)


def _is_cjk(word: str) -> bool:
    return bool(word) and "\u4e00" <= word[0] <= "\u9fff"


def parse_quantity(text: str) -> Quantity | None:
    """The quantity a pack label states, or None when it states none we can use."""
    if not text or not text.strip():
        return None
    norm = _normalise(text)
    for pattern, count_group, amount_group, unit_group in (
        (_MULTIPACK, 1, 2, 3),
        (_MULTIPACK_AFTER, 3, 1, 2),
    ):
        for match in pattern.finditer(norm):
            measure = _measure(match.group(unit_group))
            count = int(match.group(count_group))
            amount = float(match.group(amount_group))
            if measure is not None and count > 0 and amount > 0:
                unit, factor, _ = measure
                return Quantity(round(count * amount * factor, 9), unit, count)
    measures: list[tuple[bool, Quantity]] = []
    pieces: list[int] = []
    for match in _SINGLE.finditer(norm):
        number, word = float(match.group(1)), match.group(2)
        if number <= 0:
            continue
        if (measure := _measure(word)) is not None:
            unit, factor, metric = measure
            measures.append((metric, Quantity(round(number * factor, 9), unit)))
        elif _pieces(word) and number.is_integer():
            pieces.append(int(number))
    if measures:
        exact = [q for is_metric, q in measures if is_metric]
        return (exact or [q for _, q in measures])[0]
    if (pack_of := _PACK_OF.search(norm)) and int(pack_of.group(1)) > 0:
        pieces.insert(0, int(pack_of.group(1)))
    if pieces:
        return Quantity(float(pieces[0]), "item", pieces[0])
    return None


def unit_price(price_minor: int, quantity: Quantity | None) -> float | None:
    """Minor currency units per litre, kg or item; None when the quantity is unknown."""
    if quantity is None or quantity.amount <= 0:
        return None
    return price_minor / quantity.amount


def is_unit_word(word: str) -> bool:
    """Whether `word` names a measure or a piece count ("ml", "kg", "st", "pcs", "克")."""
    return _measure(word.casefold()) is not None or _pieces(word.casefold())
