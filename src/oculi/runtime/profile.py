"""Device profiles: what a pair of glasses has (display, microphones, camera), read from TOML.

Profiles differ in data, not in code paths: a stage asks the profile whether there is a display
instead of checking which model it runs on.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from oculi.errors import ConfigError
from oculi.runtime.config import PROFILES
from oculi.runtime.power.model import PowerModel, parse_power


@dataclass(frozen=True)
class Display:
    width: int
    height: int


Point = tuple[float, float, float]


@dataclass(frozen=True)
class Microphones:
    """The array: channels 0..air-1 are air microphones, the bone-conduction pickups follow."""

    air: int
    bone_conduction: int
    sample_rate: int
    air_positions: tuple[Point, ...] = ()
    """Frame coordinates in metres (x right, y forward, z up; origin at the bridge)."""
    mouth: Point | None = None
    """Where the wearer's mouth is in the same coordinates: the direction the array listens to."""

    @property
    def channels(self) -> int:
        return self.air + self.bone_conduction

    @property
    def bone_channel(self) -> int | None:
        return self.air if self.bone_conduction else None


@dataclass(frozen=True)
class Camera:
    width: int
    height: int


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    display: Display | None
    microphones: Microphones
    camera: Camera | None
    power: PowerModel | None = None
    """The `[power]` table: what each chip and peripheral costs; None for a profile without one."""

    @property
    def has_display(self) -> bool:
        return self.display is not None


def load_profile(name: str) -> Profile:
    """One of the shipped profiles by name (`s1`, `g1`)."""
    if name not in PROFILES:
        raise ConfigError(f"profile {name!r}: allowed values are {', '.join(PROFILES)}")
    text = resources.files("oculi.runtime").joinpath("profiles", f"{name}.toml").read_text("utf-8")
    return parse_profile(tomllib.loads(text), f"profiles/{name}.toml")


def load_profile_file(path: Path) -> Profile:
    """A profile from a TOML file of one's own, validated like the shipped ones."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"profile file {path}: {err}") from err
    return parse_profile(data, str(path))


def parse_profile(data: dict[str, Any], where: str) -> Profile:
    display = data.get("display")
    camera = data.get("camera")
    return Profile(
        name=_field(data, "name", str, where),
        description=str(data.get("description", "")),
        display=None if display is None else Display(*_size(display, "display", where)),
        microphones=_microphones(data, where),
        camera=None if camera is None else Camera(*_size(camera, "camera", where)),
        power=None if "power" not in data else parse_power(data["power"], where),
    )


def _microphones(data: dict[str, Any], where: str) -> Microphones:
    air = _positive(data, "microphones.air", where, allow_zero=True)
    section = data.get("microphones", {})
    positions = tuple(
        _point(p, f"microphones.air_positions[{i}]", where)
        for i, p in enumerate(section.get("air_positions", []))
    )
    if positions and len(positions) != air:
        raise ConfigError(
            f"{where}: field 'microphones.air_positions' lists {len(positions)} positions "
            f"for {air} air microphones"
        )
    mouth = section.get("mouth")
    return Microphones(
        air=air,
        bone_conduction=_positive(data, "microphones.bone_conduction", where, allow_zero=True),
        sample_rate=_positive(data, "microphones.sample_rate", where),
        air_positions=positions,
        mouth=None if mouth is None else _point(mouth, "microphones.mouth", where),
    )


def _point(value: Any, field: str, where: str) -> Point:
    ok = isinstance(value, list) and len(value) == 3
    ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    if not ok or any(abs(v) > 1.0 for v in value):
        raise ConfigError(f"{where}: field {field!r} must be [x, y, z] in metres, got {value!r}")
    return (float(value[0]), float(value[1]), float(value[2]))


def _size(section: Any, name: str, where: str) -> tuple[int, int]:
    data = {name: section}
    return _positive(data, f"{name}.width", where), _positive(data, f"{name}.height", where)


def _field(data: dict[str, Any], dotted: str, kind: type, where: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ConfigError(f"{where}: missing field {dotted!r}")
        value = value[part]
    if type(value) is not kind:
        raise ConfigError(f"{where}: field {dotted!r} must be {kind.__name__}, got {value!r}")
    return value


def _positive(data: dict[str, Any], dotted: str, where: str, allow_zero: bool = False) -> int:
    value: int = _field(data, dotted, int, where)
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{where}: field {dotted!r} must be positive, got {value}")
    return value
