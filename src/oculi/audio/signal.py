"""Multichannel audio as the front end sees it: float32, channels × samples, at 16 kHz.

Everything that enters the voice path (files, scenario steps, streamed chunks) is brought to this
one shape first, so the stages after it never think about formats or sample rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import soundfile
from numpy.typing import NDArray
from scipy.signal import firwin, resample_poly

from oculi.errors import AudioInputError

SAMPLE_RATE = 16000
"""The rate of the whole voice path: what Whisper, Silero VAD and pocketsphinx expect."""

Samples = NDArray[np.float32]


@dataclass(frozen=True)
class Audio:
    """Channels × samples, float32 in -1..1."""

    samples: Samples
    sample_rate: int

    def __post_init__(self) -> None:
        if self.samples.ndim != 2:
            raise AudioInputError("audio must be channels × samples")

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.samples.shape[1]) / self.sample_rate

    def channel(self, index: int) -> Samples:
        row: Samples = self.samples[index]
        return row


def read_audio(path: Path) -> Audio:
    """A WAV/FLAC/OGG file at 16 kHz; anything unreadable raises AudioInputError."""
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except FileNotFoundError as err:
        raise AudioInputError(f"{path}: no such audio file") from err
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as err:
        raise AudioInputError(f"{path}: not a readable audio file ({err})") from err
    if data.shape[0] == 0:
        raise AudioInputError(f"{path}: the audio file is empty")
    if not np.isfinite(data).all():
        raise AudioInputError(f"{path}: the audio holds invalid samples (NaN or infinity)")
    return resample(Audio(np.ascontiguousarray(data.T), int(rate)), SAMPLE_RATE)


def resample(audio: Audio, rate: int) -> Audio:
    """The same sound at another sample rate (polyphase filter, no phase shift)."""
    if audio.sample_rate == rate:
        return audio
    ratio = Fraction(rate, audio.sample_rate).limit_denominator(1000)
    out = resample_poly(audio.samples, ratio.numerator, ratio.denominator, axis=1)
    return Audio(out.astype(np.float32), rate)


class StreamResampler:
    """`resample` for a stream fed block by block: every output sample equals what resampling
    the whole stream at once would give (the same polyphase filter), so block edges leave no
    clicks. Output sample k stands at input time k·rate_in/rate_out; it comes out once the
    filter's reach past it has arrived (under 2 ms at any rate)."""

    def __init__(self, rate_in: int, rate_out: int, channels: int = 1) -> None:
        if rate_in <= 0 or rate_out <= 0 or channels < 1:
            raise AudioInputError(f"cannot resample {channels} channels {rate_in} → {rate_out} Hz")
        ratio = Fraction(rate_out, rate_in).limit_denominator(1000)
        self.up, self.down = ratio.numerator, ratio.denominator
        widest = max(self.up, self.down)
        self._filter = (
            firwin(20 * widest + 1, 1.0 / widest, window=("kaiser", 5.0)) if widest > 1 else None
        )
        """scipy's own default for `resample_poly`, designed once instead of per block."""
        self._reach = math.ceil(10 * widest / self.up) + 2
        """Input samples the filter spans on each side of an output sample."""
        self._pending = np.zeros((channels, 0), dtype=np.float32)
        self._start = 0
        """Absolute index of the first pending input sample: a multiple of `down`, so that
        the outputs of a block fall on the whole stream's output grid."""
        self._received = 0
        self._emitted = 0

    def process(self, samples: Samples) -> Samples:
        """Channels × samples in; channels × the output samples that are ready out."""
        if self._filter is None:
            return samples.astype(np.float32)
        self._pending = np.concatenate([self._pending, samples.astype(np.float32)], axis=1)
        self._received += samples.shape[1]
        ready = self._received - self._reach
        return self._emit(ready * self.up // self.down + 1 if ready >= 0 else 0)

    def flush(self) -> Samples:
        """The outputs still held back, with silence after the end of the stream."""
        return self._emit(-(-self._received * self.up // self.down))

    def _emit(self, end: int) -> Samples:
        if end <= self._emitted or self._filter is None:
            return np.zeros((self._pending.shape[0], 0), dtype=np.float32)
        full = resample_poly(self._pending, self.up, self.down, axis=1, window=self._filter)
        first = self._start * self.up // self.down
        out: Samples = full[:, self._emitted - first : end - first].astype(np.float32)
        self._emitted = end
        keep = (end * self.down // self.up - self._reach) // self.down * self.down
        if keep > self._start:
            self._pending = self._pending[:, keep - self._start :]
            self._start = keep
        return out


def from_pcm16(pcm: bytes, channels: int, sample_rate: int) -> Audio:
    """Interleaved signed 16-bit PCM (the wire and WAV format) as float audio."""
    ints = np.frombuffer(pcm, dtype="<i2")
    if channels < 1 or ints.size % channels:
        raise AudioInputError(f"{ints.size} samples do not split into {channels} channels")
    frames = ints.reshape(-1, channels).T.astype(np.float32) / 32768.0
    return Audio(np.ascontiguousarray(frames), sample_rate)


def to_pcm16(samples: Samples) -> bytes:
    """Mono or channels × samples float audio as interleaved 16-bit PCM, clipped to range."""
    data = samples if samples.ndim == 2 else samples[np.newaxis, :]
    ints = np.clip(np.round(data.T * 32767.0), -32768, 32767).astype("<i2")
    return ints.tobytes()
