"""Offline speech: real eSpeak NG audio, checked for format, loudness, length and safety."""

from __future__ import annotations

import importlib.util
import io
import threading
import wave

import numpy as np
import pytest

from oculi.audio.tts import (
    SPEECH_ENGINES,
    EspeakEngine,
    PiperEngine,
    SpeechAudio,
    make_speech_engine,
)
from oculi.errors import ConfigError, SpeechError

SENTENCE = "The best price is 2 euros 49 at FreshMart, you save 80 cents."
SILENCE_RMS = 300.0


def rms(audio: SpeechAudio) -> float:
    samples = np.frombuffer(audio.pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2)))


@pytest.fixture(scope="module")
def english() -> EspeakEngine:
    return EspeakEngine()


def test_wav_is_mono_16_bit_at_the_engine_rate(english: EspeakEngine) -> None:
    audio = english.synthesize(SENTENCE)
    with wave.open(io.BytesIO(audio.to_wav()), "rb") as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        assert wav.getframerate() == english.sample_rate == audio.sample_rate
        assert wav.readframes(wav.getnframes()) == audio.pcm
    assert audio.duration_s == pytest.approx(len(audio.pcm) / 2 / audio.sample_rate)


def test_speech_is_audible(english: EspeakEngine) -> None:
    assert rms(english.synthesize(SENTENCE)) > SILENCE_RMS


def test_longer_text_gives_longer_audio(english: EspeakEngine) -> None:
    short = english.synthesize("Hi.")
    assert english.synthesize(SENTENCE).duration_s > 2 * short.duration_s
    assert short.duration_s > 0.1


def test_faster_rate_gives_shorter_audio() -> None:
    slow = EspeakEngine(rate_wpm=120).synthesize(SENTENCE)
    fast = EspeakEngine(rate_wpm=300).synthesize(SENTENCE)
    assert fast.duration_s < 0.7 * slow.duration_s


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_text_is_refused(english: EspeakEngine, text: str) -> None:
    with pytest.raises(SpeechError, match="empty"):
        english.synthesize(text)


def test_unknown_engine_lists_the_allowed_names() -> None:
    with pytest.raises(ConfigError, match="espeak") as caught:
        make_speech_engine("festival")
    assert "piper" in str(caught.value)
    assert "festival" in str(caught.value)
    assert SPEECH_ENGINES == ("espeak", "piper")


def test_unknown_voice_is_named_in_the_error() -> None:
    with pytest.raises(SpeechError, match="no-such-voice"):
        EspeakEngine(voice="no-such-voice")


def test_rate_outside_espeak_limits_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="wpm"):
        make_speech_engine(rate_wpm=1000)


def test_mandarin_voice_speaks_chinese() -> None:
    audio = make_speech_engine("espeak", voice="cmn").synthesize("你好")
    assert audio.duration_s > 0.2
    assert rms(audio) > SILENCE_RMS


def test_concurrent_engines_each_get_their_own_audio() -> None:
    engines = [EspeakEngine(voice="en-us"), EspeakEngine(voice="cmn")]
    texts = [SENTENCE, "你好，今天的最低价是两块四毛九。"]
    expected = [
        engine.synthesize(text).duration_s for engine, text in zip(engines, texts, strict=True)
    ]
    barrier = threading.Barrier(2)
    results: list[list[SpeechAudio]] = [[], []]

    def speak(index: int) -> None:
        barrier.wait()
        for _ in range(3):
            results[index].append(engines[index].synthesize(texts[index]))

    threads = [threading.Thread(target=speak, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    for index in range(2):
        assert len(results[index]) == 3
        for audio in results[index]:
            assert audio.duration_s == pytest.approx(expected[index], rel=0.02)
            assert rms(audio) > SILENCE_RMS


def test_espeak_rejects_a_model_path() -> None:
    with pytest.raises(ConfigError, match="piper"):
        make_speech_engine("espeak", model_path="voice.onnx")


def test_piper_needs_a_model_path() -> None:
    with pytest.raises(ConfigError, match="model_path"):
        make_speech_engine("piper")


@pytest.mark.skipif(importlib.util.find_spec("piper") is not None, reason="piper-tts installed")
def test_piper_without_the_package_says_how_to_install_it() -> None:
    with pytest.raises(SpeechError, match="pip install piper-tts"):
        PiperEngine("voice.onnx")


def test_speech_audio_rejects_torn_samples() -> None:
    with pytest.raises(ValueError, match="16-bit"):
        SpeechAudio(pcm=b"\x00\x01\x02", sample_rate=22050)
