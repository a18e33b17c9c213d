"""The array front end on simulated wearer recordings: beamforming, endpointing, own voice."""

from __future__ import annotations

import numpy as np
import pytest

from oculi.audio.beamform import HOP, Beamformer
from oculi.audio.endpoint import Endpointer, EndpointSettings
from oculi.audio.own_voice import own_voice
from oculi.audio.simulate import NoiseBank, Recording, Scene, tts_command, wearer_recording
from oculi.audio.vad import CHUNK
from oculi.runtime.profile import load_profile

PROFILE = load_profile("s1")
MICS = PROFILE.microphones


@pytest.fixture(scope="module")
def bank() -> NoiseBank:
    return NoiseBank()


@pytest.fixture(scope="module")
def command() -> np.ndarray:
    return tts_command("how much is this")


def _beam(recording: Recording, method: str, fusion: bool = False) -> np.ndarray:
    bf = Beamformer(MICS.air_positions, MICS.mouth or (0, 0, 0), 16000, method=method,
                    bone_channel=MICS.bone_channel, bone_fusion=fusion)  # fmt: skip
    samples = recording.audio.samples
    parts = [bf.process(samples[:, i : i + 320]) for i in range(0, samples.shape[1], 320)]
    return np.concatenate([*parts, bf.flush()])


def _snr_to_clean(out: np.ndarray, clean: np.ndarray) -> float:
    n = min(out.size, clean.size)
    o, c = out[:n], clean[:n]
    scale = float(np.dot(o, c) / np.dot(c, c))
    residual = o - scale * c
    return float(10 * np.log10(np.sum((scale * c) ** 2) / np.sum(residual**2)))


@pytest.mark.parametrize("noise", ["babble", "dishes", "white"])
def test_mvdr_beats_one_microphone_and_bone_fusion_beats_mvdr(
    bank: NoiseBank, command: np.ndarray, noise: str
) -> None:
    recording = wearer_recording(command, PROFILE, Scene(noise=noise, snr_db=0, seed=2), bank)
    single = _snr_to_clean(_beam(recording, "single"), recording.clean)
    mvdr = _snr_to_clean(_beam(recording, "mvdr"), recording.clean)
    fused = _snr_to_clean(_beam(recording, "mvdr", fusion=True), recording.clean)
    assert mvdr > single + 1.5, (single, mvdr)
    assert fused > mvdr, (mvdr, fused)


def test_beamformer_output_is_the_same_in_chunks_or_whole(
    bank: NoiseBank, command: np.ndarray
) -> None:
    recording = wearer_recording(command, PROFILE, Scene(noise="white", snr_db=10, seed=1), bank)
    chunked = _beam(recording, "delay_and_sum")
    bf = Beamformer(MICS.air_positions, MICS.mouth or (0, 0, 0), 16000, method="delay_and_sum")
    whole = np.concatenate([bf.process(recording.audio.samples[:4]), bf.flush()])
    n = min(chunked.size, whole.size)
    assert np.allclose(chunked[:n], whole[:n], atol=1e-5)


def test_single_mic_passes_mic_zero_through_aligned(bank: NoiseBank, command: np.ndarray) -> None:
    recording = wearer_recording(command, PROFILE, Scene(noise="white", snr_db=20, seed=1), bank)
    out = _beam(recording, "single")
    mic0 = recording.audio.samples[0]
    body = slice(HOP * 2, mic0.size - HOP * 4)
    assert np.allclose(out[body], mic0[body], atol=1e-4)


def _span_of(probabilities: list[float]) -> list[tuple[int, int]]:
    endpointer = Endpointer(EndpointSettings(end_silence_ms=320, pre_roll_ms=0))
    spans = [s for p in probabilities if (s := endpointer.push(p)) is not None]
    if (last := endpointer.finish()) is not None:
        spans.append(last)
    return [(s.start // CHUNK, s.speech_end // CHUNK) for s in spans]


def test_endpointer_finds_two_utterances_and_ignores_a_click() -> None:
    speech, silence = [0.9] * 20, [0.05] * 15
    probs = silence + [0.9, 0.9] + silence + speech + silence + speech + [0.05] * 3
    assert _span_of(probs) == [(32, 52), (67, 87)]


def test_endpointer_keeps_a_short_pause_inside_one_utterance() -> None:
    probs = [0.05] * 5 + [0.9] * 10 + [0.1] * 6 + [0.9] * 10 + [0.05] * 12
    assert _span_of(probs) == [(5, 31)]


def test_own_voice_tells_the_wearer_from_a_talker_nearby(
    bank: NoiseBank, command: np.ndarray
) -> None:
    wearer = wearer_recording(command, PROFILE, Scene(noise="babble", snr_db=5, seed=4), bank)
    silent = np.zeros_like(command)
    other = wearer_recording(silent + 0, PROFILE, Scene(noise="babble", snr_db=5, interferers=1,
                                                        seed=4), bank)  # fmt: skip
    bone = MICS.bone_channel
    assert bone is not None
    mine = own_voice(wearer.audio.samples[0], wearer.audio.samples[bone])
    theirs = own_voice(other.audio.samples[0], other.audio.samples[bone])
    assert mine.score > 0.7 > 0.3 > theirs.score, (mine, theirs)
