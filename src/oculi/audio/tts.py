"""Offline text-to-speech: turn an answer into PCM audio for the wearer's ear.

eSpeak NG is the default because it is small, needs no model download and speaks 100+
languages; Piper is an optional neural engine for a more natural voice.
"""

from __future__ import annotations

import ctypes
import importlib
import io
import os
import sys
import threading
import wave
from array import array
from dataclasses import dataclass
from typing import Any, Protocol

from oculi.errors import ConfigError, SpeechError

SPEECH_ENGINES: tuple[str, ...] = ("espeak", "piper")
DEFAULT_VOICE = "en-us"
DEFAULT_RATE_WPM = 165
MIN_RATE_WPM = 80
MAX_RATE_WPM = 450
"""eSpeak NG's own limits (espeakRATE_MINIMUM/MAXIMUM); outside them it clamps silently."""

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_EE_OK = 0
_ESPEAK_RATE = 1
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


@dataclass(frozen=True)
class SpeechAudio:
    """Mono signed 16-bit little-endian PCM: what earpieces, WAV files and resamplers all take."""

    pcm: bytes
    sample_rate: int

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {self.sample_rate}")
        if len(self.pcm) % 2:
            raise ValueError("pcm must hold whole 16-bit samples (an even number of bytes)")

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate

    def to_wav(self) -> bytes:
        """The audio as a WAV file, for players and tests that expect a container."""
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(self.sample_rate)
            wav.writeframes(self.pcm)
        return buffer.getvalue()


class SpeechEngine(Protocol):
    """What the runtime needs from a TTS backend, so the engine is a configuration choice."""

    name: str

    def synthesize(self, text: str) -> SpeechAudio: ...


