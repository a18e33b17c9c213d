"""Notes on disk: one SQLite file holding each note's text, its words (FTS5) and its meaning.

Search looks both ways — the words the wearer remembers exactly, and the meaning when they
don't — and fuses the two rankings (reciprocal rank fusion). A note, its words and its vector are
written in one transaction, so a failure never leaves half a note behind.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from oculi.agent.embedding import Encoder
from oculi.agent.parser import detect_language
from oculi.errors import OculiError

MEANING_THRESHOLD = 0.28
"""Centred cosine from which a note counts as being about the query. Measured with e5-small:
notes on the topic score 0.28-0.55, unrelated notes stay under 0.27."""
RRF_K = 60
"""The usual reciprocal-rank-fusion constant: a rank-1 hit in one list is worth a little more
than rank-2 hits in both."""
CANDIDATES = 20

BACKGROUND = (
    "the meeting moved to next week", "I like green tea", "the train was late again",
    "water the plants", "my sister lives in Berlin", "the report is due on Friday",
    "buy a new phone charger", "it rained all afternoon", "pick up the kids at five",
    "the restaurant on Main Street is good", "how do I get to the station", "what time is it",
    "the book was better than the film", "send the invoice to the client",
    "the cat needs a vet visit", "gym at 7am", "the song on the radio",
    "flight to Tokyo next month", "idea for a birthday present", "the key is under the mat",
    "会议改到下周了", "我喜欢喝绿茶", "火车又晚点了", "记得给花浇水", "报告周五要交",
    "下午一直在下雨", "五点去接孩子", "那家餐厅很好吃", "去车站怎么走", "现在几点了",
    "给客户发发票", "明早七点去健身房", "下个月飞东京", "钥匙在门垫下面", "这本书比电影好看",
    "想一个生日礼物",
)  # fmt: skip
"""Everyday sentences on every topic. Sentence embeddings crowd into a narrow cone, where even
unrelated sentences score 0.8; subtracting the mean of these spreads them out, so that one
threshold separates "about this" from "not about this" for short and long, EN and ZH queries."""

_STOP_TEXT = """a an and any about are at did do does for from have i in is it me my of on or some
that the there this to was what when where which with note notes noted wrote say said"""
STOPWORDS = frozenset(_STOP_TEXT.split())
ZH_STOP = frozenset("的了吗呢吧啊么我你他她它这那哪儿什关于事情有些个记过把在是")
"""Function characters that split a Chinese query into the parts worth searching for."""

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[^\W_]+")

SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    created REAL NOT NULL,
    language TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS notes_fts USING fts5(
    words, grams, tokenize = 'porter unicode61 remove_diacritics 2'
);
"""
"""`notes_fts` rows share their rowid with `notes`. `grams` holds the Chinese characters and
character pairs: unicode61 would keep a whole run of Han characters as one token."""


class NotesError(OculiError):
    """The notes file cannot be read or written."""


@dataclass(frozen=True)
class Note:
    id: int
    text: str
    created: float
    """Unix time."""
    language: str


