"""Configuration and device profiles: defaults, TOML, environment overrides, and named errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from oculi.errors import ConfigError
from oculi.runtime.config import load_config
from oculi.runtime.profile import load_profile, load_profile_file, parse_profile


def _toml(tmp_path: Path, text: str, name: str = "oculi.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- config: defaults, file, environment --------------------------------------------------------


def test_defaults_load_with_an_empty_environment() -> None:
    config = load_config(env={})
    assert config.profile == "s1"
    assert config.get("speech.engine") == "espeak"
    assert config.get("speech.voice") == "en-us"
    assert config.get("speech.rate_wpm") == 165
    assert config.get("vision.gaze_window") == 0.5
    assert config.get("hud.card_seconds") == 8.0


def test_empty_data_dir_falls_back_and_catalog_lives_in_it() -> None:
    config = load_config(env={})
    assert config.catalog_path == config.data_dir / "catalog.sqlite3"


def test_data_dir_from_environment_sets_the_catalog_path(tmp_path: Path) -> None:
    config = load_config(env={"OCULI_DATA_DIR": str(tmp_path / "d")})
    assert config.data_dir == tmp_path / "d"
    assert config.catalog_path == tmp_path / "d" / "catalog.sqlite3"


def test_unknown_key_lookup_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown config key 'speech\.pitch'"):
        load_config(env={}).get("speech.pitch")


def test_toml_file_sets_values_including_nested_tables(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        'profile = "g1"\n'
        "[speech]\n"
        'engine = "piper"\n'
        "rate_wpm = 200\n"
        'voice = "zh"\n'
        "[vision]\n"
        "gaze_window = 0.25\n"
        "[hud]\n"
        "card_seconds = 3\n",
    )
    config = load_config(path, env={})
    assert config.profile == "g1"
    assert config.get("speech.engine") == "piper"
    assert config.get("speech.rate_wpm") == 200
    assert config.get("speech.voice") == "zh"
    assert config.get("vision.gaze_window") == 0.25
    # an integer in TOML is accepted for a float key, and becomes a float
    assert config.get("hud.card_seconds") == 3.0
    assert isinstance(config.get("hud.card_seconds"), float)


def test_dotted_keys_in_toml_work_like_tables(tmp_path: Path) -> None:
    path = _toml(tmp_path, 'speech.engine = "piper"\n')
    assert load_config(path, env={}).get("speech.engine") == "piper"


def test_keys_the_file_does_not_set_keep_their_defaults(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[speech]\nrate_wpm = 120\n")
    config = load_config(path, env={})
    assert config.get("speech.rate_wpm") == 120
    assert config.get("speech.engine") == "espeak"
    assert config.profile == "s1"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[speech]\nengine = "espeak"\nrate_wpm = 200\n')
    config = load_config(path, env={"OCULI_SPEECH__ENGINE": "piper"})
    assert config.get("speech.engine") == "piper"
    assert config.get("speech.rate_wpm") == 200


def test_environment_int_and_float_values_are_parsed() -> None:
    config = load_config(env={"OCULI_SPEECH__RATE_WPM": "300", "OCULI_VISION__GAZE_WINDOW": "0.75"})
    assert config.get("speech.rate_wpm") == 300
    assert config.get("vision.gaze_window") == 0.75


def test_environment_names_the_config_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, 'profile = "g1"\n')
    config = load_config(env={"OCULI_CONFIG": str(path)})
    assert config.profile == "g1"


def test_environment_without_the_prefix_is_ignored() -> None:
    config = load_config(env={"SPEECH__ENGINE": "foo", "PROFILE": "x1"})
    assert config.get("speech.engine") == "espeak"
    assert config.profile == "s1"


# --- config: errors -----------------------------------------------------------------------------


def test_unknown_profile_names_the_key_and_allowed_values(tmp_path: Path) -> None:
    path = _toml(tmp_path, 'profile = "x1"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    message = str(err.value)
    assert "profile" in message
    assert "'x1'" in message
    assert "s1" in message
    assert "g1" in message
    assert str(path) in message


def test_unknown_speech_engine_lists_the_engines(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[speech]\nengine = "foo"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    message = str(err.value)
    assert "speech.engine" in message
    assert "'foo'" in message
    assert "espeak" in message
    assert "piper" in message


def test_unknown_engine_from_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="OCULI_SPEECH__ENGINE") as err:
        load_config(env={"OCULI_SPEECH__ENGINE": "foo"})
    assert "espeak" in str(err.value)


def test_wrong_type_in_toml_names_key_and_expected_type(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[speech]\nrate_wpm = "fast"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    message = str(err.value)
    assert "speech.rate_wpm" in message
    assert "'fast'" in message
    assert "expected int" in message


def test_boolean_is_not_accepted_for_an_int_key(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[speech]\nrate_wpm = true\n")
    with pytest.raises(ConfigError, match=r"speech\.rate_wpm"):
        load_config(path, env={})


def test_float_is_not_accepted_for_an_int_key(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[speech]\nrate_wpm = 165.5\n")
    with pytest.raises(ConfigError, match="expected int"):
        load_config(path, env={})


@pytest.mark.parametrize("rate", [79, 451, 0, -165])
def test_rate_out_of_range_names_the_range(tmp_path: Path, rate: int) -> None:
    path = _toml(tmp_path, f"[speech]\nrate_wpm = {rate}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert "speech.rate_wpm" in str(err.value)
    assert "80..450" in str(err.value)


@pytest.mark.parametrize("rate", [80, 450])
def test_rate_at_the_limits_is_accepted(tmp_path: Path, rate: int) -> None:
    path = _toml(tmp_path, f"[speech]\nrate_wpm = {rate}\n")
    assert load_config(path, env={}).get("speech.rate_wpm") == rate


@pytest.mark.parametrize("window", [0.0, 0.04, 1.5])
def test_gaze_window_out_of_range_is_refused(window: float) -> None:
    with pytest.raises(ConfigError, match=r"vision\.gaze_window"):
        load_config(env={"OCULI_VISION__GAZE_WINDOW": str(window)})


@pytest.mark.parametrize("text", ["fast", "1.5", "", "1e3"])
def test_non_integer_env_value_names_the_variable(text: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(env={"OCULI_SPEECH__RATE_WPM": text})
    assert "OCULI_SPEECH__RATE_WPM" in str(err.value)
    assert "expected int" in str(err.value)


def test_non_number_env_value_for_a_float_key_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="OCULI_HUD__CARD_SECONDS"):
        load_config(env={"OCULI_HUD__CARD_SECONDS": "soon"})


def test_unknown_key_in_toml_is_named(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[speech]\npitch = "high"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert "'speech.pitch'" in str(err.value)
    assert str(path) in str(err.value)


def test_unknown_top_level_table_in_toml_is_named(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[display]\nbrightness = 3\n")
    with pytest.raises(ConfigError, match=r"display\.brightness"):
        load_config(path, env={})


def test_invalid_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, "profile = \n[speech\n")
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_config(path, env={})
    assert str(path) in str(err.value)


def test_missing_config_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError, match="does not exist") as err:
        load_config(path, env={})
    assert str(path) in str(err.value)


def test_with_overrides_replaces_and_keeps_the_rest() -> None:
    base = load_config(env={"OCULI_SPEECH__RATE_WPM": "200"})
    changed = base.with_overrides(profile="g1", speech__engine="piper")
    assert changed.profile == "g1"
    assert changed.get("speech.engine") == "piper"
    assert changed.get("speech.rate_wpm") == 200
    # the original is untouched
    assert base.profile == "s1"
    assert base.get("speech.engine") == "espeak"


def test_with_overrides_validates_values() -> None:
    base = load_config(env={})
    with pytest.raises(ConfigError, match="profile") as err:
        base.with_overrides(profile="x1")
    assert "s1" in str(err.value)
    assert "g1" in str(err.value)
    with pytest.raises(ConfigError, match=r"speech\.rate_wpm"):
        base.with_overrides(speech__rate_wpm=10)
    with pytest.raises(ConfigError, match="expected int"):
        base.with_overrides(speech__rate_wpm="200")


def test_with_overrides_refuses_an_unknown_key() -> None:
    with pytest.raises(ConfigError, match=r"unknown config key 'speech\.pitch'"):
        load_config(env={}).with_overrides(speech__pitch="high")


# --- profiles -----------------------------------------------------------------------------------


def test_s1_profile_has_a_640x480_display_and_five_mic_channels() -> None:
    profile = load_profile("s1")
    assert profile.name == "s1"
    assert profile.has_display
    assert profile.display is not None
    assert (profile.display.width, profile.display.height) == (640, 480)
    assert profile.microphones.air == 4
    assert profile.microphones.bone_conduction == 1
    assert profile.microphones.channels == 5
    assert profile.microphones.sample_rate == 16000


def test_g1_profile_has_no_display_but_the_same_microphones() -> None:
    profile = load_profile("g1")
    assert profile.name == "g1"
    assert profile.display is None
    assert not profile.has_display
    assert profile.microphones.channels == 5
    assert profile.camera is not None


def test_unknown_profile_name_lists_the_allowed() -> None:
    with pytest.raises(ConfigError) as err:
        load_profile("x1")
    message = str(err.value)
    assert "'x1'" in message
    assert "s1" in message
    assert "g1" in message


def _profile_data() -> dict[str, object]:
    return {
        "name": "mine",
        "display": {"width": 320, "height": 240},
        "microphones": {"air": 2, "bone_conduction": 0, "sample_rate": 48000},
    }


def test_parse_profile_reads_a_valid_profile() -> None:
    profile = parse_profile(_profile_data(), "mine.toml")
    assert profile.name == "mine"
    assert profile.display is not None
    assert (profile.display.width, profile.display.height) == (320, 240)
    assert profile.microphones.channels == 2
    assert profile.camera is None


def test_parse_profile_refuses_negative_sample_rate_naming_field_and_file() -> None:
    data = _profile_data()
    data["microphones"] = {"air": 2, "bone_conduction": 0, "sample_rate": -16000}
    with pytest.raises(ConfigError) as err:
        parse_profile(data, "mine.toml")
    assert "mine.toml" in str(err.value)
    assert "microphones.sample_rate" in str(err.value)


def test_parse_profile_refuses_zero_sample_rate() -> None:
    data = _profile_data()
    data["microphones"] = {"air": 2, "bone_conduction": 0, "sample_rate": 0}
    with pytest.raises(ConfigError, match=r"microphones\.sample_rate"):
        parse_profile(data, "mine.toml")


def test_parse_profile_refuses_missing_name_naming_field_and_file() -> None:
    data = _profile_data()
    del data["name"]
    with pytest.raises(ConfigError) as err:
        parse_profile(data, "mine.toml")
    assert "mine.toml" in str(err.value)
    assert "'name'" in str(err.value)


def test_parse_profile_refuses_wrong_type_for_display_width() -> None:
    data = _profile_data()
    data["display"] = {"width": "wide", "height": 240}
    with pytest.raises(ConfigError, match=r"mine\.toml: field 'display\.width' must be int"):
        parse_profile(data, "mine.toml")


def test_profile_file_with_negative_sample_rate_names_the_file(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        'name = "mine"\n[microphones]\nair = 2\nbone_conduction = 0\nsample_rate = -1\n',
        name="mine.toml",
    )
    with pytest.raises(ConfigError) as err:
        load_profile_file(path)
    assert str(path) in str(err.value)
    assert "microphones.sample_rate" in str(err.value)


def test_profile_file_that_is_not_toml_names_the_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, "name = = =\n", name="broken.toml")
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        load_profile_file(path)
