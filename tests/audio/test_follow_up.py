"""The wake phrase said on its own, then the command after a pause, as people talk to an
assistant that they expect to chime."""

from __future__ import annotations

import numpy as np

from oculi.audio.listen import DEFAULT_HINT, shared_recognizer, stream
from oculi.audio.signal import SAMPLE_RATE, Audio
from oculi.audio.simulate import NoiseBank, Scene, tts_command, wearer_recording
from oculi.audio.voice import FOLLOW_UP_S, VoicePipeline, VoiceSettings, make_wake
from oculi.runtime.profile import load_profile

PROFILE = load_profile("s1")
BANK = NoiseBank()


def _heard(pause_s: float) -> list[tuple[str, bool]]:
    """What the pipeline makes of "hey oculi" … pause … "how much is this". Each part is its
    own recording of one scene, so the pause changes nothing but the pause. (eSpeak's en-us
    voice saying the phrase alone comes out of Whisper tiny as "Hey, are you right?".)"""
    pad = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    scene = Scene(noise="dishes", snr_db=20, seed=2)
    parts = [
        wearer_recording(
            np.concatenate([pad, tts_command(text, voice="en+m3"), pad]), PROFILE, scene, BANK
        )
        for text in ("hey oculi", "how much is this")
    ]
    quiet = (
        np.random.default_rng(0)
        .standard_normal((PROFILE.microphones.channels, round(pause_s * SAMPLE_RATE)))
        .astype(np.float32)
    )
    samples = np.concatenate([parts[0].audio.samples, quiet * 1e-4, parts[1].audio.samples], 1)
    settings = VoiceSettings(hint=DEFAULT_HINT)
    pipeline = VoicePipeline(
        PROFILE.microphones, shared_recognizer(), make_wake(settings), settings
    )
    return [(h.text, h.wake) for h in stream(pipeline, Audio(samples, SAMPLE_RATE)) if h.own_voice]


def test_a_command_after_the_wake_phrase_alone_is_woken() -> None:
    heard = _heard(pause_s=1.5)
    assert heard[0] == ("", True)
    assert heard[1] == ("how much is this", True)


def test_a_command_long_after_the_wake_phrase_is_not() -> None:
    heard = _heard(pause_s=FOLLOW_UP_S + 1.5)
    assert heard[0] == ("", True)
    assert heard[1] == ("how much is this", False)
