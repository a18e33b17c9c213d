"""The wake phrase: pocketsphinx spotting on synthesised speech and real noise, and the check
that a transcript starts with the phrase."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from oculi.audio.signal import SAMPLE_RATE, Samples, from_pcm16, read_audio, resample
from oculi.audio.tts import make_speech_engine
from oculi.audio.wake import (
    KeyphraseWake,
    forced_wake_agrees,
    spotted_words,
    strip_wake,
    transcript_has_wake,
)
from oculi.errors import AudioInputError, ConfigError

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
DISHES = DATA / "noise" / "pyroomacoustics" / "doing_the_dishes.wav"
FRAME = 320


def speak(text: str, voice: str = "en-us", rate_wpm: int = 165) -> Samples:
    speech = make_speech_engine("espeak", voice=voice, rate_wpm=rate_wpm).synthesize(text)
    audio = resample(from_pcm16(speech.pcm, 1, speech.sample_rate), SAMPLE_RATE)
    pause = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    return np.concatenate([pause, audio.channel(0), pause])


def heard_at(wake: KeyphraseWake, samples: Samples) -> list[float]:
    """When the detector fired, fed in 20 ms frames as the glasses stream audio."""
    return [
        (start + FRAME) / SAMPLE_RATE
        for start in range(0, samples.size, FRAME)
        if wake.process(samples[start : start + FRAME])
    ]


@pytest.fixture(scope="module")
def wake() -> KeyphraseWake:
    return KeyphraseWake()


@pytest.mark.parametrize(("voice", "rate"), [("en-us", 165), ("en", 180), ("en-us+f3", 150)])
def test_fires_on_the_wake_phrase(wake: KeyphraseWake, voice: str, rate: int) -> None:
    wake.reset()
    speech = speak("hey oculi, how much is this", voice, rate)
    fired = heard_at(wake, speech)
    assert len(fired) == 1
    assert fired[0] < speech.size / SAMPLE_RATE


def test_stays_quiet_on_other_speech(wake: KeyphraseWake) -> None:
    wake.reset()
    assert heard_at(wake, speak("hello, how are you today")) == []
    assert heard_at(wake, speak("hey, how much is this")) == []


def test_stays_quiet_on_kitchen_noise(wake: KeyphraseWake) -> None:
    if not DISHES.exists():
        pytest.skip(f"shared data not found at {DATA}")
    wake.reset()
    assert heard_at(wake, read_audio(DISHES).channel(0)[: 10 * SAMPLE_RATE]) == []


def test_frames_of_any_length_and_reset(wake: KeyphraseWake) -> None:
    wake.reset()
    speech = speak("hey oculi, read the label")
    assert not wake.process(np.zeros(0, dtype=np.float32))
    assert wake.process(speech) or wake.process(np.zeros(SAMPLE_RATE, dtype=np.float32))
    wake.reset()
    wake.reset()
    with pytest.raises(AudioInputError, match="mono"):
        wake.process(np.zeros((2, FRAME), dtype=np.float32))


def test_unknown_words_need_a_pronunciation() -> None:
    with pytest.raises(ConfigError, match="'zorblax'"):
        KeyphraseWake("hey zorblax")
    assert KeyphraseWake("hey zorblax", pronunciations={"zorblax": ["Z AO R B L AE K S"]})
    with pytest.raises(ConfigError, match="pronunciation"):
        KeyphraseWake("hey zorblax", pronunciations={"zorblax": ["NOT A PHONE"]})
    with pytest.raises(ConfigError, match="between 0 and 1"):
        KeyphraseWake(threshold=2.0)
    with pytest.raises(ConfigError, match="empty"):
        KeyphraseWake("  ")


def test_the_spotter_listens_for_the_distinctive_words() -> None:
    assert spotted_words("Hey Oculi") == ["oculi"]
    assert spotted_words("ok glasses") == ["glasses"]
    assert spotted_words("computer") == ["computer"]
    assert spotted_words("hey") == ["hey"]


@pytest.mark.parametrize(
    "text",
    [
        "Hey Oculi. How much is this?",
        "Hey, Oculi, read the label.",
        "hey okuli what time is it",
        "Hello Oculi. How much is this?",
        "Here Oculi. Add this to my list.",
        "Oculi, stop.",
        "Hey Oakley, take a note",
    ],
)
def test_transcripts_with_the_wake_phrase(text: str) -> None:
    assert transcript_has_wake(text)


@pytest.mark.parametrize(
    "text",
    [
        "Hey, how are you?",
        "OK",
        "Okay.",
        "hello",
        "Hello, how are you today?",
        "Hey Ollie, come here.",
        "Take a note.",
        "I like the ocular design.",
        "",
    ],
)
def test_transcripts_without_the_wake_phrase(text: str) -> None:
    assert not transcript_has_wake(text)


def test_other_wake_phrases() -> None:
    assert transcript_has_wake("Hey glasses, open the map", "hey glasses")
    assert transcript_has_wake("Computer, lights", "computer")
    assert not transcript_has_wake("The computer is slow", "computer")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hey oculi how much is this", "how much is this"),
        ("Hey, Oculi, how much is this?", "how much is this?"),
        ("Hey Oculi. Read the label.", "Read the label."),
        ("Hey Oculi.", ""),
        ("how much is this", "how much is this"),
        ("Hey, how are you?", "Hey, how are you?"),
    ],
)
def test_strip_wake(text: str, expected: str) -> None:
    assert strip_wake(text) == expected


@pytest.mark.parametrize(
    ("free", "forced"),
    [
        ("Think you like what does this cost?", "Hey Oculi, what does this cost?"),
        ("Pay off your ride. Price check.", "Hey Oculi, price check?"),
        ("Think you like what's the price of news?", "Hey Oculi, what's the price on this?"),
    ],
)
def test_a_forced_wake_phrase_that_agrees_with_the_free_transcript(free: str, forced: str) -> None:
    assert forced_wake_agrees(free, forced)


@pytest.mark.parametrize(
    ("free", "forced"),
    [
        # the decoder went on with a command from its prompt, not with what was said
        ("The kid you've been to, you've known us a little bit.", "Hey Oculi, how much is this?"),
        # what stands for the phrase is too long to be a misheard "hey oculi"
        ("It's a huge castle up at the current board box.", "Hey Oculi, the current board box."),
        # nothing was left over to have been the phrase
        ("What does this cost?", "Hey Oculi, what does this cost?"),
        # the forced transcript lost the phrase itself
        ("Think you like what does this cost?", "Take your life, what does this cost?"),
    ],
)
def test_a_forced_wake_phrase_that_tells_another_story(free: str, forced: str) -> None:
    assert not forced_wake_agrees(free, forced)


def test_the_phrase_alone_agrees_when_the_free_transcript_is_short() -> None:
    assert forced_wake_agrees("Hey, are you right?", "Hey Oculi.")
    assert not forced_wake_agrees("I think we should go home now, right?", "Hey Oculi.")
