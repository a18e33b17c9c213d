"""`oculi listen`: a recording, or a live microphone, through the voice path as the glasses
would stream it; and the recognizer and voice settings a configuration asks for."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from oculi.audio.asr import SpeechRecognizer, make_recognizer
from oculi.audio.microphone import AudioSource
from oculi.audio.remote_asr import RemoteAsrSettings
from oculi.audio.signal import SAMPLE_RATE, Audio, StreamResampler, read_audio
from oculi.audio.voice import Heard, VoicePipeline, VoiceSettings, make_wake
from oculi.errors import AudioInputError, ConfigError
from oculi.runtime.config import Config
from oculi.runtime.profile import Profile

CHUNK_S = 0.02
"""Fed in 20 ms hops, as the glasses stream audio."""
CLIPPED_FRACTION = 0.001
DEFAULT_HINT = "Hey Oculi. How much is this? What does it cost? What's the price of this?"
"""The ASR's prompt when no session supplies the installed apps' vocabulary."""
_RECOGNIZER_LOCK = threading.Lock()


@lru_cache(maxsize=8)
def shared_recognizer(
    name: str = "whisper", remote: RemoteAsrSettings | None = None, fallback: bool = True
) -> SpeechRecognizer:
    """One ASR model per process: loading Whisper costs far more than running it. "remote"
    needs `remote`; with `fallback`, the shared local Whisper answers when it cannot."""
    if name == "remote":
        if remote is None:
            raise ConfigError("voice.asr_engine = 'remote' needs voice.asr_url")
        local = shared_recognizer("whisper") if fallback else None
        with _RECOGNIZER_LOCK:
            return make_recognizer("remote", settings=remote, fallback=local)
    with _RECOGNIZER_LOCK:
        return make_recognizer(name)


def recognizer_from(config: Config) -> SpeechRecognizer:
    """The shared recognizer the `voice.asr_*` keys describe."""
    engine = config.get("voice.asr_engine")
    if engine != "remote":
        return shared_recognizer(engine)
    if not config.get("voice.asr_url"):
        raise ConfigError("voice.asr_engine = 'remote' needs voice.asr_url (http://host:port)")
    remote = RemoteAsrSettings(
        url=config.get("voice.asr_url"),
        model=config.get("voice.asr_model"),
        api_key=os.environ.get(config.get("voice.asr_api_key_env"), ""),
        timeout_s=config.get("voice.asr_timeout_s"),
        language=config.get("voice.asr_language"),
    )
    return shared_recognizer("remote", remote, config.get("voice.asr_fallback"))


def voice_settings_from(config: Config, hint: str | None = None) -> VoiceSettings:
    """The front end's settings from the `voice.*` keys, with `hint` as the ASR's prompt
    (default: DEFAULT_HINT, opening with the configured wake phrase)."""
    phrase = config.get("voice.wake_phrase")
    return VoiceSettings(
        beamformer=config.get("voice.beamformer"),
        bone_fusion=config.get("voice.bone_fusion"),
        own_voice_threshold=config.get("voice.own_voice_threshold"),
        wake_phrase=phrase,
        suppression=config.get("voice.suppression"),
        wake_prefix_score=config.get("voice.wake_second_look") or None,
        rescore_margin=config.get("voice.rescore_margin") or None,
        hint=DEFAULT_HINT.replace("Hey Oculi", phrase.title(), 1) if hint is None else hint,
    )


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
    path: Path,
    profile: Profile,
    settings: VoiceSettings | None = None,
    recognizer: SpeechRecognizer | None = None,
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
        profile.microphones, recognizer or shared_recognizer(), make_wake(settings), settings,
        channels=audio.channels,
    )  # fmt: skip
    started = time.perf_counter()
    heard = stream(pipeline, audio)
    wall = time.perf_counter() - started
    return summarise(heard, pipeline, audio.duration_s, wall, notes)


def listen_live(
    source: AudioSource,
    profile: Profile,
    report: Callable[[dict[str, Any]], None],
    *,
    settings: VoiceSettings | None = None,
    recognizer: SpeechRecognizer | None = None,
    seconds: float | None = None,
) -> int:
    """Stream `source` through the voice path for `seconds` (None: until it ends or Ctrl-C),
    calling `report` with each utterance as soon as it is heard, in `listen_file`'s fields.
    Returns the number of utterances."""
    expected = profile.microphones.channels
    channels = source.channels if source.channels in (1, expected) else 1
    notes = live_notes(source, profile, channels)
    settings = settings or VoiceSettings(hint=DEFAULT_HINT)
    pipeline = VoicePipeline(
        profile.microphones, recognizer or shared_recognizer(), make_wake(settings), settings,
        channels=channels,
    )  # fmt: skip
    resampler = StreamResampler(source.sample_rate, SAMPLE_RATE, channels)
    limit = None if seconds is None else round(seconds * SAMPLE_RATE)
    fed = count = 0

    def feed(samples: NDArray[np.float32]) -> None:
        nonlocal fed, count
        if limit is not None:
            samples = samples[:, : max(0, limit - fed)]
        if samples.shape[1] == 0:
            return
        fed += samples.shape[1]
        for heard in pipeline.feed(Audio(samples, SAMPLE_RATE)):
            count += 1
            report(_utterance(heard, pipeline, fed, notes))

    try:
        for block in source.blocks():
            feed(resampler.process(block.samples[:channels]))
            if limit is not None and fed >= limit:
                break
    except KeyboardInterrupt:
        pass
    finally:
        source.close()
    feed(resampler.flush())
    for heard in pipeline.finish():
        count += 1
        report(_utterance(heard, pipeline, fed, notes))
    return count


def live_notes(source: AudioSource, profile: Profile, channels: int) -> list[str]:
    """What the output should say about a live input that is not the glasses' array."""
    expected = profile.microphones.channels
    if channels == expected:
        return []
    used = "mono" if source.channels == 1 else f"{source.channels} channels, first one used"
    return [
        f"{used} input ({source.description}; profile {profile.name} records {expected}): "
        "no beamforming and no own-voice check"
    ]


def _utterance(heard: Heard, pipeline: VoicePipeline, fed: int, notes: list[str]) -> dict[str, Any]:
    """One live utterance in `listen_file`'s fields; the timings' totals and the real-time
    factor cover the stream so far."""
    busy = sum(pipeline.busy_s.values())
    return summarise([heard], pipeline, fed / SAMPLE_RATE, busy, list(notes))


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
