"""Live input for `oculi listen --mic`: a microphone read through `sounddevice` (PortAudio), or
any other source of audio blocks that behaves like one (a recording played back in real order,
for tests and for machines without a microphone).

`sounddevice` is optional and needs the PortAudio library at run time; without either, or
without an input device, the error says what to install or which devices there are.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np

from oculi.audio.signal import SAMPLE_RATE, Audio
from oculi.errors import AudioInputError

BLOCK_S = 0.02
"""20 ms blocks, as the glasses stream audio."""


class AudioSource(Protocol):
    """Blocks of channels × samples at `sample_rate`, in the order they were heard."""

    channels: int
    sample_rate: int
    description: str

    def blocks(self) -> Iterator[Audio]: ...

    def close(self) -> None: ...


class RecordingSource:
    """A recording handed out block by block, as a microphone would deliver it."""

    def __init__(self, audio: Audio, description: str = "recording") -> None:
        self.audio = audio
        self.channels = audio.channels
        self.sample_rate = audio.sample_rate
        self.description = description
        self.overflows = 0

    def blocks(self) -> Iterator[Audio]:
        hop = max(1, round(self.sample_rate * BLOCK_S))
        for start in range(0, self.audio.samples.shape[1], hop):
            yield Audio(self.audio.samples[:, start : start + hop], self.sample_rate)

    def close(self) -> None:
        pass


class Microphone:
    """An input device opened with `channels` channels at `sample_rate`."""

    def __init__(
        self, sounddevice: Any, device: int | str | None, name: str, channels: int, sample_rate: int
    ) -> None:
        self._sd = sounddevice
        self._device = device
        self.channels = channels
        self.sample_rate = sample_rate
        self.description = f"{name} ({channels} ch, {sample_rate} Hz)"
        self.overflows = 0
        """Blocks where the device had to drop audio because the reader fell behind."""
        self._stream: Any = None

    def blocks(self) -> Iterator[Audio]:
        hop = max(1, round(self.sample_rate * BLOCK_S))
        try:
            self._stream = self._sd.InputStream(
                device=self._device, channels=self.channels, samplerate=self.sample_rate,
                dtype="float32", blocksize=hop,
            )  # fmt: skip
            self._stream.start()
        except (self._sd.PortAudioError, ValueError) as err:
            raise AudioInputError(f"cannot open the microphone {self.description}: {err}") from err
        while True:
            try:
                data, overflowed = self._stream.read(hop)
            except self._sd.PortAudioError as err:
                raise AudioInputError(f"the microphone stopped: {err}") from err
            self.overflows += bool(overflowed)
            yield Audio(
                np.ascontiguousarray(np.asarray(data, dtype=np.float32).T), self.sample_rate
            )

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None


def load_sounddevice() -> Any:
    """The `sounddevice` module, or an AudioInputError that says what is missing."""
    try:
        sounddevice = importlib.import_module("sounddevice")
    except ImportError as err:
        raise AudioInputError(
            "live microphone input needs the sounddevice package: pip install sounddevice"
        ) from err
    except OSError as err:
        raise AudioInputError(
            f"live microphone input needs the PortAudio library ({err}); install it "
            "(Debian/Ubuntu: apt install libportaudio2, macOS: brew install portaudio)"
        ) from err
    return sounddevice


def device_id(text: str | None) -> int | str | None:
    """A device index when the text is a number, else a name (or part of one)."""
    if text is None or not text.strip():
        return None
    return int(text) if text.strip().isdigit() else text.strip()


def open_microphone(device: str | None, channels: int) -> Microphone:
    """The input device (default: the system's), with `channels` channels when it has that
    many and one otherwise; at 16 kHz when the device takes it, else at its own rate."""
    sd = load_sounddevice()
    wanted = device_id(device)
    try:
        info = sd.query_devices(wanted, "input")
    except (sd.PortAudioError, ValueError) as err:
        raise AudioInputError(_no_device(sd, device, err)) from err
    available = int(info.get("max_input_channels", 0))
    if available < 1:
        raise AudioInputError(_no_device(sd, device, "it has no input channels"))
    opened = channels if available >= channels else 1
    index = info.get("index", wanted)
    rate = int(info.get("default_samplerate") or SAMPLE_RATE)
    try:
        sd.check_input_settings(
            device=index, channels=opened, samplerate=SAMPLE_RATE, dtype="float32"
        )
        rate = SAMPLE_RATE
    except (sd.PortAudioError, ValueError):
        pass
    return Microphone(sd, index, str(info.get("name", device or "default input")), opened, rate)


def _no_device(sd: Any, device: str | None, why: object) -> str:
    which = f"audio input device {device!r}" if device else "default audio input device"
    try:
        inputs = [
            f"{d['index']}: {d['name']}" for d in sd.query_devices() if d["max_input_channels"] > 0
        ]
    except (sd.PortAudioError, ValueError, TypeError, KeyError):
        inputs = []
    known = f"; inputs: {', '.join(inputs)}" if inputs else "; no input devices found"
    return f"no {which} ({why}){known}"
