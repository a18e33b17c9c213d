"""Scenario files: a timeline of what the glasses sense, and what should come of it.

The format is documented in docs/scenarios.md. Loading checks every step up front, so a typo
stops the run before anything is replayed, with a message naming the file, the step and the field.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from oculi.errors import ScenarioError
from oculi.events import TOUCH_GESTURES
from oculi.vision.gtin import is_valid_gtin

STEP_KINDS = ("say", "type", "audio", "frame", "gaze", "gps", "touch")
EXPECT_KEYS = ("app", "action", "card_contains", "speech_contains", "no_card", "error_contains")
FRAME_KEYS = ("pack", "neighbour", "qr", "merchant", "rotate", "blur", "seed", "centre")


@dataclass(frozen=True)
class Expect:
    """What a step must lead to; unset fields are not checked."""

    app: str | None = None
    action: str | None = None
    card_contains: str | None = None
    speech_contains: str | None = None
    no_card: bool = False
    error_contains: str | None = None


@dataclass(frozen=True)
class Step:
    number: int
    """1-based, as people count steps in a file."""
    kind: str
    value: Any
    expect: Expect | None = None
    label: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    path: Path
    steps: tuple[Step, ...]

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file; every problem raises ScenarioError naming where it is."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ScenarioError(f"{path}: scenario file does not exist") from err
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ScenarioError(f"{path}: not a readable YAML file: {err}") from err
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{path}: a scenario is a mapping with `name` and `steps`")
    unknown = set(data) - {"name", "description", "steps"}
    if unknown:
        raise ScenarioError(f"{path}: unknown top-level field(s) {', '.join(sorted(unknown))}")
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ScenarioError(f"{path}: field `steps` must be a non-empty list")
    return Scenario(
        name=str(data.get("name") or path.stem),
        description=str(data.get("description", "")),
        path=path,
        steps=tuple(_step(path, i, raw) for i, raw in enumerate(steps, start=1)),
    )


def _step(path: Path, number: int, raw: Any) -> Step:
    where = f"{path}: step {number}"
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where}: a step is a mapping like `say: how much is this`")
    kinds = [k for k in raw if k in STEP_KINDS]
    extra = [k for k in raw if k not in STEP_KINDS and k not in ("expect", "label")]
    if extra:
        raise ScenarioError(
            f"{where}: unknown step kind {extra[0]!r}; allowed: {', '.join(STEP_KINDS)}"
        )
    if len(kinds) != 1:
        raise ScenarioError(f"{where}: needs exactly one of {', '.join(STEP_KINDS)}")
    kind = kinds[0]
    where = f"{where} ({kind})"
    value = _CHECKS[kind](path.parent, raw[kind], where)
    expect = _expect(raw["expect"], where) if "expect" in raw else None
    return Step(number, kind, value, expect, str(raw.get("label", "")))


def _text(_: Path, value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{where}: the value must be non-empty text, got {value!r}")
    return value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _pair(
    value: Any, where: str, field: str, low: tuple[float, float], high: tuple[float, float]
) -> tuple[float, float]:
    if not (isinstance(value, list | tuple) and len(value) == 2 and all(map(_number, value))):
        raise ScenarioError(
            f"{where}: field {field!r} must be a list of two numbers, got {value!r}"
        )
    a, b = float(value[0]), float(value[1])
    if not (low[0] <= a <= high[0] and low[1] <= b <= high[1]):
        raise ScenarioError(
            f"{where}: field {field!r} = {value!r} is out of range "
            f"({low[0]}..{high[0]}, {low[1]}..{high[1]})"
        )
    return a, b


def _gaze(_: Path, value: Any, where: str) -> tuple[float, float]:
    return _pair(value, where, "gaze", (0.0, 0.0), (1.0, 1.0))


def _gps(_: Path, value: Any, where: str) -> tuple[float, ...]:
    """`[lat, lon]`, or `[lat, lon, seconds]`: when the fix was taken, from the scenario's start
    (walks need time: rerouting waits a few seconds off the route)."""
    if isinstance(value, list | tuple) and len(value) == 3:
        seconds = value[2]
        if not _number(seconds) or seconds < 0:
            raise ScenarioError(f"{where}: field 'gps' time {seconds!r} must be seconds ≥ 0")
        return (*_pair(value[:2], where, "gps", (-90.0, -180.0), (90.0, 180.0)), float(seconds))
    return _pair(value, where, "gps", (-90.0, -180.0), (90.0, 180.0))


def _touch(_: Path, value: Any, where: str) -> str:
    if value not in TOUCH_GESTURES:
        raise ScenarioError(
            f"{where}: field 'touch' = {value!r}; allowed: {', '.join(TOUCH_GESTURES)}"
        )
    return str(value)


def _file(base: Path, value: Any, where: str, field: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}: field {field!r} must be a file name")
    file = (base / value).resolve()
    if not file.is_file():
        raise ScenarioError(f"{where}: field {field!r}: file {value!r} does not exist")
    return file


def _audio(base: Path, value: Any, where: str) -> Path:
    file = _file(base, value, where, "audio")
    try:
        with wave.open(str(file), "rb") as wav:
            if wav.getsampwidth() != 2:
                raise ScenarioError(f"{where}: field 'audio': {value!r} must be 16-bit PCM WAV")
    except (wave.Error, EOFError) as err:
        raise ScenarioError(f"{where}: field 'audio': {value!r} is not a WAV file: {err}") from err
    return file


def _frame(base: Path, value: Any, where: str) -> Path | dict[str, Any]:
    """A frame is an image file, or a photo the project draws: a pack (`pack: GTIN`) or a
    merchant's QR code stand (`qr: PAYLOAD`)."""
    if isinstance(value, str):
        return _file(base, value, where, "frame")
    if not isinstance(value, Mapping) or ("pack" in value) == ("qr" in value):
        raise ScenarioError(
            f"{where}: field 'frame' must be an image file or a mapping with `pack` or `qr`"
        )
    if "qr" in value and not (isinstance(value["qr"], str) and 0 < len(value["qr"]) <= 1000):
        raise ScenarioError(f"{where}: field 'frame.qr' must be text of 1..1000 characters")
    unknown = set(value) - set(FRAME_KEYS)
    if unknown:
        raise ScenarioError(
            f"{where}: field 'frame.{sorted(unknown)[0]}' is unknown; "
            f"allowed: {', '.join(FRAME_KEYS)}"
        )
    for key in ("pack", "neighbour"):
        if key in value and not (isinstance(value[key], str) and is_valid_gtin(value[key])):
            raise ScenarioError(
                f"{where}: field 'frame.{key}' = {value[key]!r} is not a valid GTIN-13"
            )
    for key in ("rotate", "blur"):
        if key in value and not _number(value[key]):
            raise ScenarioError(f"{where}: field 'frame.{key}' must be a number")
    if value.get("blur", 0) < 0:
        raise ScenarioError(f"{where}: field 'frame.blur' must not be negative")
    if "seed" in value and type(value["seed"]) is not int:
        raise ScenarioError(f"{where}: field 'frame.seed' must be a whole number")
    spec = dict(value)
    if "centre" in spec:
        spec["centre"] = _pair(spec["centre"], where, "frame.centre", (0.0, 0.0), (1.0, 1.0))
    return spec


def _expect(raw: Any, where: str) -> Expect:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{where}: field 'expect' must be a mapping")
    for key, value in raw.items():
        if key not in EXPECT_KEYS:
            raise ScenarioError(
                f"{where}: field 'expect.{key}' is unknown; allowed: {', '.join(EXPECT_KEYS)}"
            )
        want = bool if key == "no_card" else str
        if type(value) is not want:
            raise ScenarioError(
                f"{where}: field 'expect.{key}' must be {want.__name__}, got {value!r}"
            )
    return Expect(**raw)


_CHECKS = {
    "say": _text,
    "type": _text,
    "audio": _audio,
    "frame": _frame,
    "gaze": _gaze,
    "gps": _gps,
    "touch": _touch,
}
