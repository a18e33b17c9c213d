"""Scenario files: every step kind loads; every mistake names the file, the step and the field."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from PIL import Image

from oculi.devices.scenario import Expect, load_scenario
from oculi.errors import ScenarioError


def _png(path: Path) -> Path:
    Image.new("RGB", (32, 24), (200, 30, 40)).save(path, format="PNG")
    return path


def _wav(path: Path, sample_width: int = 2, frames: int = 160) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(sample_width)
        wav.setframerate(16000)
        wav.writeframes(b"\x00" * (sample_width * frames))
    return path


def _scenario(tmp_path: Path, text: str, name: str = "scene.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _steps(tmp_path: Path, *steps: str) -> Path:
    """A scenario file whose `steps:` are the given YAML list items (one step each)."""
    body = "".join(f"  - {step}\n" for step in steps)
    return _scenario(tmp_path, f"name: test\nsteps:\n{body}")


def _refused(path: Path) -> str:
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    return str(err.value)


VALID = """\
name: every kind
description: one step of each kind
steps:
  - say: how much is this
    expect: {app: shop, action: price, card_contains: "€", speech_contains: euros}
  - type: 这个多少钱
    label: typed
  - gaze: [0.6, 0.4]
  - gps: [48.137, 11.575]
  - touch: double_tap
  - frame: pack.png
  - frame: {pack: "2042000000015", rotate: 3}
  - audio: speech.wav
    expect: {no_card: true, error_contains: nothing}
