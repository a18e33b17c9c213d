"""Which product is the wearer looking at: by its barcode, else its words, else its picture.

The barcode settles it when it is read and known (milliseconds, certain). Otherwise OCR reads
the pack and the shelf tag and the catalog's text search proposes products; the picture index
(when the catalog has photos) proposes its own. Evidence for the same product from both adds
up; two close rivals lower the confidence, and below `ACCEPT` the answer is an honest
"unknown" that still says what was read.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from PIL import Image

from oculi.errors import OculiError
from oculi.services.catalog import Catalog, Product
from oculi.vision.barcode import decode_image, read_codes_near
from oculi.vision.ocr import ReadText, ShelfPrice, TextReader, read_text, shelf_price
from oculi.vision.ocr import words_for_search as search_words

log = logging.getLogger(__name__)

Via = Literal["barcode", "text", "picture"]

ACCEPT = 0.5
"""Combined confidence needed to name a product without a barcode."""
BARCODE_CONFIDENCE = 0.99
"""A code whose check digit holds and that the catalog knows: as sure as we get."""
TEXT_SURE = 0.85
"""A text match this strong is not second-guessed by the picture path."""


class PictureMatcher(Protocol):
    """The picture index (oculi.vision.picture.PictureIndex) as identify uses it."""

    def query(
        self, image: Image.Image, gaze: tuple[float, float] | None = None, top_k: int = 5
    ) -> list[tuple[str, float]]: ...


@dataclass(frozen=True)
class Identification:
    """What identify found, how, how sure, and what it read on the way."""

    product: Product | None
    via: Via | None
    confidence: float
    candidates: list[tuple[str, float]]
    """(product name, score 0..1), best first: the alternatives the answer was chosen from."""
    read_text: str
    shelf_price_cents: int | None
    timings_ms: dict[str, float]
    gtin_read: str | None = None
    """A code read in the frame, even when the catalog does not know it."""
    shelf_price: ShelfPrice | None = None
    candidate_ids: list[str] = field(default_factory=list)
    """Product ids of `candidates`, in the same order."""

    def to_json(self) -> dict[str, Any]:
        """The `oculi identify --json` shape."""
        product = self.product
        price = self.shelf_price
        known = None
        if product is not None:
            known = {"id": product.id, "name": product.name, "brand": product.brand,
                     "gtin": product.gtin}  # fmt: skip
        return {
            "product": known,
            "via": self.via,
            "confidence": round(self.confidence, 3),
            "candidates": [{"name": n, "score": round(s, 3)} for n, s in self.candidates],
            "read_text": self.read_text,
            "gtin_read": self.gtin_read,
            "shelf_price": None
            if price is None
            else {"cents": price.cents, "currency": price.currency, "text": price.text},
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


def identify(
    image_bytes: bytes,
    gaze: tuple[float, float] | None,
    catalog: Catalog,
    pictures: PictureMatcher | None = None,
    *,
    want_price: bool = False,
    reader: TextReader | None = None,
) -> Identification:
    """Identify the product in an encoded frame; corrupt, empty or huge images raise
    PerceptionError.

    `want_price` reads the shelf tag even when the barcode already settled the product (the
    price command needs it for the saving); `reader` replaces the shared OCR engine.
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    image = decode_image(image_bytes, "RGB")
    timings["decode"] = _ms(start)

    mark = time.perf_counter()
    codes = read_codes_near(image.convert("L"), gaze)
    timings["barcode"] = _ms(mark)
    gtin_read = codes[0].gtin if codes else None
    for code in codes:
        product = catalog.product(code.gtin)
        if product is not None:
            text = _ocr(image, gaze, reader, timings) if want_price else None
            return _result(
                product, "barcode", BARCODE_CONFIDENCE, [(product.name, 1.0)], [product.id],
                text, gtin_read, timings, start,
            )  # fmt: skip

    text = _ocr(image, gaze, reader, timings)
    mark = time.perf_counter()
    words = search_words(text.lines)
    by_text = catalog.search_text(words, limit=5) if words else []
    timings["search"] = _ms(mark)
    by_picture: list[tuple[str, float]] = []
    if pictures is not None and (not by_text or by_text[0][1] < TEXT_SURE):
        mark = time.perf_counter()
        by_picture = pictures.query(image, gaze, top_k=5)
        timings["picture"] = _ms(mark)

    ranked = _combine(catalog, by_text, by_picture)
    names = [(p.name, score) for p, score, _ in ranked]
    ids = [p.id for p, _, _ in ranked]
    if not ranked:
        return _result(None, None, 0.0, [], [], text, gtin_read, timings, start)
    best, best_score, via = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    confidence = best_score * (1 - 0.5 * second / best_score) if best_score > 0 else 0.0
    if confidence < ACCEPT:
        return _result(None, None, confidence, names, ids, text, gtin_read, timings, start)
    return _result(best, via, confidence, names, ids, text, gtin_read, timings, start)


