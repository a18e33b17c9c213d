"""`oculi listen --mic`: the live loop driven by a recording played back block by block (there
is no microphone here), device and rate selection against a stand-in `sounddevice`, and clean
errors when PortAudio, the package or an input device is missing."""

from __future__ import annotations

import importlib.abc
import json
import sys
import types
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from oculi.audio import microphone
from oculi.audio.listen import listen_live
from oculi.audio.microphone import Microphone, RecordingSource, open_microphone
from oculi.audio.signal import SAMPLE_RATE, Audio, resample
from oculi.audio.simulate import NoiseBank, Scene, tts_command, wearer_recording
from oculi.cli import main
from oculi.errors import AudioInputError
from oculi.runtime.profile import load_profile

FIELDS = ("text", "wake", "own_voice", "own_voice_score", "snr_db", "segments", "timings_ms")
PROFILE = load_profile("s1")


@pytest.fixture(scope="module")
def recording() -> Audio:
    """The wearer says a wake command after 0.5 s, then 1.5 s of street before the end."""
    speech = tts_command("hey oculi, how much is this")
    lead, tail = np.zeros(8000, dtype=np.float32), np.zeros(24000, dtype=np.float32)
    scene = Scene(noise="dishes", snr_db=15, seed=6)
    rec = wearer_recording(np.concatenate([lead, speech, tail]), PROFILE, scene, NoiseBank())
    return rec.audio


class CountingSource(RecordingSource):
    """Notes how many blocks it had handed out when each utterance was reported."""

    def __init__(self, audio: Audio) -> None:
        super().__init__(audio, "test recording")
        self.handed = 0
        self.closed = False

    def blocks(self) -> Iterator[Audio]:
        for block in super().blocks():
            self.handed += 1
            yield block

    def close(self) -> None:
        self.closed = True


def test_the_live_loop_reports_the_command_before_the_stream_ends(recording: Audio) -> None:
    source = CountingSource(resample(recording, 48000))
    total = len(list(RecordingSource(source.audio).blocks()))
    reports: list[tuple[int, dict[str, Any]]] = []
    count = listen_live(source, PROFILE, lambda r: reports.append((source.handed, r)))
    assert count == len(reports) == 1
    handed, result = reports[0]
    assert handed < total
    assert all(field in result for field in FIELDS)
    assert result["text"] == "how much is this"
    assert result["wake"] is True and result["own_voice"] is True
    assert result["notes"] == []
    assert source.closed


def test_seconds_stops_the_stream_early(recording: Audio) -> None:
    source = CountingSource(recording)
    reports: list[dict[str, Any]] = []
    assert listen_live(source, PROFILE, reports.append, seconds=0.4) == 0
    assert reports == [] and source.handed == 20


def test_a_stereo_laptop_microphone_is_heard_as_mono_through_the_cli(
    recording: Audio, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stereo = resample(Audio(recording.samples[:2], SAMPLE_RATE), 44100)
    monkeypatch.setattr(
        microphone, "open_microphone", lambda device, channels: RecordingSource(stereo, "laptop")
    )
    assert main(["listen", "--mic", "--json", "--profile", "s1"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) >= 1
    heard = [line for line in lines if "how much is this" in line["text"]]
    assert heard and all(field in heard[0] for field in FIELDS)
    assert heard[0]["own_voice"] is None
    assert any("no beamforming and no own-voice check" in n for n in heard[0]["notes"])
    assert any("2 channels" in n for n in heard[0]["notes"])


def test_a_file_and_the_microphone_together_are_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["listen", "x.wav", "--mic"]) == 2
    assert main(["listen"]) == 2
    assert main(["listen", "x.wav", "--seconds", "3"]) == 2
    assert "--mic" in capsys.readouterr().err


class _NoPortAudio(importlib.abc.MetaPathFinder):
    """Importing sounddevice fails as it does where the PortAudio library is absent."""

    def find_spec(self, name: str, *args: Any) -> None:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")


def test_missing_portaudio_is_a_clean_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoPortAudio(), *sys.meta_path])
    assert main(["listen", "--mic"]) == 2
    err = capsys.readouterr().err
    assert "PortAudio" in err and "libportaudio2" in err and "Traceback" not in err


def test_missing_sounddevice_is_a_clean_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    assert main(["listen", "--mic", "--json"]) == 2
    assert "pip install sounddevice" in capsys.readouterr().err


class FakeSoundDevice(types.ModuleType):
    """What the loop uses of sounddevice, with one device described by `devices`."""

    class PortAudioError(Exception):
        pass

    def __init__(self, devices: list[dict[str, Any]], rates: tuple[int, ...] = ()) -> None:
        super().__init__("sounddevice")
        self.devices = devices
        self.rates = rates
        self.opened: dict[str, Any] = {}

    def query_devices(self, device: Any = None, kind: str | None = None) -> Any:
        if kind is None:
            return self.devices
        inputs = [d for d in self.devices if d["max_input_channels"] > 0]
        if device is None:
            if not inputs:
                raise self.PortAudioError("Error querying device -1")
            return inputs[0]
        found = [d for d in inputs if device in (d["index"], d["name"])]
        if not found:
            raise ValueError(f"No input device matching {device!r}")
        return found[0]

    def check_input_settings(self, **settings: Any) -> None:
        if settings["samplerate"] not in self.rates:
            raise self.PortAudioError("Invalid sample rate")

    def InputStream(self, **settings: Any) -> Any:
        self.opened = settings
        block = np.full((settings["blocksize"], settings["channels"]), 0.25, dtype=np.float32)
        stream = types.SimpleNamespace(start=lambda: None, close=lambda: None)
        stream.read = lambda frames: (block[:frames], False)
        return stream


def _device(index: int, name: str, inputs: int, rate: float) -> dict[str, Any]:
    return {"index": index, "name": name, "max_input_channels": inputs,
            "default_samplerate": rate}  # fmt: skip


def test_no_input_device_is_a_clean_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    speakers = FakeSoundDevice([_device(0, "HDMI out", 0, 48000.0)])
    monkeypatch.setitem(sys.modules, "sounddevice", speakers)
    assert main(["listen", "--mic"]) == 2
    err = capsys.readouterr().err
    assert "no default audio input device" in err and "no input devices found" in err
    with pytest.raises(AudioInputError, match=r"'USB'.*inputs: 1: Built-in"):
        monkeypatch.setitem(
            sys.modules, "sounddevice", FakeSoundDevice([_device(1, "Built-in", 2, 48000.0)])
        )
        open_microphone("USB", 5)


def test_a_stereo_device_opens_one_channel_at_its_own_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sd = FakeSoundDevice([_device(0, "HDMI out", 0, 48000), _device(3, "Built-in", 2, 44100)])
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    mic = open_microphone(None, 5)
    assert (mic.channels, mic.sample_rate) == (1, 44100)
    block = next(mic.blocks())
    assert block.samples.shape == (1, 882) and block.sample_rate == 44100
    assert sd.opened["device"] == 3 and sd.opened["dtype"] == "float32"


def test_an_array_device_opens_the_profile_channels_at_16k(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sd = FakeSoundDevice([_device(2, "glasses array", 8, 48000)], rates=(16000, 48000))
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    mic = open_microphone("2", 5)
    assert isinstance(mic, Microphone)
    assert (mic.channels, mic.sample_rate) == (5, 16000)
    assert next(mic.blocks()).samples.shape == (5, 320)