class _Espeak:
    """The process's one eSpeak NG instance: the C library keeps all its state in globals."""

    def __init__(self) -> None:
        try:
            import espeakng_loader

            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = os.fsencode(espeakng_loader.get_data_path())
        except (ImportError, OSError, RuntimeError) as err:
            raise SpeechError(f"cannot load eSpeak NG from espeakng-loader: {err}") from err
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        uint, vp = ctypes.c_uint, ctypes.c_void_p
        lib.espeak_Synth.argtypes = [vp, ctypes.c_size_t, uint, ctypes.c_int, uint, uint, vp, vp]
        self.sample_rate: int = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, _INITIALIZE_DONT_EXIT
        )
        if self.sample_rate <= 0:
            raise SpeechError(
                f"eSpeak NG failed to initialise with data at {os.fsdecode(data_path)}"
            )
        self._lib = lib
        self._chunks: list[bytes] = []
        self._callback = _SYNTH_CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None

    def _collect(
        self, wav: ctypes._Pointer[ctypes.c_short], count: int, _events: int | None
    ) -> int:
        if wav and count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    def select_voice(self, voice: str) -> None:
        if voice == self._voice:
            return
        if not voice or "\0" in voice or self._lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            raise SpeechError(
                f"unknown eSpeak NG voice {voice!r}; use a language code such as "
                "'en-us', 'fr' or 'cmn'"
            )
        self._voice = voice

    def synthesize(self, text: str, voice: str, rate_wpm: int) -> SpeechAudio:
        self.select_voice(voice)
        if self._lib.espeak_SetParameter(_ESPEAK_RATE, rate_wpm, 0) != _EE_OK:
            raise SpeechError(f"eSpeak NG refused the speaking rate {rate_wpm} wpm")
        data = text.replace("\0", " ").encode("utf-8")
        self._chunks = []
        try:
            status = self._lib.espeak_Synth(
                data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            if status == _EE_OK:
                status = self._lib.espeak_Synchronize()
            pcm = b"".join(self._chunks)
        finally:
            self._chunks = []
        if status != _EE_OK:
            raise SpeechError(f"eSpeak NG failed to synthesise the text (error {status})")
        if not pcm:
            raise SpeechError("eSpeak NG produced no audio for the text")
        if sys.byteorder == "big":
            samples = array("h", pcm)
            samples.byteswap()
            pcm = samples.tobytes()
        return SpeechAudio(pcm=pcm, sample_rate=self.sample_rate)


_ESPEAK_LOCK = threading.Lock()
_espeak: _Espeak | None = None


def _espeak_runtime() -> _Espeak:
    """The shared instance, created on first use; call with _ESPEAK_LOCK held."""
    global _espeak
    if _espeak is None:
        _espeak = _Espeak()
    return _espeak


class EspeakEngine:
    """Default engine: eSpeak NG through ctypes, offline, robotic but clear and fast.

    Engines with different voices share the one library instance, so every call is serialised
    and re-selects its voice when another engine used a different one.
    """

    name = "espeak"

    def __init__(self, voice: str = DEFAULT_VOICE, rate_wpm: int = DEFAULT_RATE_WPM) -> None:
        if not MIN_RATE_WPM <= rate_wpm <= MAX_RATE_WPM:
            raise ConfigError(
                f"speaking rate {rate_wpm} wpm is outside {MIN_RATE_WPM}..{MAX_RATE_WPM}"
            )
        self.voice = voice
        self.rate_wpm = rate_wpm
        with _ESPEAK_LOCK:
            runtime = _espeak_runtime()
            runtime.select_voice(voice)
            self.sample_rate = runtime.sample_rate

    def synthesize(self, text: str) -> SpeechAudio:
        if not text.strip():
            raise SpeechError("nothing to say: the text is empty")
        with _ESPEAK_LOCK:
            return _espeak_runtime().synthesize(text, self.voice, self.rate_wpm)


class PiperEngine:
    """Optional neural engine (piper-tts): more natural speech, but needs a voice model file."""

    name = "piper"

    def __init__(self, model_path: str | os.PathLike[str]) -> None:
        try:
            piper = importlib.import_module("piper")
        except ImportError as err:
            raise SpeechError(
                "piper engine needs `pip install piper-tts` and a voice model; download one "
                "with `python -m piper.download_voices en_US-lessac-medium` and pass the .onnx "
                "path as model_path, or use the espeak engine"
            ) from err
        if not os.path.isfile(model_path):
            raise SpeechError(f"piper voice model not found: {os.fspath(model_path)}")
        try:
            self._voice: Any = piper.PiperVoice.load(model_path)
        except Exception as err:
            raise SpeechError(
                f"cannot load piper voice model {os.fspath(model_path)}: {err}"
            ) from err
        self._lock = threading.Lock()

    def synthesize(self, text: str) -> SpeechAudio:
        if not text.strip():
            raise SpeechError("nothing to say: the text is empty")
        try:
            with self._lock:
                chunks = list(self._voice.synthesize(text))
            pcm = b"".join(chunk.audio_int16_bytes for chunk in chunks)
        except Exception as err:
            raise SpeechError(f"piper failed to synthesise the text: {err}") from err
        if not pcm:
            raise SpeechError("piper produced no audio for the text")
        return SpeechAudio(pcm=pcm, sample_rate=int(chunks[0].sample_rate))


def make_speech_engine(
    name: str = "espeak",
    *,
    voice: str | None = None,
    rate_wpm: int | None = None,
    model_path: str | None = None,
) -> SpeechEngine:
    """The engine a configuration names; options that the engine cannot use are refused."""
    if name == "espeak":
        if model_path is not None:
            raise ConfigError("model_path applies to the piper engine only, not espeak")
        return EspeakEngine(
            voice=DEFAULT_VOICE if voice is None else voice,
            rate_wpm=DEFAULT_RATE_WPM if rate_wpm is None else rate_wpm,
        )
    if name == "piper":
        if voice is not None or rate_wpm is not None:
            raise ConfigError(
                "piper takes its voice from model_path; voice and rate_wpm are espeak's"
            )
        if model_path is None:
            raise ConfigError("the piper engine needs model_path, the .onnx voice model file")
        return PiperEngine(model_path)
    raise ConfigError(f"unknown speech engine {name!r}; choose one of: {', '.join(SPEECH_ENGINES)}")
