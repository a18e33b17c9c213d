"""`oculi listen`: one recording through the voice path, as the glasses would stream it."""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from oculi.audio.asr import SpeechRecognizer, make_recognizer
from oculi.audio.signal import SAMPLE_RATE, Audio, read_audio
from oculi.audio.voice import Heard, VoicePipeline, VoiceSettings, make_wake
from oculi.errors import AudioInputError
from oculi.runtime.profile import Profile

CHUNK_S = 0.02
"""Fed in 20 ms hops, as the glasses stream audio."""
CLIPPED_FRACTION = 0.001
DEFAULT_HINT = "Hey Oculi. How much is this? What does it cost? What's the price of this?"
"""The ASR's prompt when no session supplies the installed apps' vocabulary."""
_RECOGNIZER_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def shared_recognizer(name: str = "whisper") -> SpeechRecognizer:
    """One ASR model per process: loading Whisper costs far more than running it."""
    with _RECOGNIZER_LOCK:
        return make_recognizer(name)


def check_channels(audio: Audio, profile: Profile, source: str) -> None:
    expected = profile.microphones.channels
    if audio.channels not in (1, expected):
        raise AudioInputError(
            f"{source}: {audio.channels} channels, but profile {profile.name} records "
            f"{expected} ({profile.microphones.air} air + {profile.microphones.bone_conduction} "
            "bone conduction); mono files are accepted too"
        )


def stream(pipeline: VoicePipeline, audio: Audio) -> list[Heard]:
    """Feed the recording in 20 ms hops and close the stream."""
    hop = int(SAMPLE_RATE * CHUNK_S)
    heard: list[Heard] = []
    for start in range(0, audio.samples.shape[1], hop):
        heard.extend(pipeline.feed(Audio(audio.samples[:, start : start + hop], SAMPLE_RATE)))
    heard.extend(pipeline.finish())
    return heard


def listen_file(
    path: Path, profile: Profile, settings: VoiceSettings | None = None
) -> dict[str, Any]:
    """The JSON result of `oculi listen` for one file."""
    audio = read_audio(path)
    check_channels(audio, profile, str(path))
    notes: list[str] = []
    if audio.channels == 1:
        notes.append("mono input: no beamforming and no own-voice check")
    peak_share = float(np.mean(np.abs(audio.samples) >= 0.999))
    if peak_share > CLIPPED_FRACTION:
        notes.append(f"clipped input: {peak_share:.1%} of samples at full scale")
    settings = settings or VoiceSettings(hint=DEFAULT_HINT)
    pipeline = VoicePipeline(
        profile.microphones, shared_recognizer(), make_wake(settings), settings,
        channels=audio.channels,
    )  # fmt: skip
    started = time.perf_counter()
    heard = stream(pipeline, audio)
    wall = time.perf_counter() - started
    return summarise(heard, pipeline, audio.duration_s, wall, notes)


def summarise(
    heard: list[Heard], pipeline: VoicePipeline, duration_s: float, wall_s: float, notes: list[str]
) -> dict[str, Any]:
    """The wearer's command (own voice, or any voice when there is no bone channel), with the
    other utterances listed as segments."""
    own = [h for h in heard if h.own_voice is not False and h.text]
    main = next((h for h in own if h.wake), own[0] if own else None)
    timings = {f"{stage}_total": round(s * 1000, 1) for stage, s in pipeline.busy_s.items()}
    if main is not None:
        timings.update({k: round(v, 1) for k, v in main.timings_ms.items()})
    timings["wall_total"] = round(wall_s * 1000, 1)
    if not heard:
        notes.append("no speech found")
    scores = [h.own_voice_score for h in heard if h.own_voice_score is not None]
    others = None if not scores else False
    return {
        "text": main.text if main else "",
        "wake": bool(main and main.wake),
        "own_voice": others if main is None else main.own_voice,
        "own_voice_score": (round(max(scores), 3) if scores else None)
        if main is None
        else main.to_json()["own_voice_score"],
        "snr_db": None if main is None else round(main.snr_db, 1),
        "segments": [h.to_json() for h in heard],
        "timings_ms": timings,
        "rtf": round(wall_s / duration_s, 4) if duration_s else None,
        "duration_s": round(duration_s, 3),
        "notes": notes,
    }
