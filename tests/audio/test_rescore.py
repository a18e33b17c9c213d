"""Command rescoring with the real Whisper: a misheard command becomes the apps' phrasing that
the audio supports, and ordinary talk stays as it was said."""

from __future__ import annotations

import numpy as np
import pytest

from oculi.agent.parser import IntentParser
from oculi.apps.registry import first_party_intent_files
from oculi.audio.asr import WhisperRecognizer
from oculi.audio.rescore import MIN_SIMILARITY, CommandPhrases, rescore
from oculi.audio.signal import SAMPLE_RATE, Samples, from_pcm16, resample
from oculi.audio.tts import make_speech_engine

HINT = "Hey Oculi. How much is this? What does it cost?"


def speak(text: str, voice: str = "en-us") -> Samples:
    speech = make_speech_engine("espeak", voice=voice, rate_wpm=165).synthesize(text)
    audio = resample(from_pcm16(speech.pcm, 1, speech.sample_rate), SAMPLE_RATE).channel(0)
    pad = np.zeros(SAMPLE_RATE // 4, dtype=np.float32)
    return np.concatenate([pad, audio, pad])


@pytest.fixture(scope="module")
def whisper() -> WhisperRecognizer:
    recognizer = WhisperRecognizer()
    recognizer.load()
    return recognizer


@pytest.fixture(scope="module")
def phrases() -> CommandPhrases:
    """The built-in apps' phrasings, from the intents files that ship beside them."""
    return CommandPhrases(IntentParser(first_party_intent_files()).phrasings("en"))


def test_the_apps_phrasings_are_expanded_without_slots(phrases: CommandPhrases) -> None:
    assert len(phrases) > 500
    assert "what does this cost" in phrases
    assert "compare prices for this" in phrases
    assert "navigate to" not in phrases  # its slot was left out, not the template kept
    assert "compare prices for this" in phrases.nearest("compare pricing for news")
    assert phrases.nearest("we should paint the kitchen before the winter") == []
    assert MIN_SIMILARITY > 50


def test_a_misheard_command_becomes_the_phrasing_the_audio_supports(
    whisper: WhisperRecognizer, phrases: CommandPhrases
) -> None:
    audio = speak("hey oculi, compare prices for this")
    result = rescore(
        whisper.score_texts, audio, HINT, "Hey Oculi, compare pricing for news.",
        "compare pricing for news.", phrases, margin=10.0,
    )  # fmt: skip
    assert result.changed and result.text == "compare prices for this"
    assert result.gain > 0  # the audio favours the phrasing over the misreading


def test_ordinary_talk_and_a_slot_command_stay_as_said(
    whisper: WhisperRecognizer, phrases: CommandPhrases
) -> None:
    said = "is there a bakery near the station"
    audio = speak(f"hey oculi, {said}")
    result = rescore(
        whisper.score_texts, audio, HINT, f"Hey Oculi, {said}?", f"{said}?", phrases, 10.0
    )
    assert not result.changed and result.text == said
    # a phrasing the audio does not support is refused even when it is spelled alike
    audio = speak("hey oculi, translate this time")
    result = rescore(
        whisper.score_texts, audio, HINT, "Hey Oculi, translate this time.",
        "translate this time.", phrases, margin=1.0,
    )  # fmt: skip
    assert not result.changed


def test_no_scores_no_change(phrases: CommandPhrases) -> None:
    result = rescore(
        lambda samples, hint, texts: None, np.zeros(SAMPLE_RATE, dtype=np.float32), HINT,
        "Hey Oculi, compare pricing for news.", "compare pricing for news.", phrases, 10.0,
    )  # fmt: skip
    assert not result.changed and result.text == "compare pricing for news"
