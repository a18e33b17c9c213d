"""Optional single-channel noise suppression after the beamformer (`voice.suppression`).

RNNoise (through `pyrnnoise`'s bundled library) works on 10 ms frames at 48 kHz: the beam is
resampled 16 → 48 kHz, denoised frame by frame with the model's state kept across calls, and
resampled back. Its output is shifted back by the model's fixed 20 ms delay, so that sample k
out is still sample k of the microphones (the own-voice check and the SNR compare the two).
Measured before use: on Whisper, suppression can hurt as much as it helps (see MODELS.md).
"""

from __future__ import annotations

import ctypes
import importlib.util
import platform
import weakref
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from oculi.audio.signal import SAMPLE_RATE, Samples, StreamResampler
from oculi.errors import ConfigError

SUPPRESSORS: tuple[str, ...] = ("off", "rnnoise")
RNNOISE_RATE = 48000
RNNOISE_FRAME = 480
RNNOISE_DELAY = 2 * RNNOISE_FRAME
"""RNNoise's output lags its input by two frames (20 ms), measured on speech."""
_PCM_SCALE = 32768.0
"""RNNoise takes floats on the 16-bit scale."""
_LIBRARIES = {"Linux": "librnnoise.so", "Darwin": "librnnoise.dylib", "Windows": "rnnoise.dll"}


class Suppressor(Protocol):
    """Mono 16 kHz in, the same length out over the stream, aligned sample for sample."""

    name: str

    def process(self, samples: Samples) -> Samples:
        """The denoised samples that are ready (fewer than given while the model lags)."""
        ...

    def flush(self) -> Samples:
        """The rest, once the stream ends."""
        ...


@lru_cache(maxsize=1)
def _rnnoise_library() -> ctypes.CDLL:
    """The C library that `pyrnnoise` bundles, loaded directly: importing the package itself
    pulls in matplotlib and PyAV for its file helpers, a second of start-up for nothing."""
    spec = importlib.util.find_spec("pyrnnoise")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("voice.suppression = 'rnnoise' needs pyrnnoise: pip install pyrnnoise")
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / _LIBRARIES.get(platform.system(), "librnnoise.so")
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as err:
        raise ConfigError(f"cannot load the RNNoise library from pyrnnoise: {err}") from err
    lib.rnnoise_create.argtypes = [ctypes.c_void_p]
    lib.rnnoise_create.restype = ctypes.c_void_p
    lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
    lib.rnnoise_destroy.restype = None
    lib.rnnoise_process_frame.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float),
    ]  # fmt: skip
    lib.rnnoise_process_frame.restype = ctypes.c_float
    return lib


class RnnoiseSuppressor:
    """RNNoise on one stream; adds ~22 ms of latency (the model's 20 ms and the resamplers')."""

    name = "rnnoise"

    def __init__(self) -> None:
        self._lib = _rnnoise_library()
        state = self._lib.rnnoise_create(None)
        if not state:
            raise ConfigError("RNNoise could not create its state")
        self._state = ctypes.c_void_p(state)
        weakref.finalize(self, self._lib.rnnoise_destroy, self._state)
        self._up = StreamResampler(SAMPLE_RATE, RNNOISE_RATE)
        self._down = StreamResampler(RNNOISE_RATE, SAMPLE_RATE)
        self._pending = np.zeros(0, dtype=np.float32)
        self._frame_in = np.zeros(RNNOISE_FRAME, dtype=np.float32)
        self._skip = RNNOISE_DELAY * SAMPLE_RATE // RNNOISE_RATE
        self._received = self._emitted = 0

    def process(self, samples: Samples) -> Samples:
        self._received += samples.size
        out = self._aligned(self._denoise(self._up.process(samples[np.newaxis, :])[0]))
        self._emitted += out.size
        return out

    def flush(self) -> Samples:
        tail = np.zeros(RNNOISE_DELAY + 2 * RNNOISE_FRAME, dtype=np.float32)
        last = self._denoise(np.concatenate([self._up.flush()[0], tail]))
        rest = self._aligned(np.concatenate([last, self._down.flush()[0]]))
        wanted = self._received - self._emitted
        self._emitted = self._received
        return np.pad(rest[:wanted], (0, max(0, wanted - rest.size)))

    def _denoise(self, upsampled: Samples) -> Samples:
        """Whole 10 ms frames through the model, back at 16 kHz (not yet realigned)."""
        pending = np.concatenate([self._pending, upsampled])
        count = pending.size // RNNOISE_FRAME
        out = np.empty(count * RNNOISE_FRAME, dtype=np.float32)
        pointer = ctypes.POINTER(ctypes.c_float)
        frame_in = self._frame_in.ctypes.data_as(pointer)
        for i in range(count):
            self._frame_in[:] = pending[i * RNNOISE_FRAME : (i + 1) * RNNOISE_FRAME] * _PCM_SCALE
            frame_out = out[i * RNNOISE_FRAME :].ctypes.data_as(pointer)
            self._lib.rnnoise_process_frame(self._state, frame_out, frame_in)
        self._pending = pending[count * RNNOISE_FRAME :]
        down: Samples = self._down.process(out[np.newaxis, :] / _PCM_SCALE)[0]
        return down

    def _aligned(self, samples: Samples) -> Samples:
        """Drop the model's delay from the start of the stream."""
        skipped = min(self._skip, samples.size)
        self._skip -= skipped
        return samples[skipped:]


def make_suppressor(name: str) -> Suppressor | None:
    """The suppressor a configuration names; None for "off"."""
    if name == "off":
        return None
    if name == "rnnoise":
        return RnnoiseSuppressor()
    raise ConfigError(f"unknown noise suppression {name!r}; choose from: {', '.join(SUPPRESSORS)}")
