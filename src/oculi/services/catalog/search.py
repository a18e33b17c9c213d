"""Finding a product from text read off its pack: full-text candidates, then a fuzzy re-rank.

OCR misreads letters as digits ("0ATLY" for "OATLY"), splits and joins words, and reads far more
than the product's name (claims, ingredients, the price tag). So the database only proposes
candidates (any word, prefix or trigram in common), and the score asks how much of the
*product's* brand and name is in what was read, letter-tolerant, with its pack size as a tie
breaker. Scores are 0..1; below `MIN_SCORE` nothing is claimed.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from oculi.services.catalog.model import Product
from oculi.services.units import is_unit_word, parse_quantity

MIN_SCORE = 0.65
"""Below this a match is more likely another product than a misread of this one."""
SURE_SCORE = 0.9
"""A match this good from whole words alone is not worth a slower misspelling search."""
CANDIDATES = 200
"""Rows the database proposes for re-ranking; the fuzzy score is cheap but not free."""
MAX_TRIGRAMS = 64

_Ratio = Callable[[str, str], float]
_BestRatio = Callable[[str, list[str]], float]


def _load_ratios() -> tuple[_Ratio, _Ratio, _BestRatio]:
    """rapidfuzz when installed (C++, ~50x faster), difflib otherwise; both 0..1."""
    try:
        from rapidfuzz import fuzz
    except ImportError:  # pragma: no cover - exercised only without rapidfuzz
        from difflib import SequenceMatcher

        def ratio(a: str, b: str) -> float:
            return SequenceMatcher(None, a, b).ratio()

        def partial(a: str, b: str) -> float:
            short, long = (a, b) if len(a) <= len(b) else (b, a)
            if not short:
                return 0.0
            matcher = SequenceMatcher(None, short, long)
            return sum(block.size for block in matcher.get_matching_blocks()) / len(short)

        def best(word: str, choices: list[str]) -> float:
            return max((ratio(word, c) for c in choices), default=0.0)

        return ratio, partial, best

    from rapidfuzz import process

    def rf_ratio(a: str, b: str) -> float:
        return float(fuzz.ratio(a, b)) / 100

    def rf_partial(a: str, b: str) -> float:
        return float(fuzz.partial_ratio(a, b)) / 100

    def rf_best(word: str, choices: list[str]) -> float:
        found = process.extractOne(word, choices, scorer=fuzz.ratio)
        return float(found[1]) / 100 if found else 0.0

    return rf_ratio, rf_partial, rf_best


ratio, partial_ratio, best_ratio = _load_ratios()

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_QUANTITY_TOKEN = re.compile(r"^\d+(?:[.,]\d+)?([a-z]{0,5})$")
_LETTERS_DIGITS = re.compile(r"[^\W\d_]+|\d+")
_LETTERS_FOR_DIGITS = str.maketrans({"0": "o", "1": "l", "5": "s", "8": "b", "6": "g", "2": "z"})
_DIGITS_FOR_LETTERS = str.maketrans({"o": "0", "i": "1", "l": "1", "s": "5", "b": "8"})


def normalise(text: str) -> str:
    """Casefolded, without diacritics or punctuation, words separated by one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_TOKEN.findall(unicodedata.normalize("NFKC", plain).casefold()))


def search_text_of(name: str, brand: str, quantity: str, category: str) -> str:
    """What the trigram index and PostgreSQL search: every field, normalised."""
    return normalise(f"{brand} {name} {quantity} {category}")


def _is_cjk(token: str) -> bool:
    first = token[:1]
    return "\u3400" <= first <= "\u9fff" or "\uf900" <= first <= "\ufaff"


def ocr_variants(token: str) -> set[str]:
    """The token plus its likely reading when OCR swapped letters and digits ("0atly", "5oog")."""
    variants = {token}
    digits = sum(c.isdigit() for c in token)
    letters = sum(c.isalpha() for c in token)
    quantity = _QUANTITY_TOKEN.match(token)
    if digits and letters and not (quantity and is_unit_word(quantity.group(1))):
        if letters >= digits:
            variants.add(token.translate(_LETTERS_FOR_DIGITS))
        head = re.match(r"^([0-9oils]+)([a-z]{1,3})$", token)
        if head and head.group(1)[0].isdigit():
            variants.add(head.group(1).translate(_DIGITS_FOR_LETTERS) + head.group(2))
    return variants


@dataclass(frozen=True)
class Query:
    """What was read, prepared once for every candidate."""

    text: str
    words: tuple[str, ...]
    """Normalised tokens as read."""
    terms: frozenset[str]
    """Words, their OCR variants and adjacent pairs joined (for words OCR split)."""

    @property
    def meaningful(self) -> list[str]:
        """Words that can identify a product: three characters or more, not bare numbers."""
        return [w for w in self.words if len(w) > 2 and not w.isdigit()]

    @classmethod
    def of(cls, text: str) -> Query:
        words = tuple(normalise(text).split())
        terms: set[str] = set()
        for word in words:
            terms |= ocr_variants(word)
            if not _is_cjk(word):
                terms.update(_LETTERS_DIGITS.findall(word))
        for left, right in itertools.pairwise(words):
            if not (_is_cjk(left) or _is_cjk(right)):
                terms.add(left + right)
        return cls(text, words, frozenset(terms))

    def fts_match(self) -> str:
        """An FTS5 (unicode61) expression: any word or variant, longer ones also as prefixes."""
        parts: set[str] = set()
        for term in self.terms:
            if _is_cjk(term) or len(term) < 2:
                continue
            parts.add(f'"{term}"')
            if len(term) >= 4:
                parts.add(f'"{term[:4]}"*')
        return " OR ".join(sorted(parts))

    def trigrams(self) -> list[str]:
        """Three-letter pieces of what was read, the longest words' first; CJK runs included."""
        grams: dict[str, None] = {}
        for term in sorted(self.terms, key=len, reverse=True):
            for i in range(len(term) - 2):
                grams.setdefault(term[i : i + 3])
        return list(grams)[:MAX_TRIGRAMS]

    def tsquery(self) -> str:
        """A PostgreSQL `to_tsquery('simple', ...)` expression equivalent to `fts_match`."""
        parts = sorted({f"{t}:*" if len(t) >= 4 else t for t in self.terms if t.isalnum()})
        return " | ".join(parts)


