"""Finding places by name on the map itself, offline: "the station", "Musée Océanographique".

Two SQLite FTS5 indexes pick candidates: words (name, other names, what it is) for exact and
prefix matches, and trigrams of the name for misspellings. Candidates are then scored word by
word with a fuzzy ratio, and ties go to the place nearest the wearer.
"""

from __future__ import annotations

import difflib
import re
import sqlite3
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from oculi.errors import MapError
from oculi.services.maps.geodesy import distance_m
from oculi.services.maps.osm import RawPlace

STOPWORDS = frozenset({
    "the", "a", "an", "to", "me", "take", "nearest", "closest", "near", "nearby", "at", "of",
    "please", "go", "find", "where", "is", "in", "for", "my", "some", "any", "get", "way",
})  # fmt: skip
SYNONYMS = {
    "train": "railway", "metro": "subway", "underground": "subway", "chemist": "pharmacy",
    "drugstore": "pharmacy", "coffee": "cafe", "toilet": "toilets", "loo": "toilets",
    "wc": "toilets", "doctor": "doctors", "gas": "fuel", "petrol": "fuel", "cash": "atm",
    "church": "worship", "cathedral": "worship", "mosque": "worship", "temple": "worship",
}  # fmt: skip
"""Everyday words for what OSM calls by another name (the categories are OSM's tag values)."""

_FILLERS = frozenset({"des", "the", "and", "del", "della", "van", "von", "les", "der", "die"})

MIN_SCORE = 0.6
_CANDIDATES = 300
_NEAR_WEIGHT = 0.08
"""How much being 5 km further away costs a candidate, against a perfect text match of 1."""


@dataclass(frozen=True)
class Place:
    """A named feature on the map."""

    name: str
    category: str
    lat: float
    lon: float
    score: float
    """How well it matched the query, 0..1."""
    distance_m: float | None = None
    """From the point the search was made near, when one was given."""


def fold(text: str) -> str:
    """Lower case without accents: "Musée" and "musee" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", fold(text))


class Gazetteer:
    """The map's named places, searchable by name, other names and kind."""

    def __init__(self, places: Sequence[RawPlace]) -> None:
        self._places = list(places)
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.executescript(
            "CREATE VIRTUAL TABLE words USING fts5(name, aliases, category,"
            " tokenize='unicode61 remove_diacritics 2');"
            "CREATE VIRTUAL TABLE grams USING fts5(name, tokenize='trigram');"
        )
        rows = [(i, p.name, p.aliases, p.category) for i, p in enumerate(self._places)]
        self._db.executemany("INSERT INTO words(rowid, name, aliases, category) VALUES (?,?,?,?)",
                             rows)  # fmt: skip
        folded = [(i, fold(f"{name} {aliases}")) for i, name, aliases, _ in rows]
        self._db.executemany("INSERT INTO grams(rowid, name) VALUES (?, ?)", folded)

    def __len__(self) -> int:
        return len(self._places)

    def search(
        self, query: str, near: tuple[float, float] | None = None, limit: int = 5
    ) -> list[Place]:
        """The best matches, best first (only those scoring at least MIN_SCORE)."""
        words = [SYNONYMS.get(w, w) for w in _words(query) if w not in STOPWORDS]
        if not words:
            return []
        ranked: list[tuple[float, Place]] = []
        for index in self._candidates(words):
            raw = self._places[index]
            score = _score(words, raw)
            if score < MIN_SCORE:
                continue
            away = distance_m(near[0], near[1], raw.lat, raw.lon) if near else None
            rank = score - (_NEAR_WEIGHT * min(away / 5000, 1.0) if away is not None else 0.0)
            ranked.append((rank, Place(raw.name, raw.category, raw.lat, raw.lon, score, away)))
        ranked.sort(key=lambda item: (-item[0], item[1].name))
        return [place for _, place in ranked[:limit]]

    def geocode(self, query: str, near: tuple[float, float] | None = None) -> Place:
        """The one place meant by `query`; MapError when there is none on this map."""
        found = self.search(query, near, limit=1)
        if not found:
            raise MapError(f"I can't find {query!r} on this map")
        return found[0]

    def _candidates(self, words: list[str]) -> set[int]:
        found: set[int] = set()
        prefix = " OR ".join(f'"{w}"*' for w in words)
        found.update(r[0] for r in self._db.execute(
            "SELECT rowid FROM words WHERE words MATCH ? ORDER BY bm25(words, 10, 5, 2) LIMIT ?",
            (prefix, _CANDIDATES)))  # fmt: skip
        grams = {w[i : i + 3] for w in words if len(w) >= 3 for i in range(len(w) - 2)}
        if grams:
            fuzzy = " OR ".join(f'"{g}"' for g in sorted(grams))
            found.update(r[0] for r in self._db.execute(
                "SELECT rowid FROM grams WHERE grams MATCH ? ORDER BY rank LIMIT ?",
                (fuzzy, _CANDIDATES)))  # fmt: skip
        return found


def _score(words: list[str], place: RawPlace) -> float:
    """How well the query's words match the name (or, a bit less, the kind), and how much of the
    name or kind they cover: "station" is a railway station before a "fire station"."""
    names = _words(f"{place.name} {place.aliases}")
    kind_words = _words(place.category)
    per_word = [max(_match(w, names), 0.95 * _match(w, kind_words)) for w in words]
    score = sum(per_word) / len(per_word)
    coverage = max(_coverage(words, _words(place.name)), _coverage(words, kind_words[1:]))
    whole = difflib.SequenceMatcher(None, " ".join(words), " ".join(_words(place.name))).ratio()
    return max(score * (0.85 + 0.15 * coverage), whole)


def _coverage(words: list[str], target: list[str]) -> float:
    """Fraction of the target's meaningful words that some query word matches."""
    meaningful = [t for t in target if len(t) > 2 and t not in _FILLERS]
    if not meaningful:
        return 0.0
    return sum(1 for t in meaningful if any(_match(w, [t]) for w in words)) / len(meaningful)


def _match(word: str, candidates: list[str]) -> float:
    best = 0.0
    for candidate in candidates:
        if candidate == word:
            return 1.0
        if len(word) >= 3 and candidate.startswith(word):
            best = max(best, 0.9)
        elif abs(len(candidate) - len(word)) <= 3 and len(word) >= 4:
            ratio = difflib.SequenceMatcher(None, word, candidate).ratio()
            if ratio >= 0.75:
                best = max(best, ratio * 0.95)
    return best