class NoteStore:
    """The wearer's notes in one SQLite file (WAL), searchable by words and by meaning."""

    def __init__(self, path: Path, encoder: Encoder) -> None:
        self.path = path
        self._encoder = encoder
        self._ready = False
        self._centre: np.ndarray | None = None

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection per operation: actions run on worker threads, connections stay put."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=5.0)
        except (OSError, sqlite3.Error) as err:
            raise NotesError(f"cannot open {self.path.name}: {err}") from err
        try:
            if not self._ready:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
                self._ready = True
            yield conn
        except sqlite3.Error as err:
            raise NotesError(f"{self.path.name} cannot be used: {err}") from err
        finally:
            conn.close()

    # --- writing -------------------------------------------------------------------------------

    def add(self, text: str, created: float | None = None) -> Note:
        """Store a note with its words and vector, all or nothing."""
        vector = np.asarray(self._encoder.encode([text])[0], dtype="<f4")
        note = Note(0, text, time.time() if created is None else created, detect_language(text))
        with self._db() as conn, conn:
            cursor = conn.execute(
                "INSERT INTO notes (text, created, language, vector) VALUES (?, ?, ?, ?)",
                (note.text, note.created, note.language, vector.tobytes()),
            )
            note_id = int(cursor.lastrowid or 0)
            conn.execute(
                "INSERT INTO notes_fts (rowid, words, grams) VALUES (?, ?, ?)",
                (note_id, text, " ".join(han_grams(text))),
            )
        return Note(note_id, note.text, note.created, note.language)

    def delete(self, note_id: int) -> bool:
        """Remove a note and its index entry; False when there is no such note."""
        with self._db() as conn, conn:
            gone = conn.execute("DELETE FROM notes WHERE id = ?", (note_id,)).rowcount
            conn.execute("DELETE FROM notes_fts WHERE rowid = ?", (note_id,))
        return gone > 0

    # --- reading -------------------------------------------------------------------------------

    def get(self, note_id: int) -> Note | None:
        found = self._notes("WHERE id = ?", (note_id,))
        return found[0] if found else None

    def recent(self, limit: int = 5) -> list[Note]:
        """Newest first."""
        return self._notes("ORDER BY id DESC LIMIT ?", (limit,))

    def count(self) -> int:
        with self._db() as conn:
            return int(conn.execute("SELECT count(*) FROM notes").fetchone()[0])

    def _notes(self, where: str, params: Sequence[object]) -> list[Note]:
        with self._db() as conn:
            rows = conn.execute(f"SELECT id, text, created, language FROM notes {where}", params)
            return [Note(int(i), str(t), float(c), str(lang)) for i, t, c, lang in rows]

    # --- search --------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 5) -> list[Note]:
        """Notes about the query, best first; empty when nothing is close in words or meaning."""
        by_words = self.word_hits(query)
        by_meaning = [note_id for note_id, _ in self.meaning_hits(query)]
        ranked = fuse([by_words, by_meaning])[:limit]
        notes = {n.id: n for n in self._notes_by_id(ranked)}
        return [notes[i] for i in ranked if i in notes]

    def word_hits(self, query: str) -> list[int]:
        """Note ids whose words (stemmed) or Chinese characters match the query, by BM25."""
        expression = match_expression(query)
        if expression is None:
            return []
        with self._db() as conn:
            rows = conn.execute(
                "SELECT rowid FROM notes_fts WHERE notes_fts MATCH ? "
                "ORDER BY bm25(notes_fts) LIMIT ?",
                (expression, CANDIDATES),
            )
            return [int(r[0]) for r in rows]

    def meaning_hits(self, query: str) -> list[tuple[int, float]]:
        """(note id, centred cosine) above the threshold, closest first."""
        with self._db() as conn:
            stored = conn.execute("SELECT id, vector FROM notes").fetchall()
        if not stored or not query.strip():
            return []
        probe = self._centred(self._encoder.encode([query]))[0]
        ids, vectors = [], []
        for note_id, blob in stored:
            vector = np.frombuffer(blob, dtype="<f4")
            if vector.shape == probe.shape:  # a note embedded by another model is left out
                ids.append(int(note_id))
                vectors.append(vector)
        if not vectors:
            return []
        scores = self._centred(np.stack(vectors)) @ probe
        order = np.argsort(-scores)[:CANDIDATES]
        return [(ids[i], float(scores[i])) for i in order if scores[i] >= MEANING_THRESHOLD]

    def _centred(self, vectors: np.ndarray) -> np.ndarray:
        if self._centre is None:
            self._centre = np.asarray(self._encoder.encode(BACKGROUND), np.float32).mean(axis=0)
        shifted = np.asarray(vectors, np.float32) - self._centre
        norms = np.linalg.norm(shifted, axis=1, keepdims=True)
        return np.asarray(shifted / np.maximum(norms, 1e-9), np.float32)

    def _notes_by_id(self, ids: Sequence[int]) -> list[Note]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return self._notes(f"WHERE id IN ({marks})", list(ids))


def han_grams(text: str) -> list[str]:
    """Each Chinese character and each pair of neighbours: what the `grams` column indexes."""
    grams = []
    for run in _HAN_RUN.findall(text):
        grams.extend(run)
        grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def match_expression(query: str) -> str | None:
    """An FTS5 query: any content word of the query, or any Chinese character pair (or lone
    character) left after the function characters; None when nothing is worth looking for."""
    terms = [
        f'words : "{w}"'
        for w in dict.fromkeys(_WORD.findall(_HAN_RUN.sub(" ", query.lower())))
        if w not in STOPWORDS
    ]
    for run in _HAN_RUN.findall(query):
        pieces = "".join(" " if ch in ZH_STOP else ch for ch in run).split()
        for piece in pieces:
            grams = [piece[i : i + 2] for i in range(len(piece) - 1)] or [piece]
            terms.extend(f'grams : "{g}"' for g in grams)
    return " OR ".join(dict.fromkeys(terms)) or None


def fuse(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[int]:
    """Reciprocal rank fusion: ids found high in any ranking, or in several, come first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda item: -scores[item])
