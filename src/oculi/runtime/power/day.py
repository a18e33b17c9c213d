"""A day profile: counts and durations of activities, scaled from per-event energies.

A literal day of events cannot be replayed in a test run, so the day is built from what the
shipped scenarios cost per answer, per minute or per flow, plus the always-on floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from oculi.errors import ConfigError
from oculi.runtime.power.ledger import STANDBY_APP
from oculi.runtime.power.model import PowerModel
from oculi.runtime.power.report import PowerRun
from oculi.runtime.profile import Profile

MODELS = ("photo", "music")
PHOTO_BYTES = 2_500_000
MUSIC_KBPS = 128


@dataclass(frozen=True)
class Activity:
    name: str
    count: float
    scenario: str = ""
    per: str | int = "answer"
    model: str = ""


@dataclass(frozen=True)
class DayProfile:
    name: str
    hours: float
    activities: tuple[Activity, ...]
    where: str

    @property
    def scenarios(self) -> list[str]:
        return sorted({a.scenario for a in self.activities if a.scenario})


def load_day(name_or_path: str) -> DayProfile:
    """A shipped day (`typical_day`) or a YAML file of one's own."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"day profile {path}: {err.strerror or err}") from err
        where = str(path)
    else:
        shipped = resources.files("oculi.runtime.power").joinpath("days", f"{name_or_path}.yaml")
        if not shipped.is_file():
            raise ConfigError(f"day profile {name_or_path!r}: no such shipped day (typical_day)")
        text, where = shipped.read_text("utf-8"), f"days/{name_or_path}.yaml"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{where}: not readable YAML: {err}") from err
    return parse_day(data, where)


def parse_day(data: Any, where: str) -> DayProfile:
    if not isinstance(data, dict) or not isinstance(data.get("activities"), dict):
        raise ConfigError(f"{where}: a day needs `hours` and an `activities` table")
    hours = data.get("hours")
    if not isinstance(hours, int | float) or isinstance(hours, bool) or not 0 < hours <= 24:
        raise ConfigError(f"{where}: field 'hours' must be a number in (0, 24], got {hours!r}")
    activities = []
    for name, spec in data["activities"].items():
        field = f"activities.{name}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: field {field!r} must be a table")
        count = spec.get("count")
        if not isinstance(count, int | float) or isinstance(count, bool) or count < 0:
            raise ConfigError(f"{where}: field '{field}.count' must be >= 0, got {count!r}")
        scenario, model = str(spec.get("scenario", "")), str(spec.get("model", ""))
        if bool(scenario) == bool(model):
            raise ConfigError(f"{where}: field {field!r} needs one of `scenario` or `model`")
        if model and model not in MODELS:
            raise ConfigError(f"{where}: field '{field}.model' must be one of {MODELS}")
        per = spec.get("per", "answer")
        if per not in ("answer", "minute", "scenario") and not (type(per) is int and per > 0):
            raise ConfigError(
                f"{where}: field '{field}.per' must be answer, minute, scenario or a count"
            )
        activities.append(Activity(str(name), float(count), scenario, per, model))
    return DayProfile(str(data.get("name", where)), float(hours), tuple(activities), where)


def standby_mw(model: PowerModel, profile: Profile, naive: bool = False) -> float:
    """The always-on floor: wake word + VAD, air microphones, BLE link, baseline, and the main
    SoC asleep — or, for the everything-on-the-SoC baseline, idling awake all day."""
    return (
        model.low_power.active_mw
        + model.audio.air_mic_mw * profile.microphones.air
        + model.radio.ble_link_mw
        + model.baseline_mw
        + (model.main_soc.idle_mw if naive else model.main_soc.sleep_mw)
    )


def per_event_joules(activity: Activity, run: PowerRun) -> float:
    """Non-standby energy of the scenario, divided as the activity says."""
    active = run.totals.joules - run.totals.by("app").get(STANDBY_APP, 0.0)
    if activity.per == "answer":
        units = float(run.answers)
    elif activity.per == "minute":
        units = run.totals.duration_s / 60
    elif activity.per == "scenario":
        units = 1.0
    else:
        units = float(activity.per)
    return active / units if units > 0 else 0.0


def model_joules(activity: Activity, model: PowerModel, profile: Profile) -> float:
    """Photos and music, which no shipped scenario covers, costed from the model alone."""
    if activity.model == "photo":
        camera, size = model.camera, profile.camera
        if camera is None or size is None:
            return 0.0
        largest = max(camera.frame_mj, key=lambda wh: wh[0] * wh[1])
        soc = model.main_soc
        mj = camera.wake_mj + camera.frame_mj[largest] + soc.wake_mj
        mj += soc.active_mw * model.work.photo_ms / 1000 + soc.idle_mw * soc.linger_s
        mj += PHOTO_BYTES / 1e6 * model.radio.ble_mj_per_mb
        return mj / 1000
    mb_per_hour = MUSIC_KBPS / 8 * 3600 / 1000
    mw = model.low_power.active_mw + model.audio.speaker_mw
    return (mw * 3600 + mb_per_hour * model.radio.ble_mj_per_mb) / 1000


@dataclass
class DayProjection:
    day: DayProfile
    profile: str
    rows: list[tuple[str, float, float, str]]
    """Activity, count, joules in total, where the figure comes from."""
    standby_joules: float
    battery_joules: float

    @property
    def joules(self) -> float:
        return math.fsum([self.standby_joules, *(r[2] for r in self.rows)])

    @property
    def hours(self) -> float:
        """How long the battery lasts at this day's average power, from full."""
        return self.battery_joules / (self.joules / self.day.hours)

    @property
    def swaps(self) -> int:
        """Extra packs' worth of charge the day needs beyond one full battery."""
        return max(0, math.ceil(self.joules / self.battery_joules) - 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day.name,
            "profile": self.profile,
            "hours_worn": self.day.hours,
            "joules": round(self.joules, 2),
            "average_mw": round(self.joules / self.day.hours / 3.6, 2),
            "standby_joules": round(self.standby_joules, 2),
            "activities": [
                {"activity": a, "count": c, "joules": round(j, 2), "source": s}
                for a, c, j, s in self.rows
            ],
            "battery_wh": round(self.battery_joules / 3600, 3),
            "projected_hours": round(self.hours, 2),
        }


def project_day(
    day: DayProfile, profile: Profile, runs: dict[str, PowerRun], naive: bool = False
) -> DayProjection:
    model = profile.power
    if model is None:
        raise ConfigError(f"profile {profile.name!r} has no [power] table")
    rows = []
    for activity in day.activities:
        if activity.scenario:
            if activity.scenario not in runs:
                raise ConfigError(
                    f"{day.where}: field 'activities.{activity.name}.scenario': "
                    f"{activity.scenario!r} was not replayed"
                )
            each = per_event_joules(activity, runs[activity.scenario])
            source = f"{activity.scenario} per {activity.per}"
        else:
            each = model_joules(activity, model, profile)
            source = f"model ({activity.model})"
        rows.append((activity.name, activity.count, each * activity.count, source))
    standby = standby_mw(model, profile, naive) * day.hours * 3.6
    return DayProjection(day, profile.name, rows, standby, model.battery.joules)
