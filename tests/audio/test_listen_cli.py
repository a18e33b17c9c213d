"""`oculi listen`: the JSON contract, mono files, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from oculi.audio.simulate import NoiseBank, Scene, tts_command, wearer_recording
from oculi.cli import main
from oculi.runtime.profile import load_profile

FIELDS = ("text", "wake", "own_voice", "own_voice_score", "snr_db", "segments", "timings_ms")


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    speech = tts_command("hey oculi, how much is this")
    pad = np.zeros(8000, dtype=np.float32)
    scene = Scene(noise="dishes", snr_db=15, seed=6)
    rec = wearer_recording(
        np.concatenate([pad, speech, pad]), load_profile("s1"), scene, NoiseBank()
    )
    path = tmp_path_factory.mktemp("listen") / "five.wav"
    soundfile.write(path, rec.audio.samples.T, 16000, subtype="PCM_16")
    return path


def _listen(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["listen", *args, "--json"]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_five_channel_command_is_heard_with_wake_and_own_voice(
    recording: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _listen([str(recording), "--profile", "s1"], capsys)
    assert all(field in result for field in FIELDS)
    assert result["text"] == "how much is this"
    assert result["wake"] is True
    assert result["own_voice"] is True
    assert isinstance(result["own_voice_score"], float) and result["own_voice_score"] > 0.5
    assert isinstance(result["snr_db"], float) and 5 < result["snr_db"] < 30


def test_mono_file_is_accepted_without_own_voice_check(
    recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, rate = soundfile.read(recording)
    mono = tmp_path / "mono.wav"
    soundfile.write(mono, data[:, 0], rate, subtype="PCM_16")
    result = _listen([str(mono)], capsys)
    assert result["own_voice"] is None
    assert any("mono" in note for note in result["notes"])  # type: ignore[union-attr]
    assert "how much is this" in str(result["text"])


def test_silence_gives_no_utterance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros((32000, 5)), 16000, subtype="PCM_16")
    result = _listen([str(silent)], capsys)
    assert result["text"] == "" and result["segments"] == [] and result["wake"] is False


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"RIFF\x00\x00\x00\x00WAVEjunk", "not a readable audio file"), (b"", "not a readable")],
)
def test_corrupt_file_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    assert main(["listen", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_wrong_channel_count_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "three.wav"
    soundfile.write(path, np.zeros((16000, 3)), 16000, subtype="PCM_16")
    assert main(["listen", str(path), "--profile", "g1"]) == 2
    assert "3 channels" in capsys.readouterr().err


def test_missing_file_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["listen", str(tmp_path / "absent.wav")]) == 2
    assert "absent.wav" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "expected"), [(None, -1.5), ("-1.2", -1.2), ("0", None)])
def test_the_wake_second_look_is_set_by_config(
    tmp_path: Path, value: str | None, expected: float | None
) -> None:
    from oculi.audio.listen import voice_settings_from
    from oculi.runtime.config import load_config

    env = {"OCULI_DATA_DIR": str(tmp_path)}
    if value is not None:
        env["OCULI_VOICE__WAKE_SECOND_LOOK"] = value
    assert voice_settings_from(load_config(env=env)).wake_prefix_score == expected


def test_a_wake_second_look_above_zero_is_refused(tmp_path: Path) -> None:
    from oculi.errors import ConfigError
    from oculi.runtime.config import load_config

    env = {"OCULI_DATA_DIR": str(tmp_path), "OCULI_VOICE__WAKE_SECOND_LOOK": "1"}
    with pytest.raises(ConfigError, match="wake_second_look"):
        load_config(env=env)
