"""Spoken commands through the whole runtime: five-channel audio in, the price card out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import soundfile

from oculi.audio.simulate import NoiseBank, Scene, tts_command, wearer_recording
from oculi.devices.replay import replay
from oculi.devices.scenario import load_scenario
from oculi.events import Answer, Utterance
from oculi.runtime.config import Config
from oculi.runtime.profile import load_profile
from oculi.runtime.session import Session

PROFILE = load_profile("s1")


@pytest.fixture(scope="module")
def bank() -> NoiseBank:
    return NoiseBank()


def _wav(path: Path, text: str, bank: NoiseBank, *, wearer: bool = True, seed: int = 3) -> Path:
    speech = tts_command(text)
    pad = np.zeros(8000, dtype=np.float32)
    speech = np.concatenate([pad, speech, pad])
    scene = Scene(noise="dishes", snr_db=15, interferers=0 if wearer else 1, seed=seed)
    recording = wearer_recording(speech if wearer else np.zeros_like(speech), PROFILE, scene, bank)
    if not wearer:
        talker = wearer_recording(speech, PROFILE, Scene(noise="white", snr_db=40, seed=seed), bank)
        samples = recording.audio.samples.copy()
        samples[: PROFILE.microphones.air] += talker.audio.samples[: PROFILE.microphones.air]
    else:
        samples = recording.audio.samples
    soundfile.write(path, samples.T, 16000, subtype="PCM_16")
    return path


def _run(config: Config, tmp_path: Path, steps: str) -> list[object]:
    scenario_file = tmp_path / "voice.yaml"
    scenario_file.write_text(steps, encoding="utf-8")
    session = Session(config.with_overrides(profile="s1"))
    try:
        result = asyncio.run(replay(load_scenario(scenario_file), session, tmp_path / "out"))
    finally:
        session.close()
    return [e for s in result.steps for e in s.events]


def _ask_about_a_product(config: Config, tmp_path: Path, wav: str, expect: str) -> list[object]:
    """The wearer looks at a packaged product and says what `wav` holds."""
    steps = f"""
steps:
  - gaze: [0.55, 0.5]
  - frame: {{pack: "2042000000015", seed: 2}}
  - audio: {wav}
    expect: {expect}
"""
    return _run(config, tmp_path, steps)


def test_spoken_price_question_shows_the_price_card(
    config: Config, tmp_path: Path, bank: NoiseBank
) -> None:
    _wav(tmp_path / "ask.wav", "hey oculi, how much is this", bank)
    events = _ask_about_a_product(
        config, tmp_path, "ask.wav", "{app: shop, card_contains: Online Depot}"
    )
    utterances = [e for e in events if isinstance(e, Utterance)]
    assert len(utterances) == 1 and utterances[0].wake
    assert utterances[0].own_voice_score is not None and utterances[0].own_voice_score > 0.5
    answers = [e for e in events if isinstance(e, Answer)]
    assert [a.app for a in answers] == ["shop"]
    assert "Online Depot" in answers[0].speech


def test_without_the_wake_phrase_nothing_happens_unless_the_wearer_touched(
    config: Config, tmp_path: Path, bank: NoiseBank
) -> None:
    _wav(tmp_path / "plain.wav", "how much is this", bank, seed=4)
    quiet = _run(config, tmp_path, "steps:\n  - audio: plain.wav\n")
    assert not [e for e in quiet if isinstance(e, Utterance)]
    touched = _run(config, tmp_path, "steps:\n  - touch: tap\n  - audio: plain.wav\n")
    assert [e.text for e in touched if isinstance(e, Utterance)] == ["how much is this"]


def test_a_talker_nearby_cannot_give_commands(
    config: Config, tmp_path: Path, bank: NoiseBank
) -> None:
    _wav(tmp_path / "other.wav", "hey oculi, how much is this", bank, wearer=False, seed=5)
    events = _run(config, tmp_path, "steps:\n  - audio: other.wav\n")
    assert not [e for e in events if isinstance(e, Utterance | Answer)]


def test_audio_with_the_wrong_channel_count_is_an_error_event(
    config: Config, tmp_path: Path
) -> None:
    soundfile.write(tmp_path / "three.wav", np.zeros((16000, 3)), 16000, subtype="PCM_16")
    events = _run(
        config, tmp_path, "steps:\n  - audio: three.wav\n    expect: {error_contains: channels}\n"
    )
    assert any("3 channels" in getattr(e, "message", "") for e in events)


def test_the_wake_phrase_alone_then_the_command(
    config: Config, tmp_path: Path, bank: NoiseBank
) -> None:
    """ "Hey Oculi." … "how much is this": an empty woken utterance (the device's cue), then
    the command, woken by the phrase before it."""
    pad = np.zeros(8000, dtype=np.float32)
    pause = np.zeros(24000, dtype=np.float32)
    speech = np.concatenate(
        [pad, tts_command("hey oculi", voice="en+m3"), pause,
         tts_command("how much is this", voice="en+m3"), pad]
    )  # fmt: skip
    recording = wearer_recording(speech, PROFILE, Scene(noise="dishes", snr_db=20, seed=2), bank)
    soundfile.write(tmp_path / "two.wav", recording.audio.samples.T, 16000, subtype="PCM_16")
    events = _ask_about_a_product(config, tmp_path, "two.wav", "{app: shop}")
    utterances = [(e.text, e.wake) for e in events if isinstance(e, Utterance)]
    assert utterances == [("", True), ("how much is this", True)]
