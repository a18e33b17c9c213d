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
DEFAULT_THRESHOLD = 1e-30
DEFAULT_ALTERNATE_THRESHOLD = 1e-15
PRONUNCIATIONS: Mapping[str, tuple[str, ...]] = {
    "oculi": (
        "AA K Y UH L AY", "AA K Y UW L AY", "AA K UW L AY", "AA K Y UH L IY", "OW K Y UH L IY",
    ),
}  # fmt: skip
"""Words the CMU dictionary lacks. eSpeak NG says "oculi" /ˈɑːkjʊlˌaɪ/ ("OCK-you-lye"); people
also say "OCK-yoo-lee" and "OH-kyoo-lee". The natural (Piper) voice glides "OCK-oo-lye" with a
weak y and l (pocketsphinx's phone decoder heard "AA K UW W AY"): without the two UW variants the
spotter missed 30 % of its wake phrases at -5..20 dB, with them 5 %."""
_MAX_VARIANTS = 16
_GREETINGS = frozenset({"hey", "hi", "hello", "ok", "okay", "yo"})
MISHEARD_MAX_WORDS = 4
"""At most this many words may stand for the phrase in a transcript the second look corrects:
"Think you like", "Pay off your ride"; ordinary talk put longer openings there."""
TAIL_SIMILARITY = 0.75
SIMILARITY = 0.78
"""Sound-alike ratio a transcript word needs: keeps "Oakley", "okuli" and "oh curly" and leaves
out "Ollie" (0.75), "okay Lee" and "equally" (0.73)."""


class WakeDetector(Protocol):
    """Streaming 16 kHz mono frames of any length in; True when the phrase was just heard."""

    def process(self, frame: Samples) -> bool: ...

    def reset(self) -> None: ...


class KeyphraseWake:
    """Pocketsphinx keyphrase spotting of the phrase's distinctive words.

    Each pronunciation variant is its own keyphrase (the spotter follows only a word's first
    pronunciation): the first at `threshold`, the others at the stricter `alternate_threshold`,
    as each added variant roughly added its own false alarms. Tuned on eSpeak speech in ten
    voices at 140–200 wpm: it misses 2–5 % of wake phrases (clean, or in kitchen noise at
    +10 dB) and fires ~125 times an hour on non-stop other speech, mostly near-misses such as
    "hey Julie"; with Whisper's transcript check as well, ~13 an hour.
    """

    def __init__(
        self,
        phrase: str = DEFAULT_PHRASE,
        threshold: float = DEFAULT_THRESHOLD,
        pronunciations: Mapping[str, Sequence[str]] | None = None,
        alternate_threshold: float = DEFAULT_ALTERNATE_THRESHOLD,
    ) -> None:
        from pocketsphinx import Decoder

        words = spotted_words(phrase)
        if not words:
            raise ConfigError("the wake phrase is empty")
        for value in (threshold, alternate_threshold):
            if not 0.0 < value < 1.0:
                raise ConfigError(f"wake thresholds must be between 0 and 1, got {value}")
        known = {**PRONUNCIATIONS, **(pronunciations or {})}
        self.phrase = phrase
        self._decoder = Decoder(lm=None, dither=True, loglevel="FATAL")
        spellings = [self._spellings(word, known) for word in words]
        lines = []
        for variant in itertools.islice(itertools.product(*spellings), _MAX_VARIANTS):
            first = all(
                name == choices[0] for name, choices in zip(variant, spellings, strict=True)
            )
            lines.append(f"{' '.join(variant)} /{threshold if first else alternate_threshold:g}/")
        with tempfile.NamedTemporaryFile("w", suffix=".kws", delete=False) as listing:
            listing.write("\n".join(lines) + "\n")
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


def spotted_words(phrase: str) -> list[str]:
    """The words the spotter listens for: the phrase without a leading greeting. "Hey" is short,
    unstressed and often clipped, and its poor match sank the whole phrase's score (38 % of
    eSpeak "hey oculi" missed at 1e-35, against 3 % for "oculi" alone at 1e-30); the transcript
    check still asks for it."""
    words = normalise_text(phrase).split()
    rest = list(itertools.dropwhile(lambda w: w in _GREETINGS, words))
    return rest or words


def _sound(word: str) -> str:
    """A rough sound-alike key, so that spellings of one pronunciation compare equal."""
    key = re.sub(r"c(?=[eiy])", "s", word.replace("'", ""))
    key = re.sub(r"ck|c|q", "k", key)
    key = re.sub(r"(ee|ie|ey|ea|y)$", "i", key)
    return re.sub(r"(.)\1+", r"\1", key)


def _similar(heard: str, wanted: str) -> bool:
    """Sound-alike and starting alike, so that "the computer" is not "computer"."""
    a, b = _sound(heard), _sound(wanted)
    if not a or not b or (a[0] != b[0] and not (a[0] in "aeiou" and b[0] in "aeiou")):
        return False
    return SequenceMatcher(None, a, b).ratio() >= SIMILARITY


def _wake_length(words: Sequence[str], phrase: str) -> int:
    """How many leading words of the transcript are the wake phrase, 0 if it is not there.

    The distinctive words must open the transcript or, when the phrase starts with a greeting,
    follow one other word: the greeting is what gets misheard ("Here Oculi", "Hit Oculi").
    """
    distinctive = spotted_words(phrase)
    target = "".join(distinctive)
    starts = (0, 1) if len(distinctive) < len(normalise_text(phrase).split()) else (0,)
    for start in starts:
        for span in range(1, len(distinctive) + 3):
            end = start + span
            if end <= len(words) and _similar("".join(words[start:end]), target):
                return end
    return 0


def transcript_has_wake(text: str, phrase: str = DEFAULT_PHRASE) -> bool:
    """Whether the transcript starts with the wake phrase as Whisper writes it ("Hey, Oculi",
    "Hello Oculi", "hey oakley"), without taking "hey, how are you" or "okay" for it.

    Whisper tiny spells the made-up word only when the prompt holds it: with "Hey Oculi." in
    the hint it wrote "Hey Oculi" for 168 of 180 eSpeak wake phrases; without, 4 of 180 ("hey are
    you", "take your life", "hey actually"), which no fuzzy match can safely accept."""
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


def forced_wake_agrees(free: str, forced: str, phrase: str = DEFAULT_PHRASE) -> bool:
    """Whether a transcript decoded with the phrase forced as its opening tells the same story
    as the free transcript, which missed the phrase: the command after the forced phrase must
    be how the free transcript ends, and what comes before that must be short enough to be the
    misheard phrase (all of it, when the phrase was said on its own). Whisper given a forced
    "Hey Oculi," over ordinary talk often goes on with a command from its prompt ("The kid
    you've been to…" → "Hey Oculi, how much is this?"), which the mean score alone let through
    (~1-2 false accepts an hour, `oculi bench voice`)."""
    if not transcript_has_wake(forced, phrase):
        return False
    command = normalise_text(strip_wake(forced, phrase)).split()
    said = normalise_text(free).split()
    misheard = len(said) - len(command)
    if not 1 <= misheard <= MISHEARD_MAX_WORDS:
        return False
    if not command:  # the phrase said on its own, the command to follow
        return True
    tail = " ".join(said[misheard:])
    return SequenceMatcher(None, " ".join(command), tail).ratio() >= TAIL_SIMILARITY