@dataclass(frozen=True)
class _Evidence:
    coverage: float
    """Share of the product's brand and name found in what was read (0..1)."""
    explained: int
    """Words read (three letters or more) that this product's brand or name accounts for."""
    brand: float
    """1 brand read, 0.5 product has no brand, 0 brand not read."""
    size: float
    """1 pack size read and the same, 0.5 unknown, 0 read and different."""


class _Scorer:
    """Scores candidates against one query, remembering word similarities across them (brands
    and common words repeat)."""

    def __init__(self, query: Query) -> None:
        self.query = query
        self._latin = sorted(t for t in query.terms if not _is_cjk(t))
        self._cjk = sorted(t for t in query.terms if _is_cjk(t))
        self._readings = [sorted(_readings(q)) for q in query.meaningful]
        self._seen = parse_quantity(query.text)
        self._found: dict[str, float] = {}
        self._explains: dict[str, frozenset[int]] = {}

    def evidence(self, product: Product) -> _Evidence | None:
        name_words = _words(product.name)
        brand_words = _words(product.brand)
        all_words = list(dict.fromkeys(brand_words + name_words))
        if not name_words:
            return None
        coverage = self._coverage(all_words)
        if brand_words:
            coverage = max(coverage, 0.9 * self._coverage(name_words))
        explained: set[int] = set()
        for word in all_words:
            explained |= self._explained_by(word)
        brand = self._coverage(brand_words) if brand_words else 0.5
        return _Evidence(coverage, len(explained), brand, self._size(product.quantity))

    def score(self, evidence: _Evidence | None, most_explained: int) -> float:
        if evidence is None or not self._readings:
            return 0.0
        explained = evidence.explained / max(3, most_explained, evidence.explained)
        value = (
            0.5 * evidence.coverage
            + 0.3 * explained
            + 0.12 * evidence.brand
            + 0.08 * evidence.size
            - (0.1 if evidence.size == 0 else 0)
        )
        return max(0.0, min(1.0, value))

    def _coverage(self, words: list[str]) -> float:
        """Share of `words` found in what was read, long words counting more, CJK more still."""
        weights = [min(len(w), 8) + (2 if _is_cjk(w) else 0) for w in words]
        found = [self._similarity(w) for w in words]
        return sum(w * f for w, f in zip(weights, found, strict=True)) / sum(weights)

    def _similarity(self, word: str) -> float:
        """How well `word` was read: best fuzzy match among the terms, 0 below 0.6."""
        if word not in self._found:
            if _is_cjk(word):
                best = max(
                    (partial_ratio(word, t) if len(t) >= len(word) else ratio(word, t)
                     for t in self._cjk),
                    default=0.0,
                )  # fmt: skip
            else:
                best = best_ratio(word, self._latin)
            self._found[word] = best if best >= 0.6 else 0.0
        return self._found[word]

    def _explained_by(self, word: str) -> frozenset[int]:
        """Which meaningful words read (by index) `word` accounts for."""
        if word not in self._explains:
            self._explains[word] = frozenset(
                i for i, readings in enumerate(self._readings) if best_ratio(word, readings) >= 0.8
            )
        return self._explains[word]

    def _size(self, product_quantity: str) -> float:
        """1 when the pack size read is the product's, 0.5 when either is unknown or of
        another kind, 0 when it is another size (the 250 ml, not the 1 l, carton)."""
        mine, seen = parse_quantity(product_quantity), self._seen
        if mine is None or seen is None or mine.unit != seen.unit:
            return 0.5
        close = abs(mine.amount - seen.amount) <= 0.02 * max(mine.amount, seen.amount)
        return 1.0 if close else 0.0


def score(product: Product, query: Query) -> float:
    """0..1 for one product alone: how much of its name and brand was read, how much of what
    was read it explains, and whether the pack size read agrees."""
    scorer = _Scorer(query)
    return scorer.score(scorer.evidence(product), 0)


def _readings(word: str) -> set[str]:
    """A word read, its OCR variants, and its letter and digit runs ("spf50": "spf", "50")."""
    runs = {r for r in _LETTERS_DIGITS.findall(word) if len(r) > 1} if not _is_cjk(word) else set()
    return ocr_variants(word) | runs


def _words(text: str) -> list[str]:
    return list(dict.fromkeys(normalise(text).split()))


def rank(
    candidates: list[Product], text: str, limit: int, min_score: float = MIN_SCORE
) -> list[tuple[Product, float]]:
    """The candidates at or above `min_score`, best first."""
    scorer = _Scorer(Query.of(text))
    evidence = [scorer.evidence(p) for p in candidates]
    most = max((e.explained for e in evidence if e is not None), default=0)
    scored = [
        (p, round(scorer.score(e, most), 4)) for p, e in zip(candidates, evidence, strict=True)
    ]
    kept = [(p, s) for p, s in scored if s >= min_score]
    kept.sort(key=lambda ps: (-ps[1], ps[0].name, ps[0].id))
    return kept[:limit]