def _ocr(
    image: Image.Image,
    gaze: tuple[float, float] | None,
    reader: TextReader | None,
    timings: dict[str, float],
) -> ReadText:
    text = read_text(image, gaze, reader=reader)
    timings["ocr"] = text.ms
    return text


def _combine(
    catalog: Catalog,
    by_text: list[tuple[Product, float]],
    by_picture: list[tuple[str, float]],
) -> list[tuple[Product, float, Via]]:
    """One score per product: independent evidence combined as 1 - (1 - text)(1 - picture)."""
    products: dict[str, Product] = {}
    text_scores: dict[str, float] = {}
    picture_scores: dict[str, float] = {}
    for product, score in by_text:
        products[product.id] = product
        text_scores[product.id] = max(score, text_scores.get(product.id, 0.0))
    for product_id, score in by_picture:
        if product_id not in products:
            found = catalog.product_by_id(product_id)
            if found is None:
                continue  # a photo of a product since removed from the catalog
            products[product_id] = found
        picture_scores[product_id] = max(score, picture_scores.get(product_id, 0.0))
    ranked: list[tuple[Product, float, Via]] = []
    for product_id, product in products.items():
        t = min(max(text_scores.get(product_id, 0.0), 0.0), 1.0)
        p = min(max(picture_scores.get(product_id, 0.0), 0.0), 1.0)
        via: Via = "text" if t >= p else "picture"
        ranked.append((product, 1 - (1 - t) * (1 - p), via))
    ranked.sort(key=lambda item: -item[1])
    return ranked


def _result(
    product: Product | None,
    via: Via | None,
    confidence: float,
    candidates: list[tuple[str, float]],
    ids: list[str],
    text: ReadText | None,
    gtin_read: str | None,
    timings: dict[str, float],
    start: float,
) -> Identification:
    price = shelf_price(text.lines) if text is not None else None
    timings["total"] = _ms(start)
    return Identification(
        product=product,
        via=via,
        confidence=confidence,
        candidates=candidates,
        read_text=text.text if text is not None else "",
        shelf_price_cents=price.cents if price else None,
        timings_ms=timings,
        gtin_read=gtin_read,
        shelf_price=price,
        candidate_ids=ids,
    )


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


# --- the picture index beside a catalog ---------------------------------------------------------

_pictures: dict[Path, PictureMatcher] = {}
_pictures_lock = threading.Lock()


def open_pictures(catalog: Catalog) -> PictureMatcher | None:
    """The catalog's picture index, brought up to date with its photos, kept per process;
    None when the catalog has no photos, the picture path is not installed, or the index
    cannot be used (logged: products are still found by code and text)."""
    folder = catalog.pictures_dir
    with _pictures_lock:
        if folder in _pictures:
            return _pictures[folder]
        try:  # built alongside, and optional: identify works without it
            picture = importlib.import_module("oculi.vision.picture")
        except ImportError:
            return None
        photos = catalog.photos()
        if not photos and not folder.exists():
            return None
        try:
            index = picture.PictureIndex.open(folder)
            index.sync(photos)
        except (OculiError, OSError, ValueError) as err:
            log.warning("picture index at %s not used: %s", folder, err)
            return None
        matcher: PictureMatcher = index
        _pictures[folder] = matcher
        return matcher
