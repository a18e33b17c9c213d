"""Read the words on a pack and its shelf tag: brand, name, size and the price.

OCR is the slow path (hundreds of milliseconds on a phone-class CPU), so it runs only when a
barcode did not settle the product or a shelf price is wanted. The engine sits behind a small
protocol; the default is RapidOCR's bundled PP-OCR models on ONNX Runtime, loaded once per
process on first use, with the angle classifier off (packs are read upright) and the input side
limited so a 720p box costs one detector pass at 640 pixels.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from PIL import Image

from oculi.errors import PerceptionError
from oculi.vision.gaze import crop, gaze_boxes, gaze_point

OCR_SIDE = 640
"""Det.limit_side_len: the longest side the text detector sees."""
OCR_THREADS = 1
"""ONNX Runtime threads; one is faster than two on a 2-core CPU shared with audio and vision."""
OCR_WINDOW = 0.6
"""The box around the gaze that is read first; the whole frame only when it holds no text."""
MIN_SCORE = 0.5
"""Lines the recogniser is less sure of than this are dropped."""

Rect = tuple[float, float, float, float]
"""left, top, right, bottom."""
RawLine = tuple[str, float, Rect]
"""What an engine returns per line: text, score, box in the image's pixels."""


@dataclass(frozen=True)
class TextLine:
    """One line of text, with its box as fractions of the frame and the recogniser's score."""

    text: str
    score: float
    box: Rect
    """left, top, right, bottom as fractions of the frame."""

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def centre(self) -> tuple[float, float]:
        return (self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2


class TextReader(Protocol):
    """An OCR engine: the lines of text in an RGB image, boxes in that image's pixels."""

    def read(self, image: Image.Image) -> list[RawLine]: ...


class RapidOcrReader:
    """RapidOCR with its bundled models; not thread-safe by itself, so calls take a lock."""

    def __init__(self, side: int = OCR_SIDE, threads: int = OCR_THREADS) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError as err:  # pragma: no cover - a broken install
            raise PerceptionError(f"OCR is not available: {err}") from err
        self._engine = RapidOCR(
            params={
                "Global.use_cls": False,
                "Global.log_level": "critical",
                "Det.limit_side_len": side,
                "Det.limit_type": "max",
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
        self._lock = threading.Lock()

    def read(self, image: Image.Image) -> list[RawLine]:
        with self._lock:
            result: Any = self._engine(image.convert("RGB"))
        if result.txts is None or result.boxes is None:
            return []
        lines = []
        for text, score, points in zip(result.txts, result.scores, result.boxes, strict=True):
            xs = [float(p[0]) for p in points]
            ys = [float(p[1]) for p in points]
            lines.append((str(text), float(score), (min(xs), min(ys), max(xs), max(ys))))
        return lines


_shared: TextReader | None = None
_shared_lock = threading.Lock()


def shared_reader() -> TextReader:
    """The process's OCR engine, loaded on first use (about a second) and kept."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RapidOcrReader()
        return _shared


@dataclass(frozen=True)
class ReadText:
    """What OCR read near the gaze, biggest print first, and how long it took."""

    lines: tuple[TextLine, ...]
    ms: float

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)


def read_text(
    image: Image.Image,
    gaze: tuple[float, float] | None = None,
    *,
    reader: TextReader | None = None,
    window: float = OCR_WINDOW,
) -> ReadText:
    """The text in the box around the gaze, or in the whole frame when that box has none.

    Lines come biggest first (brand and name are printed larger than the small print), ties
    broken by distance to the gaze.
    """
    engine = reader or shared_reader()  # the first call loads the models: not part of `ms`
    start = time.perf_counter()
    gx, gy = gaze_point(gaze)
    lines: list[TextLine] = []
    for box in gaze_boxes(image.size, gaze, window):
        for text, score, (left, top, right, bottom) in engine.read(crop(image, box)):
            if score < MIN_SCORE or not text.strip():
                continue
            lines.append(
                TextLine(text.strip(), score,
                         ((box.left + left) / image.width, (box.top + top) / image.height,
                          (box.left + right) / image.width, (box.top + bottom) / image.height))
            )  # fmt: skip
        if lines:
            break
    lines.sort(
        key=lambda ln: (-round(ln.height, 2), math.hypot(ln.centre[0] - gx, ln.centre[1] - gy))
    )
    return ReadText(tuple(lines), (time.perf_counter() - start) * 1000)


# --- shelf prices -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ShelfPrice:
    """A price read from a tag, in integer cents (fen for yuan)."""

    cents: int
    currency: str | None
    """ISO code when a symbol or word said it (EUR, USD, GBP, CNY…), else None."""
    per: str | None = None
    """The unit of a unit price ("kg", "l", "100g", "斤"…); None for the pack's own price."""
    text: str = ""
    """The words it was read from."""


_CURRENCIES = {
    "€": "EUR", "EUR": "EUR", "$": "USD", "USD": "USD", "£": "GBP", "GBP": "GBP",
    "¥": "CNY", "￥": "CNY", "元": "CNY", "块": "CNY", "CNY": "CNY", "RMB": "CNY",
    "CHF": "CHF", "KR": "SEK", "ZŁ": "PLN",
}  # fmt: skip
_SYMBOLS = "|".join(re.escape(s) for s in sorted(_CURRENCIES, key=len, reverse=True))
_UNITS = (
    r"(?:100\s?g|100\s?ml|kg|g|lb|l|ml|cl|oz|st|pcs|pc|piece|item"
    r"|公斤|千克|斤|克|毫升|升|个|件|袋|瓶|盒|包)"
)
_PACK_UNITS = {"pcs", "pc", "piece", "item", "个", "件", "袋", "瓶", "盒", "包"}
""""12.80元/袋" is the price of one pack, not a unit price."""
_PRICE = re.compile(
    rf"(?P<before>{_SYMBOLS})?"
    rf"(?:\s*/\s*(?P<per_before>{_UNITS}))?\s*"
    r"(?<![\d.,])(?P<number>\d{1,5}(?:[.,]\d{3})*(?:[.,]\d{1,2})?)(?![\d])"
    rf"(?:\s*(?P<after>{_SYMBOLS}))?"
    rf"(?:\s*(?:/|per\s|每)\s*(?P<per>{_UNITS})(?![a-z]))?"
    rf"(?P<unit>\s*{_UNITS}(?![a-z]))?",
    re.IGNORECASE,
)


def parse_prices(text: str) -> list[ShelfPrice]:
    """Every price in the text, as people print them: "€2.49", "2,49 €", "¥12.80",
    "12.80元/袋", "2.49/kg", "€/kg 2.49", "$3.99".

    A number counts as a price when a currency marks it or it has exactly two decimals; a
    number followed by a quantity unit ("500 g", "1,5 l") is a size, not a price.
    """
    found = []
    for match in _PRICE.finditer(text):
        per = match["per"] or match["per_before"]
        if match["unit"] and not per:
            continue
        symbol = match["before"] or match["after"]
        number = match["number"]
        if not symbol and not re.search(r"[.,]\d{2}$", number):
            continue
        cents = _cents(number)
        if cents <= 0:
            continue
        if per and _unit(per) in _PACK_UNITS:
            per = None
        currency = _CURRENCIES.get(symbol.upper()) if symbol else None
        found.append(ShelfPrice(cents, currency, _unit(per) if per else None, match[0].strip()))
    return found


def _cents(number: str) -> int:
    """Decimal comma or point, with or without thousands separators ("1.299,00"), to cents."""
    whole, fraction = number, ""
    tail = re.search(r"[.,](\d{1,2})$", number)
    if tail:
        whole, fraction = number[: tail.start()], tail[1]
    return int(re.sub(r"[.,]", "", whole)) * 100 + int(fraction.ljust(2, "0"))


_UNIT_NAMES = {"公斤": "kg", "千克": "kg", "克": "g", "升": "l", "毫升": "ml"}


def _unit(text: str) -> str:
    unit = re.sub(r"\s+", "", text.lower())
    return _UNIT_NAMES.get(unit, unit)


def shelf_price(lines: tuple[TextLine, ...] | list[TextLine]) -> ShelfPrice | None:
    """The pack's price on the shelf tag: the biggest printed price that is not a unit price
    (tags print the pack price largest and the price per kg small); None when there is none."""
    best: tuple[float, ShelfPrice] | None = None
    for line in lines:
        for price in parse_prices(line.text):
            if price.per is not None:
                continue
            rank = line.height + (0.01 if price.currency else 0.0)
            if best is None or rank > best[0]:
                best = (rank, price)
    return best[1] if best else None


def words_for_search(lines: tuple[TextLine, ...] | list[TextLine]) -> str:
    """The lines worth searching the catalog with: prices and bare numbers left out."""
    kept = []
    for line in lines:
        text = _PRICE.sub(lambda m: m.group(0) if m["unit"] and not m["per"] else " ", line.text)
        text = re.sub(r"\s+", " ", text).strip()
        if re.search(r"[^\W\d_]", text):
            kept.append(text)
    return " ".join(kept)
