"""Speech recognition on real (synthesised) speech: Whisper's short-window path, the pocketsphinx
grammar fallback, and the text normalisation both are judged by."""

from __future__ import annotations

import numpy as np
import pytest

from oculi.audio.asr import (
    ASR_ENGINES,
    PocketsphinxRecognizer,
    WhisperRecognizer,
    collapse_repeats,
    make_recognizer,
    normalise_text,
    prompt_from_phrases,
    word_error_rate,
)
from oculi.audio.signal import SAMPLE_RATE, Samples, from_pcm16, resample
from oculi.audio.tts import make_speech_engine
from oculi.errors import AudioInputError, ConfigError

COMMANDS = ("how much is this", "read the label", "add this to my list", "take a note", "stop")


def speak(text: str, voice: str = "en-us", rate_wpm: int = 165) -> Samples:
    speech = make_speech_engine("espeak", voice=voice, rate_wpm=rate_wpm).synthesize(text)
    audio = resample(from_pcm16(speech.pcm, 1, speech.sample_rate), SAMPLE_RATE)
    return audio.channel(0)


@pytest.fixture(scope="module")
def whisper() -> WhisperRecognizer:
    recognizer = WhisperRecognizer()
    recognizer.load()
    return recognizer


@pytest.mark.parametrize(("voice", "rate"), [("en-us", 165), ("en", 180)])
def test_whisper_transcribes_a_spoken_command(
    whisper: WhisperRecognizer, voice: str, rate: int
) -> None:
    transcript = whisper.transcribe(speak("how much is this", voice, rate))
    assert "how much is this" in normalise_text(transcript.text)
    assert transcript.engine == "whisper"
    assert transcript.seconds > 0
    assert [s.text for s in transcript.segments] == [transcript.text]


def test_the_hint_keeps_the_command(whisper: WhisperRecognizer) -> None:
    hint = prompt_from_phrases(["Hey Oculi", *COMMANDS])
    transcript = whisper.transcribe(speak("add this to my list"), hint=hint)
    assert word_error_rate("add this to my list", transcript.text) <= 0.25
    assert "read the label" not in normalise_text(transcript.text)


def test_a_forced_opening_is_scored_and_continued(whisper: WhisperRecognizer) -> None:
    """The wake check's second look: the phrase as the opening scores well on a wake command
    and poorly on other talk, and only the likely one is decoded further."""
    hint = "Hey Oculi. How much is this?"
    wake = whisper.check_prefix(speak("hey oculi, how much is this"), hint, "Hey Oculi,", -1.7)
    other = whisper.check_prefix(
        speak("I think you are right about that"), hint, "Hey Oculi,", -1.7
    )
    assert wake is not None and other is not None
    assert wake.score > -1.7 > other.score
    assert wake.rest is not None and "how much is this" in normalise_text(wake.rest)
    assert normalise_text(wake.rest).startswith("hey oculi")
    assert other.rest is None
    assert whisper.check_prefix(np.zeros(800, dtype=np.float32), hint, "Hey Oculi,", -1.7) is None


def test_silence_and_noise_floor_give_no_words(whisper: WhisperRecognizer) -> None:
    rng = np.random.default_rng(0)
    quiet = (rng.standard_normal(2 * SAMPLE_RATE) * 1e-3).astype(np.float32)
    assert whisper.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32)).text == ""
    assert len(normalise_text(whisper.transcribe(quiet).text).split()) <= 1


def test_too_short_audio_is_an_empty_transcript(whisper: WhisperRecognizer) -> None:
    assert whisper.transcribe(np.zeros(0, dtype=np.float32)).text == ""
    assert whisper.transcribe(speak("stop")[:800]).segments == ()


def test_long_audio_takes_the_thirty_second_path(whisper: WhisperRecognizer) -> None:
    speech = speak("read the label")
    long = np.concatenate([speech, np.zeros(30 * SAMPLE_RATE, dtype=np.float32)])
    assert "read the label" in normalise_text(whisper.transcribe(long).text)


def test_whisper_refuses_stereo_and_bad_settings(whisper: WhisperRecognizer) -> None:
    with pytest.raises(AudioInputError, match="mono"):
        whisper.transcribe(np.zeros((2, SAMPLE_RATE), dtype=np.float32))
    with pytest.raises(ConfigError, match="window_s"):
        WhisperRecognizer(window_s=1.0)
    with pytest.raises(ConfigError, match="timestamps"):
        WhisperRecognizer(without_timestamps=False)


def test_pocketsphinx_picks_the_spoken_phrase() -> None:
    recognizer = PocketsphinxRecognizer(["How much is this?", *COMMANDS[1:]])
    assert recognizer.transcribe(speak("how much is this")).text == "How much is this?"
    transcript = recognizer.transcribe(speak("take a note", "en-us+f3", 150))
    assert transcript.text == "take a note"
    assert [s.text for s in transcript.segments] == ["take", "a", "note"]


def test_pocketsphinx_refuses_words_outside_its_dictionary() -> None:
    with pytest.raises(ConfigError, match="'oculi'"):
        PocketsphinxRecognizer(["hey oculi", "how much is this"])
    with pytest.raises(ConfigError, match="at least one"):
        PocketsphinxRecognizer(["", "?"])


def test_engines_by_name() -> None:
    assert ASR_ENGINES == ("whisper", "pocketsphinx", "remote")
    assert isinstance(make_recognizer(), WhisperRecognizer)
    assert make_recognizer("pocketsphinx", phrases=["stop"]).name == "pocketsphinx"
    with pytest.raises(ConfigError, match="whisper, pocketsphinx"):
        make_recognizer("vosk")
    with pytest.raises(ConfigError, match="phrases"):
        make_recognizer("whisper", phrases=["stop"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How much is THIS?", "how much is this"),
        ("10 of clubs", "ten of clubs"),
        ("It's €2.49, 42 left!", "it's two forty nine forty two left"),
        ("  add   this\tto my-list ", "add this to my list"),
        ("Room 101 at 07:05", "room 101 at zero seven zero five"),
        ("100% 'quoted' & done", "100 percent quoted and done"),
        ("", ""),
    ],
)
def test_normalise_text(text: str, expected: str) -> None:
    assert normalise_text(text) == expected


@pytest.mark.parametrize(
    ("reference", "hypothesis", "expected"),
    [
        ("how much is this", "How much is this?", 0.0),
        ("how much is this", "how much it is", 0.5),
        ("read the label", "read label", 1 / 3),
        ("stop", "stop it now", 2.0),
        ("ten of clubs", "10 of clubs", 0.0),
        ("", "", 0.0),
        ("", "hello", 1.0),
    ],
)
def test_word_error_rate(reference: str, hypothesis: str, expected: float) -> None:
    assert word_error_rate(reference, hypothesis) == pytest.approx(expected)


def test_collapse_repeats_keeps_the_first_copy() -> None:
    assert collapse_repeats("How much is this? How much is this? How much") == "How much is this?"
    assert collapse_repeats("the the the") == "the"
    assert collapse_repeats("no no") == "no no"
    assert collapse_repeats("read the label") == "read the label"


def test_prompt_from_phrases_is_sentences() -> None:
    assert prompt_from_phrases(["hey oculi", "read the label?", " "]) == (
        "Hey oculi. Read the label."
    )
