"""The simulated glasses: channels, SNR, a bone channel deaf to others, determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from oculi.audio.signal import SAMPLE_RATE
from oculi.audio.simulate import (
    NOISE_KINDS,
    SHARED_DATA,
    NoiseBank,
    Recording,
    Scene,
    measure_snr,
    mix_at_snr,
    non_wake_stream,
    tts_command,
    wearer_recording,
)
from oculi.errors import ConfigError
from oculi.runtime.profile import Profile, load_profile

COMMAND = "hey oculi, how much is this bottle of olive oil"
BONE = 4


@pytest.fixture(scope="module")
def s1() -> Profile:
    return load_profile("s1")


@pytest.fixture(scope="module")
def bank() -> NoiseBank:
    return NoiseBank()


@pytest.fixture(scope="module")
def command() -> np.ndarray:
    return tts_command(COMMAND)


def record(command: np.ndarray, s1: Profile, bank: NoiseBank, **scene: object) -> Recording:
    return wearer_recording(command, s1, Scene(**scene), bank)


def power_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-30))


def test_five_channels_at_16k_without_clipping(command, s1, bank) -> None:
    rec = record(command, s1, bank, noise="street", snr_db=-5.0, interferers=2)
    assert rec.audio.channels == 5
    assert rec.audio.sample_rate == SAMPLE_RATE == 16000
    assert rec.audio.samples.shape == (5, command.size)
    assert rec.audio.samples.dtype == np.float32
    assert np.abs(rec.audio.samples).max() < 0.99
    assert rec.clean.shape == (command.size,)
    start, end = rec.speech_span
    assert 0.25 * SAMPLE_RATE < start < end < command.size - 0.4 * SAMPLE_RATE


@pytest.mark.parametrize("kind", NOISE_KINDS)
@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 10.0])
def test_snr_at_mic_0_is_what_was_asked(command, s1, bank, kind, snr_db) -> None:
    rec = record(command, s1, bank, noise=kind, snr_db=snr_db, interferers=int(snr_db < 0))
    everything_else = rec.audio.samples[0].astype(np.float64) - rec.clean
    achieved = measure_snr(rec.clean, everything_else, slice(*rec.speech_span))
    assert achieved == pytest.approx(snr_db, abs=1.0)
    assert rec.snr_db == pytest.approx(achieved, abs=0.05)


def test_parts_add_up_to_the_recording(command, s1, bank) -> None:
    rec = record(command, s1, bank, noise="babble", snr_db=0.0, interferers=1)
    total = rec.wearer.astype(np.float64) + rec.talkers + rec.noise
    np.testing.assert_allclose(rec.audio.samples, total, atol=1e-6)
    np.testing.assert_array_equal(rec.clean, rec.wearer[0])


def test_bone_channel_follows_the_low_passed_own_voice(command, s1, bank) -> None:
    rec = record(command, s1, bank, noise="babble", snr_db=0.0, interferers=2, seed=4)
    low = sosfiltfilt(butter(4, 1000, fs=SAMPLE_RATE, output="sos"), rec.clean)
    bone_corr = np.corrcoef(low, rec.audio.samples[BONE])[0, 1]
    air_corr = np.corrcoef(
        low, sosfiltfilt(butter(4, 1000, fs=SAMPLE_RATE, output="sos"), rec.audio.samples[0])
    )[0, 1]
    assert bone_corr > 0.95
    assert bone_corr > air_corr + 0.1
    spectrum = np.abs(np.fft.rfft(rec.wearer[BONE])) ** 2
    freqs = np.fft.rfftfreq(rec.wearer[BONE].size, 1 / SAMPLE_RATE)
    assert spectrum[freqs > 3000].sum() < 1e-3 * spectrum[freqs < 1000].sum()


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_bone_channel_hears_no_noise_or_talkers(command, s1, bank, kind) -> None:
    silent = np.zeros_like(command)
    rec = record(silent, s1, bank, noise=kind, snr_db=0.0, interferers=2, seed=2)
    assert rec.speech_span == (0, 0)
    assert not np.any(rec.clean)
    bone = power_db(rec.audio.samples[BONE])
    for mic in range(4):
        assert bone <= power_db(rec.audio.samples[mic]) - 30.0


def test_interferers_reach_the_air_mics_only(command, s1, bank) -> None:
    alone = record(command, s1, bank, noise="white", snr_db=5.0, seed=6)
    crowded = record(command, s1, bank, noise="white", snr_db=5.0, interferers=1, seed=6)
    assert not np.any(alone.talkers)
    air = [power_db(crowded.talkers[mic]) for mic in range(4)]
    assert min(air) > power_db(crowded.noise[0]) - 3.0
    assert power_db(crowded.talkers[BONE]) < min(air) - 30.0
    np.testing.assert_allclose(crowded.clean, alone.clean, atol=1e-6)
    assert crowded.speech_span == alone.speech_span


def test_deterministic_for_a_seed_and_different_across_seeds(command, s1, bank) -> None:
    first = record(command, s1, bank, noise="babble", snr_db=0.0, interferers=1, seed=11)
    again = record(command, s1, bank, noise="babble", snr_db=0.0, interferers=1, seed=11)
    other = record(command, s1, bank, noise="babble", snr_db=0.0, interferers=1, seed=12)
    np.testing.assert_array_equal(first.audio.samples, again.audio.samples)
    assert not np.allclose(first.audio.samples, other.audio.samples)
    assert not np.allclose(first.noise, other.noise)


def test_a_shared_room_keeps_the_wearer_and_changes_the_noise(command, s1, bank) -> None:
    one = record(command, s1, bank, noise="dishes", snr_db=0.0, seed=1, room=3)
    two = record(command, s1, bank, noise="dishes", snr_db=0.0, seed=2, room=3)
    np.testing.assert_allclose(one.wearer[:4], two.wearer[:4], atol=1e-6)
    assert not np.allclose(one.noise, two.noise)


def test_tts_command_has_speech_between_silences(command) -> None:
    assert command.dtype == np.float32
    assert command.ndim == 1
    lead, tail = int(0.3 * SAMPLE_RATE), int(0.5 * SAMPLE_RATE)
    assert not np.any(command[:lead])
    assert not np.any(command[-tail:])
    assert np.sqrt(np.mean(command[lead:-tail] ** 2)) > 0.02
    assert 1.5 < command.size / SAMPLE_RATE < 6.0


def test_mix_at_snr_scales_the_noise_over_the_active_span() -> None:
    rng = np.random.default_rng(0)
    signal = np.zeros(16000)
    signal[4000:12000] = np.sin(np.arange(8000) * 0.1)
    noise = rng.standard_normal(16000)
    mixture, scaled = mix_at_snr(signal, noise, 3.0, (4000, 12000))
    assert measure_snr(signal, scaled, slice(4000, 12000)) == pytest.approx(3.0, abs=1e-9)
    np.testing.assert_allclose(mixture, signal + scaled)
    with pytest.raises(ValueError, match="silent"):
        mix_at_snr(np.zeros(100), noise[:100], 0.0)


def test_generated_noise_is_deterministic_and_sized() -> None:
    bank = NoiseBank(None)
    assert not bank.real
    for kind in NOISE_KINDS:
        one = bank.segment(kind, 20000, np.random.default_rng(5))
        two = bank.segment(kind, 20000, np.random.default_rng(5))
        assert one.shape == (20000,) and one.dtype == np.float32
        assert np.isfinite(one).all()
        np.testing.assert_array_equal(one, two)
        assert np.sqrt(np.mean(one**2)) == pytest.approx(0.05, rel=1e-3)
    with pytest.raises(ValueError, match="noise kind"):
        bank.segment("rain", 100, np.random.default_rng(0))


def test_real_noise_and_talkers_come_from_the_shared_data(shared_data: Path) -> None:
    assert shared_data == SHARED_DATA
    bank = NoiseBank()
    assert bank.real
    assert any(voice == "librivox" for voice, _, _ in bank.personas())
    generated = NoiseBank(None).segment("dishes", 16000, np.random.default_rng(0))
    real = bank.segment("dishes", 16000, np.random.default_rng(0))
    assert not np.allclose(real, generated)


def test_babble_and_talkers_never_say_the_wake_word(bank) -> None:
    quiet = bank.without(["oculi", "bottle"])
    for language in ("en", "fr", "de"):
        assert all("oculi" not in s.lower() for s in quiet.sentences(language))
    assert all("bottle" not in s.lower() for s in quiet.sentences("en"))


def test_non_wake_stream_is_lazy_five_channel_audio(s1, bank) -> None:
    chunks = list(non_wake_stream(0.5, bank, s1, seed=3))
    assert len(chunks) == 3
    for chunk in chunks:
        assert chunk.samples.shape == (5, 10 * SAMPLE_RATE)
        assert np.abs(chunk.samples).max() < 0.99
    again = next(iter(non_wake_stream(0.5, bank, s1, seed=3)))
    np.testing.assert_array_equal(again.samples, chunks[0].samples)


@pytest.mark.parametrize(
    "scene",
    [
        {"noise": "rain", "snr_db": 0.0},
        {"noise": "white", "snr_db": 0.0, "interferers": 4},
        {"noise": "white", "snr_db": 0.0, "rt60": 0.05},
        {"noise": "white", "snr_db": 0.0, "seed": -1},
    ],
)
def test_bad_scenes_are_refused(scene) -> None:
    with pytest.raises(ConfigError):
        Scene(**scene)


def test_too_short_speech_is_refused(s1, bank) -> None:
    with pytest.raises(ValueError, match="too short"):
        wearer_recording(np.ones(10, dtype=np.float32), s1, Scene("white", 0.0), bank)
