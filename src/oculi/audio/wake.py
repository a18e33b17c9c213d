"""The wake phrase ("hey oculi"): pocketsphinx keyphrase spotting on the low-power path, then
confirmed in the transcript that the ASR writes for the whole utterance.

The spotter is tuned to miss little and the confirmation removes most of its false alarms.
"""

from __future__ import annotations

import itertools
import os
import re
import tempfile
import threading
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from typing import Protocol

import numpy as np

from oculi.audio.asr import mono, normalise_text, pcm16_with_floor
from oculi.audio.signal import Samples
from oculi.errors import ConfigError

DEFAULT_PHRASE = "hey oculi"
DEFAULT_THRESHOLD = 1e-20
PRONUNCIATIONS: Mapping[str, tuple[str, ...]] = {
    "oculi": ("AA K Y UH L AY", "AA K Y AH L IY", "OW K Y UW L IY"),
}
"""Words the CMU dictionary lacks. eSpeak NG says "oculi" /ˈɑːkjʊlˌaɪ/ ("OCK-you-lye"); people
also say "OCK-yuh-lee" and "OH-kyoo-lee"."""
CMN_INIT = "55,0,0"
"""Cepstral mean of speech at ordinary levels, so the first phrase after start-up is heard as
well as later ones (pocketsphinx's default, 40, needs seconds of audio to adapt)."""
_MAX_VARIANTS = 16
_GREETINGS = frozenset({"hey", "hay", "hei", "heh", "hi", "a", "eh", "hey's"})


class WakeDetector(Protocol):
    """Streaming 16 kHz mono frames of any length in; True when the phrase was just heard."""

    def process(self, frame: Samples) -> bool: ...

    def reset(self) -> None: ...


class KeyphraseWake:
    """Pocketsphinx keyphrase spotting; every pronunciation variant is its own keyphrase,
    because the spotter only follows a word's first pronunciation."""

    def __init__(
        self,
        phrase: str = DEFAULT_PHRASE,
        threshold: float = DEFAULT_THRESHOLD,
        pronunciations: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        from pocketsphinx import Decoder

        words = normalise_text(phrase).split()
        if not words:
            raise ConfigError("the wake phrase is empty")
        if not 0.0 < threshold < 1.0:
            raise ConfigError(f"wake threshold must be between 0 and 1, got {threshold}")
        known = {**PRONUNCIATIONS, **(pronunciations or {})}
        self.phrase = phrase
        self._decoder = Decoder(
            lm=None, dither=True, loglevel="FATAL", kws_threshold=threshold, cmninit=CMN_INIT
        )
        spellings = [self._spellings(word, known) for word in words]
        variants = [
            " ".join(v) for v in itertools.islice(itertools.product(*spellings), _MAX_VARIANTS)
        ]
        with tempfile.NamedTemporaryFile("w", suffix=".kws", delete=False) as listing:
            listing.write("\n".join(variants) + "\n")
        try:
            self._decoder.add_kws("wake", listing.name)
        finally:
            os.unlink(listing.name)
        self._decoder.activate_search("wake")
        self._rng = np.random.default_rng(0)
        self._lock = threading.Lock()
        self._started = False

    def _spellings(self, word: str, known: Mapping[str, Sequence[str]]) -> list[str]:
        """The dictionary's entry plus one added entry per other given pronunciation."""
        listed = self._decoder.lookup_word(word)
        names = [] if listed is None else [word]
        for phones in known.get(word, ()):
            if phones == listed:
                continue
            name = f"{word}.{len(names)}" if names else word
            try:
                self._decoder.add_word(name, phones, True)
            except RuntimeError as err:
                raise ConfigError(f"bad pronunciation {phones!r} for {word!r}: {err}") from err
            names.append(name)
        if not names:
            raise ConfigError(
                f"wake phrase {self.phrase!r}: no pronunciation for {word!r}; pass one as "
                f"pronunciations={{{word!r}: ('AA K Y UH L AY',)}} (CMU phones)"
            )
        return names

    def process(self, frame: Samples) -> bool:
        audio = mono(frame)
        if not audio.size:
            return False
        with self._lock:
            if not self._started:
                self._decoder.start_utt()
                self._started = True
            self._decoder.process_raw(pcm16_with_floor(audio, self._rng), False, False)
            if self._decoder.hyp() is None:
                return False
            self._decoder.end_utt()
            self._started = False
            return True

    def reset(self) -> None:
        with self._lock:
            if self._started:
                self._decoder.end_utt()
                self._started = False


def _sound(word: str) -> str:
    """A rough sound-alike key, so spellings of one pronunciation compare equal."""
    key = word.replace("'", "")
    for pattern, sound in (
        (r"ck|c(?=[aou])|q", "k"),
        (r"(ee|ie|ey|ea|y)$", "i"),
        (r"ph", "f"),
        (r"(.)\1", r"\1"),
    ):
        key = re.sub(pattern, sound, key)
    return key


def _similar(heard: str, wanted: str) -> bool:
    return SequenceMatcher(None, _sound(heard), _sound(wanted)).ratio() >= 0.7


def _wake_length(words: Sequence[str], phrase: str) -> int:
    """How many leading words of the transcript are the wake phrase, 0 if it is not there."""
    wanted = normalise_text(phrase).split()
    if not wanted:
        return 0
    head, *tail = wanted
    at = 0
    if head in _GREETINGS or len(wanted) == 1:
        if len(wanted) > 1 and (not words or words[0] not in _GREETINGS):
            return 0
        at = 0 if len(wanted) == 1 else 1
        wanted = wanted if len(wanted) == 1 else tail
    target = "".join(wanted)
    for span in (1, 2, 3):
        heard = "".join(words[at : at + span])
        if len(words) >= at + span and _similar(heard, target):
            return at + span
    return 0


def transcript_has_wake(text: str, phrase: str = DEFAULT_PHRASE) -> bool:
    """Whether the transcript starts with the wake phrase as Whisper writes it ("Hey, Oculi",
    "Hey Okuli", "hey oculie"), without taking "hey, how are you" or "okay" for it."""
    return _wake_length(normalise_text(text).split(), phrase) > 0


def strip_wake(text: str, phrase: str = DEFAULT_PHRASE) -> str:
    """The transcript without a leading wake phrase and the punctuation after it."""
    words = normalise_text(text).split()
    count = _wake_length(words, phrase)
    if not count:
        return text
    raw = text.split()
    kept = 0
    for index, token in enumerate(raw):
        kept += len(normalise_text(token).split())
        if kept >= count:
            return " ".join(raw[index + 1 :]).lstrip(" ,.!?;:-")
    return ""
