"""Own voice: is it the wearer speaking, or somebody near them?

The bone-conduction pickup hears the wearer through the skull and almost nothing from the air.
When the wearer speaks, its low band carries about as much energy as the air microphones and
follows the same syllable envelope; when someone else speaks it stays near its floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfiltfilt

from oculi.audio.signal import Samples

BAND_HZ = (150.0, 900.0)
"""Where bone conduction carries speech well."""
RATIO_MIDPOINT_DB = -15.0
"""Bone/air energy ratio at which the score is 0.5 (own voice sits near 0 dB, others near −35)."""


@dataclass(frozen=True)
class OwnVoice:
    score: float
    """0..1: how sure we are the wearer spoke."""
    ratio_db: float
    """Bone-band energy over air-band energy."""
    envelope_correlation: float


def own_voice(air: Samples, bone: Samples, sample_rate: int = 16000) -> OwnVoice:
    """Compare the bone channel with the air signal over one utterance."""
    sos = butter(4, BAND_HZ, btype="bandpass", fs=sample_rate, output="sos")
    air_band = sosfiltfilt(sos, air)
    bone_band = sosfiltfilt(sos, bone)
    ratio_db = 10 * math.log10((np.sum(bone_band**2) + 1e-12) / (np.sum(air_band**2) + 1e-12))
    correlation = _envelope_correlation(air_band, bone_band, sample_rate)
    level = 1 / (1 + math.exp(-(ratio_db - RATIO_MIDPOINT_DB) / 3))
    score = 0.5 * level + 0.5 * max(correlation, 0.0)
    return OwnVoice(score, ratio_db, correlation)


def _envelope_correlation(a: Samples, b: Samples, sample_rate: int) -> float:
    """Correlation of the 20 ms energy envelopes: the same syllables at the same times."""
    hop = sample_rate // 50
    n = min(a.size, b.size) // hop
    if n < 3:
        return 0.0
    env_a = np.sqrt(np.mean(a[: n * hop].reshape(n, hop) ** 2, axis=1))
    env_b = np.sqrt(np.mean(b[: n * hop].reshape(n, hop) ** 2, axis=1))
    if env_a.std() < 1e-9 or env_b.std() < 1e-9:
        return 0.0
    return float(np.corrcoef(env_a, env_b)[0, 1])


class BoneActivity:
    """Per 32 ms chunk: is the wearer's own voice on the bone pickup?

    In babble the VAD hears speech all the time; the bone pickup hears only the wearer, so the
    endpointer asks it when the wearer has stopped. The floor follows the quietest chunks
    (body noise), speech is 12 dB above it.
    """

    def __init__(self, chunk: int = 512, margin_db: float = 12.0) -> None:
        self._chunk = chunk
        self._margin = 10 ** (margin_db / 10)
        self._pending = np.zeros(0, dtype=np.float32)
        self._floor: float | None = None

    def process(self, samples: Samples) -> list[bool]:
        self._pending = np.concatenate([self._pending, samples.astype(np.float32)])
        count = self._pending.size // self._chunk
        chunks = self._pending[: count * self._chunk].reshape(count, self._chunk)
        self._pending = self._pending[count * self._chunk :]
        active = []
        for energy in np.mean(chunks.astype(np.float64) ** 2, axis=1) + 1e-14:
            floor = float(energy) if self._floor is None else self._floor
            floor = 0.7 * floor + 0.3 * float(energy) if energy < floor else floor * 1.01
            self._floor = floor
            active.append(bool(energy > self._margin * floor))
        return active