"""


def test_valid_scenario_with_every_step_kind_loads(tmp_path: Path) -> None:
    png = _png(tmp_path / "pack.png")
    wav = _wav(tmp_path / "speech.wav")
    path = _scenario(tmp_path, VALID)
    scenario = load_scenario(path)

    assert scenario.name == "every kind"
    assert scenario.description == "one step of each kind"
    assert scenario.path == path
    assert scenario.base_dir == tmp_path
    assert [s.number for s in scenario.steps] == list(range(1, 9))
    assert [s.kind for s in scenario.steps] == [
        "say", "type", "gaze", "gps", "touch", "frame", "frame", "audio",
    ]  # fmt: skip

    say, typed, gaze, gps, touch, frame_file, frame_pack, audio = scenario.steps
    assert say.value == "how much is this"
    assert say.expect == Expect(
        app="shop", action="price", card_contains="€", speech_contains="euros"
    )
    assert typed.value == "这个多少钱"
    assert typed.label == "typed"
    assert typed.expect is None
    assert gaze.value == (0.6, 0.4)
    assert gps.value == (48.137, 11.575)
    assert touch.value == "double_tap"
    assert frame_file.value == png.resolve()
    assert frame_pack.value == {"pack": "2042000000015", "rotate": 3}
    assert audio.value == wav.resolve()
    assert audio.expect == Expect(no_card=True, error_contains="nothing")


def test_scenario_without_a_name_is_named_after_its_file(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "steps:\n  - say: hello\n", name="shopping_trip.yaml")
    assert load_scenario(path).name == "shopping_trip"


def test_frame_mapping_with_centre_and_neighbour_loads(tmp_path: Path) -> None:
    path = _steps(
        tmp_path,
        '{frame: {pack: "2042000000015", neighbour: "2042000000022", centre: [0.6, 0.5], '
        "blur: 1.5, seed: 7}}",
    )
    (step,) = load_scenario(path).steps
    assert step.value["centre"] == (0.6, 0.5)
    assert step.value["neighbour"] == "2042000000022"
    assert step.value["seed"] == 7


# --- errors naming file, step and field -----------------------------------------------------------


def _assert_names(message: str, path: Path, step: int, *fields: str) -> None:
    assert path.name in message
    assert f"step {step}" in message
    for field in fields:
        assert field in message


def test_unknown_step_kind_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "say: hello", "jump: 3")
    message = _refused(path)
    _assert_names(message, path, 2, "'jump'")
    assert "say" in message  # the allowed kinds are listed


def test_two_kinds_in_one_step_are_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "{say: hello, type: hello}")
    _assert_names(_refused(path), path, 1, "exactly one")


def test_step_with_only_an_expect_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "{expect: {app: shop}}")
    _assert_names(_refused(path), path, 1, "exactly one")


def test_step_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "say: hello", "just words")
    _assert_names(_refused(path), path, 2)


def test_empty_say_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, 'say: "  "')
    _assert_names(_refused(path), path, 1, "say")


def test_missing_frame_file_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "frame: nowhere.jpg")
    _assert_names(_refused(path), path, 1, "'frame'", "nowhere.jpg", "does not exist")


def test_missing_audio_file_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "say: hi", "audio: nowhere.wav")
    _assert_names(_refused(path), path, 2, "'audio'", "nowhere.wav", "does not exist")


def test_audio_file_that_is_not_wav_is_refused(tmp_path: Path) -> None:
    (tmp_path / "fake.wav").write_text("this is not audio", encoding="utf-8")
    path = _steps(tmp_path, "audio: fake.wav")
    _assert_names(_refused(path), path, 1, "'audio'", "fake.wav", "not a WAV")


def test_empty_audio_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    path = _steps(tmp_path, "audio: empty.wav")
    _assert_names(_refused(path), path, 1, "'audio'", "empty.wav")


def test_audio_file_that_is_not_16_bit_is_refused(tmp_path: Path) -> None:
    _wav(tmp_path / "eight.wav", sample_width=1)
    path = _steps(tmp_path, "audio: eight.wav")
    _assert_names(_refused(path), path, 1, "'audio'", "16-bit")


def test_gaze_out_of_range_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "gaze: [1.5, 0.2]")
    _assert_names(_refused(path), path, 1, "'gaze'", "out of range")


@pytest.mark.parametrize("value", ["0.5", "[0.5]", "[0.5, 0.5, 0.5]", "[a, b]", "[true, 0.5]"])
def test_gaze_that_is_not_a_pair_of_numbers_is_refused(tmp_path: Path, value: str) -> None:
    path = _steps(tmp_path, f"gaze: {value}")
    _assert_names(_refused(path), path, 1, "'gaze'", "two numbers")


@pytest.mark.parametrize("value", ["[91, 0]", "[-90.5, 0]", "[0, 180.5]", "[0, -181]"])
def test_gps_out_of_range_is_refused(tmp_path: Path, value: str) -> None:
    path = _steps(tmp_path, f"gps: {value}")
    _assert_names(_refused(path), path, 1, "'gps'", "out of range")


def test_unknown_touch_gesture_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "touch: pinch")
    message = _refused(path)
    _assert_names(message, path, 1, "'touch'", "'pinch'")
    assert "double_tap" in message


def test_frame_mapping_with_wrong_check_digit_is_refused(tmp_path: Path) -> None:
    # 2042000000015 is valid; the last digit changed makes the check fail
    path = _steps(tmp_path, '{frame: {pack: "2042000000016"}}')
    _assert_names(_refused(path), path, 1, "frame.pack", "2042000000016", "GTIN")


def test_frame_mapping_with_unquoted_number_for_pack_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "{frame: {pack: 2042000000015}}")
    _assert_names(_refused(path), path, 1, "frame.pack")


def test_frame_mapping_with_invalid_neighbour_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, '{frame: {pack: "2042000000015", neighbour: "12345"}}')
    _assert_names(_refused(path), path, 1, "frame.neighbour")


def test_frame_mapping_with_unknown_key_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, '{frame: {pack: "2042000000015", zoom: 2}}')
    message = _refused(path)
    _assert_names(message, path, 1, "frame.zoom", "unknown")
    assert "rotate" in message  # the allowed keys are listed


def test_frame_mapping_without_pack_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "{frame: {rotate: 3}}")
    _assert_names(_refused(path), path, 1, "'frame'", "pack")


@pytest.mark.parametrize(
    ("extra", "field"),
    [("rotate: left", "frame.rotate"), ("blur: -1", "frame.blur"), ("seed: 1.5", "frame.seed")],
)
def test_frame_mapping_with_bad_number_is_refused(tmp_path: Path, extra: str, field: str) -> None:
    path = _steps(tmp_path, f'{{frame: {{pack: "2042000000015", {extra}}}}}')
    _assert_names(_refused(path), path, 1, field)


def test_unknown_expect_key_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "{say: hello, expect: {card_says: hi}}")
    message = _refused(path)
    _assert_names(message, path, 1, "expect.card_says", "unknown")
    assert "card_contains" in message


def test_expect_no_card_as_text_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "say: hello", '{say: again, expect: {no_card: "yes"}}')
    _assert_names(_refused(path), path, 2, "expect.no_card", "bool")


def test_expect_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = _steps(tmp_path, "{say: hello, expect: shop}")
    _assert_names(_refused(path), path, 1, "'expect'")


# --- errors about the whole file ------------------------------------------------------------------


@pytest.mark.parametrize("steps", ["steps: []", "steps:", "steps: say hello", "name: nothing"])
def test_empty_or_missing_steps_are_refused(tmp_path: Path, steps: str) -> None:
    path = _scenario(tmp_path, f"{steps}\n")
    message = _refused(path)
    assert path.name in message
    assert "steps" in message


def test_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "steps: [say: {unclosed\n  - : :\n")
    message = _refused(path)
    assert path.name in message
    assert "YAML" in message


def test_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00\x81 not utf-8")
    assert path.name in _refused(path)


@pytest.mark.parametrize("text", ["just a sentence, not a scenario\n", "- say: hello\n", ""])
def test_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    path = _scenario(tmp_path, text)
    message = _refused(path)
    assert path.name in message
    assert "steps" in message


def test_unknown_top_level_field_is_refused(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "name: x\nauthor: me\nsteps:\n  - say: hello\n")
    message = _refused(path)
    assert path.name in message
    assert "author" in message


def test_missing_scenario_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    message = _refused(path)
    assert path.name in message
    assert "does not exist" in message
