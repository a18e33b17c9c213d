"""Endpointing: when an utterance starts, and when the wearer has finished speaking.

Decided on the VAD's 32 ms probabilities with hysteresis: a start needs a few voiced chunks in a
row (a cough or a click is shorter), an end needs a stretch of silence long enough not to cut a
person off mid-sentence, short enough that the answer does not keep them waiting.
"""

from __future__ import annotations

from dataclasses import dataclass

from oculi.audio.vad import CHUNK


@dataclass(frozen=True)
class EndpointSettings:
    on: float = 0.5
    """Probability above which a chunk counts as speech."""
    off: float = 0.3
    """Probability below which a chunk counts as silence (between the two: unchanged)."""
    start_chunks: int = 3
    """96 ms of speech opens an utterance."""
    end_silence_ms: int = 480
    pre_roll_ms: int = 300
    """Audio kept before the detected start, so the first syllable is not lost."""
    max_ms: int = 15000


@dataclass(frozen=True)
class Span:
    """An utterance, in samples of the stream (start includes the pre-roll)."""

    start: int
    end: int
    speech_end: int
    """The last voiced sample: where the wearer actually stopped."""


class Endpointer:
    def __init__(self, settings: EndpointSettings | None = None, sample_rate: int = 16000) -> None:
        self.settings = settings or EndpointSettings()
        self._ms_per_chunk = 1000 * CHUNK / sample_rate
        self._index = 0
        self._voiced_run = 0
        self._silent_run = 0
        self._start: int | None = None
        self._last_voiced = 0

    @property
    def in_speech(self) -> bool:
        return self._start is not None

    @property
    def open_start(self) -> int | None:
        """Where the utterance being heard began (None between utterances)."""
        return self._start

    @property
    def silent_chunks(self) -> int:
        """How many silent chunks in a row just went by."""
        return self._silent_run

    @property
    def last_voiced(self) -> int:
        return self._last_voiced

    def push(self, probability: float) -> Span | None:
        """One chunk's probability; returns the utterance when its end has just been decided."""
        s = self.settings
        chunk_start = self._index * CHUNK
        self._index += 1
        voiced, silent = probability >= s.on, probability < s.off
        self._voiced_run = self._voiced_run + 1 if voiced else 0
        self._silent_run = self._silent_run + 1 if silent else 0
        if voiced:
            self._last_voiced = chunk_start + CHUNK
        if self._start is None:
            if self._voiced_run >= s.start_chunks:
                first = chunk_start - (s.start_chunks - 1) * CHUNK
                pre = int(s.pre_roll_ms / self._ms_per_chunk) * CHUNK
                self._start = max(0, first - pre)
            return None
        too_long = (self._index * CHUNK - self._start) * self._ms_per_chunk / CHUNK >= s.max_ms
        if self._silent_run * self._ms_per_chunk >= s.end_silence_ms or too_long:
            return self._close(self._index * CHUNK)
        return None

    def finish(self) -> Span | None:
        """The stream ended: an utterance still open ends here."""
        return self._close(self._index * CHUNK) if self._start is not None else None

    def _close(self, end: int) -> Span:
        assert self._start is not None
        span = Span(self._start, end, max(self._last_voiced, self._start))
        self._start = None
        self._voiced_run = self._silent_run = 0
        return span
