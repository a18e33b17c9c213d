"""Finding what the wearer asked for: a song, an artist, an album or a genre, as spoken.

Speech and tags rarely agree exactly ('play blue corner by the midnight trio'), so a query is
matched word by word and letter by letter against each tag, and the best tag value wins: a song
plays alone, an artist or album queues all its tracks.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from oculi.apps.music.library import Track

MIN_SCORE = 0.6
"""How close a query must be to a title, artist, album or genre to count as a match."""


@dataclass(frozen=True)
class Match:
    """Tracks a query found, and which tag matched: the queue plays the whole artist or album."""

    field: str
    value: str
    score: float
    tracks: tuple[Track, ...]


_FIELDS = ("title", "artist", "album", "genre")
_LEADS = [
    ("album", r"(?:the )?album "),
    ("artist", r"(?:(?:some )?(?:songs|music|tracks|something) )?by "),
    ("artist", r"(?:the )?artist "),
    ("title", r"(?:the )?(?:song|track) "),
    ("genre", r"(?:some )?(?=\S+ music$)"),
]
_FILLER = re.compile(
    r"^(?:some|a little|a bit of|me|the) |(?: music| songs| please)$|(?:的歌|的音乐|的专辑|的歌曲)$"
)


def normalise(text: str) -> str:
    """Lower case, accents and punctuation dropped: how tags and speech differ least."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def parse_query(query: str) -> tuple[str | None, str, str | None]:
    """(field hint, the words, an artist hint) from 'the album X', 'songs by Y', 'X by Y'."""
    text = normalise(query)
    for field, lead in _LEADS:
        found = re.match(lead, text)
        if found:
            rest = _strip_filler(text[found.end() :])
            return field, rest, None
    text = _strip_filler(text)
    title, sep, artist = text.rpartition(" by ")
    if sep and title and artist:
        return "title", title, artist
    return None, text, None


def _strip_filler(text: str) -> str:
    before = None
    while before != text:
        before = text
        text = _FILLER.sub("", text).strip()
    return text


def similarity(query: str, value: str) -> float:
    """How well normalised words fit a tag value, 0..1: whole, contained, word by word, spelled."""
    if not query or not value:
        return 0.0
    if query == value:
        return 1.0
    if f" {query} " in f" {value} " or (_is_cjk(query) and query in value):
        return 0.9 * min(1.0, 0.6 + len(query) / len(value))
    words, tags = query.split(), value.split()
    overlap = 0.0
    if len(words) > 1 or len(tags) > 1:
        hits = sum(any(_word_ratio(w, t) >= 0.8 for t in tags) for w in words)
        overlap = 0.95 * hits / max(len(words), len(tags))
    spelled = difflib.SequenceMatcher(None, query, value, autojunk=False)
    if spelled.real_quick_ratio() <= overlap or spelled.quick_ratio() <= overlap:
        return overlap  # the cheap upper bounds already lose: skip the full comparison
    return max(overlap, spelled.ratio())


@functools.lru_cache(maxsize=65536)
def _word_ratio(word: str, tag: str) -> float:
    """Letter similarity of two words; cached, as a library repeats its words endlessly."""
    return difflib.SequenceMatcher(None, word, tag, autojunk=False).ratio()


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def best_match(query: str, tracks: Sequence[Track]) -> Match | None:
    """The best-fitting tag value for the query and every track that has it.

    Each distinct tag value is scored once, so a large library with few artists stays quick.
    """
    hint, words, artist = parse_query(query)
    if not words:
        return None
    if artist:
        artists = {a for a in {t.artist for t in tracks} if _fits(artist, a)}
        tracks = [t for t in tracks if t.artist in artists]
    best: tuple[float, str, str] | None = None
    for field in (hint,) if hint else _FIELDS:
        for value in {getattr(t, field) for t in tracks}:
            score = similarity(words, normalise(value))
            if field != "title":
                score -= 0.01  # a song's own name wins a tie with an album of the same name
            if best is None or score > best[0]:
                best = (score, field, value)
    if best is None or best[0] < MIN_SCORE:
        return None
    score, field, value = best
    key = normalise(value)
    found = tuple(t for t in tracks if normalise(getattr(t, field)) == key)
    return Match(field, value, round(score, 3), found)


def _fits(query: str, value: str) -> bool:
    return similarity(query, normalise(value)) >= MIN_SCORE
