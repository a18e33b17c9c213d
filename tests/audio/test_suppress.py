"""Noise suppression after the beamformer (RNNoise at 48 kHz behind a 16 kHz stream), and the
streaming resampler it and the live microphone use."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from oculi.audio.asr import WhisperRecognizer
from oculi.audio.listen import stream, voice_settings_from
from oculi.audio.signal import Audio, StreamResampler, resample
from oculi.audio.simulate import NoiseBank, Scene, tts_command, wearer_recording
from oculi.audio.suppress import SUPPRESSORS, RnnoiseSuppressor, make_suppressor
from oculi.audio.voice import VoicePipeline, VoiceSettings, make_wake
from oculi.errors import ConfigError
from oculi.runtime.config import load_config
from oculi.runtime.profile import load_profile

needs_rnnoise = pytest.mark.skipif(
    importlib.util.find_spec("pyrnnoise") is None, reason="pyrnnoise is not installed"
)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return 0.5 * tts_command("hey oculi, how much is this")


def _denoise(samples: np.ndarray, hop: int) -> np.ndarray:
    suppressor = RnnoiseSuppressor()
    parts = [suppressor.process(samples[i : i + hop]) for i in range(0, samples.size, hop)]
    return np.concatenate([*parts, suppressor.flush()])


def _snr_db(out: np.ndarray, clean: np.ndarray) -> float:
    scale = float(np.dot(out, clean) / np.dot(clean, clean))
    residual = out - scale * clean
    return float(10 * np.log10(np.sum((scale * clean) ** 2) / np.sum(residual**2)))


@needs_rnnoise
def test_rnnoise_removes_white_noise_and_keeps_the_stream_aligned(speech: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    noisy = (speech + 0.02 * rng.standard_normal(speech.size)).astype(np.float32)
    out = _denoise(noisy, 320)
    assert out.size == noisy.size
    assert _snr_db(out, speech) > _snr_db(noisy, speech) + 3
    lags = range(-40, 41)
    fit = [np.dot(np.roll(out, -lag), speech) for lag in lags]
    assert lags[int(np.argmax(fit))] == 0


@needs_rnnoise
def test_rnnoise_gives_the_same_output_whatever_the_chunk_size(speech: np.ndarray) -> None:
    first, second = _denoise(speech, 320), _denoise(speech, 4096)
    np.testing.assert_allclose(first, second, atol=1e-5)


@needs_rnnoise
def test_suppression_by_name_and_config() -> None:
    assert SUPPRESSORS == ("off", "rnnoise")
    assert make_suppressor("off") is None
    suppressor = make_suppressor("rnnoise")
    assert suppressor is not None and suppressor.name == "rnnoise"
    with pytest.raises(ConfigError, match="off, rnnoise"):
        make_suppressor("deepfilternet")
    assert load_config(env={}).get("voice.suppression") == "off"
    config = load_config(env={"OCULI_VOICE__SUPPRESSION": "rnnoise"})
    assert voice_settings_from(config).suppression == "rnnoise"
    with pytest.raises(ConfigError, match=r"voice\.suppression"):
        load_config(env={"OCULI_VOICE__SUPPRESSION": "loud"})


@needs_rnnoise
def test_the_pipeline_hears_the_wearer_through_suppression(speech: np.ndarray) -> None:
    profile = load_profile("s1")
    pad = np.zeros(8000, dtype=np.float32)
    scene = Scene(noise="white", snr_db=5, seed=3)
    rec = wearer_recording(np.concatenate([pad, speech, pad]), profile, scene, NoiseBank())
    settings = VoiceSettings(hint="Hey Oculi. How much is this?", suppression="rnnoise")
    pipeline = VoicePipeline(
        profile.microphones, WhisperRecognizer(), make_wake(settings), settings
    )
    heard = [h for h in stream(pipeline, rec.audio) if h.text]
    assert [h.text for h in heard] == ["how much is this"]
    assert heard[0].wake and heard[0].own_voice
    assert pipeline.busy_s["suppress"] > 0


@pytest.mark.parametrize(("rate_in", "rate_out"), [(48000, 16000), (44100, 16000),
                                                   (16000, 48000), (16000, 16000)])  # fmt: skip
def test_streamed_resampling_equals_resampling_the_whole(rate_in: int, rate_out: int) -> None:
    rng = np.random.default_rng(rate_in)
    samples = rng.standard_normal((2, 9001)).astype(np.float32)
    whole = resample(Audio(samples, rate_in), rate_out).samples
    resampler = StreamResampler(rate_in, rate_out, channels=2)
    parts, start = [], 0
    while start < samples.shape[1]:
        size = int(rng.integers(1, 1500))
        parts.append(resampler.process(samples[:, start : start + size]))
        start += size
    streamed = np.concatenate([*parts, resampler.flush()], axis=1)
    assert streamed.shape == whole.shape
    np.testing.assert_allclose(streamed, whole, atol=1e-5)
