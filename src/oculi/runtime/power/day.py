"""A day profile: counts and durations of activities, scaled from per-event energies.

A literal day of events cannot be replayed in a test run, so the day is built from what the
shipped scenarios cost per answer, per minute or per flow, plus activities no scenario covers
(photos, video, music, calls, live subtitles, glanceable cards) costed from the profile's power
model, with their compute placed by the same scheduler, plus the always-on floor.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from oculi.errors import ConfigError
from oculi.runtime.power.battery import Battery
from oculi.runtime.power.ledger import (
    COMPONENTS,
    SMALL_MESSAGE_BYTES,
    STANDBY_APP,
    VOICE_BYTES_PER_S,
    background_mw,
)
from oculi.runtime.power.model import PowerModel
from oculi.runtime.power.report import PowerRun
from oculi.runtime.power.scheduler import CAPABLE, LOW_POWER, MAIN_SOC, Policy, Scheduler, Work
from oculi.runtime.profile import Profile

MODELS = ("photo", "video", "music", "call", "subtitles", "glance")
"""Activities costed from the model: photo (each), video, call, subtitles, glance (per minute),
music (per hour)."""
PHOTO_BYTES = 3_000_000
MEDIA_BATCH = 10
"""Photos and clips go to the phone over Wi-Fi in batches; one association per batch."""
CLIP_S = 30.0
GLANCE_S = 8.0
"""A glanceable card (notification, message, time, teleprompter line) stays this long."""
PHRASE_S = 6.0
PHRASE_SPEECH_S = 3.0
"""Live subtitles: a phrase every 6 s, 3 s of it speech, each transcribed and shown."""

Parts = dict[str, float]
"""Joules by component."""


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
    pin: Mapping[str, str] = field(default_factory=dict)
    """Stage → tier the day asks for (checked against what each tier can run)."""

    @property
    def scenarios(self) -> list[str]:
        return sorted({a.scenario for a in self.activities if a.scenario})

    def policy(self, base: Policy) -> Policy:
        """`base` with the day's pins added."""
        return replace(base, pin={**base.pin, **self.pin}) if self.pin else base


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
    activities = [_activity(where, str(name), spec) for name, spec in data["activities"].items()]
    pin = _pin(where, data.get("pin", {}))
    return DayProfile(str(data.get("name", where)), float(hours), tuple(activities), where, pin)


def _activity(where: str, name: str, spec: Any) -> Activity:
    field_ = f"activities.{name}"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: field {field_!r} must be a table")
    count = spec.get("count")
    if not isinstance(count, int | float) or isinstance(count, bool) or count < 0:
        raise ConfigError(f"{where}: field '{field_}.count' must be >= 0, got {count!r}")
    scenario, model = str(spec.get("scenario", "")), str(spec.get("model", ""))
    if bool(scenario) == bool(model):
        raise ConfigError(f"{where}: field {field_!r} needs one of `scenario` or `model`")
    if model and model not in MODELS:
        raise ConfigError(f"{where}: field '{field_}.model' must be one of {MODELS}")
    per = spec.get("per", "answer")
    if per not in ("answer", "minute", "scenario") and not (type(per) is int and per > 0):
        raise ConfigError(
            f"{where}: field '{field_}.per' must be answer, minute, scenario or a count"
        )
    return Activity(name, float(count), scenario, per, model)


def _pin(where: str, raw: Any) -> dict[str, str]:
    """The day's stage → tier requests: a tier asked for work it cannot run is named here."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: field 'pin' must map a stage to a tier, like `asr: phone`")
    for stage, tier in raw.items():
        if stage not in CAPABLE:
            raise ConfigError(
                f"{where}: field 'pin.{stage}': no such stage; known stages {sorted(CAPABLE)}"
            )
        if tier not in CAPABLE[stage]:
            raise ConfigError(
                f"{where}: field 'pin.{stage}': the {tier} tier cannot run {stage} "
                f"(it runs on {', '.join(CAPABLE[stage])})"
            )
    return {str(k): str(v) for k, v in raw.items()}


def standby_mw(model: PowerModel, profile: Profile, naive: bool = False) -> float:
    """The always-on floor: wake word + VAD, air microphones, BLE link, baseline, the main SoC
    asleep with its background wake-ups — or, for the everything-on-the-SoC baseline, idling
    awake all day (and the low-power core idle, since the SoC does its listening)."""
    return math.fsum(standby_parts(model, profile, naive).values())


def standby_parts(model: PowerModel, profile: Profile, naive: bool = False) -> Parts:
    """The floor in mW by component."""
    soc = model.main_soc.idle_mw if naive else model.main_soc.sleep_mw
    return {
        "low_power_core": model.low_power.idle_mw if naive else model.low_power.active_mw,
        "microphones": model.audio.air_mic_mw * profile.microphones.air,
        "radio": model.radio.ble_link_mw,
        "baseline": model.baseline_mw,
        "main_soc": soc + background_mw(model, naive),
    }


def per_event_parts(activity: Activity, run: PowerRun) -> Parts:
    """The scenario's non-standby energy by component, divided as the activity says."""
    if activity.per == "answer":
        units = float(run.answers)
    elif activity.per == "minute":
        units = run.totals.duration_s / 60
    elif activity.per == "scenario":
        units = 1.0
    else:
        units = float(activity.per)
    parts: dict[str, list[float]] = defaultdict(list)
    for entry in run.totals.entries:
        if entry.app != STANDBY_APP:
            parts[entry.component].append(entry.joules)
    if units <= 0:
        return {}
    return {name: math.fsum(values) / units for name, values in parts.items()}


def per_event_joules(activity: Activity, run: PowerRun) -> float:
    return math.fsum(per_event_parts(activity, run).values())


class _Costing:
    """Joules of the model activities, with compute placed by the scheduler under `policy`."""

    def __init__(self, model: PowerModel, profile: Profile, policy: Policy) -> None:
        self.model, self.profile, self.naive = model, profile, policy.naive
        self.scheduler = Scheduler(model, policy, Battery(model.battery, 1.0))

    def burst(self, works: Iterable[Work], parts: Parts) -> None:
        """Work done in one go: the SoC woken once if any of it lands there, then lingers."""
        soc, awake, busy_s = self.model.main_soc, self.naive, 0.0
        used_soc = False
        for work in works:
            placed = self.scheduler.place(work, soc_awake=awake)
            if placed.tier == MAIN_SOC:
                mj = (soc.active_mw - soc.idle_mw) * placed.compute_ms / 1000
                mj += soc.wake_mj if placed.wake and not self.naive else 0.0
                _add(parts, "main_soc", mj / 1000)
                awake, used_soc, busy_s = True, True, busy_s + placed.latency_ms / 1000
            elif placed.tier == LOW_POWER:
                _add(parts, "low_power_core", placed.energy_mj / 1000)
            else:
                _add(parts, "radio", placed.radio_mj / 1000)
        if used_soc and not self.naive:
            _add(parts, "main_soc", soc.idle_mw * (busy_s + soc.linger_s) / 1000)

    def hud(self) -> list[Work]:
        """Drawing a card: nothing to draw on glasses without a display."""
        return [Work("hud", self.model.work.hud_ms)] if self.model.display is not None else []

    def card(self, seconds: float, parts: Parts) -> None:
        """A card lit for `seconds`: bright, then dimmed (never dimmed by the naive baseline)."""
        display = self.model.display
        if display is None:
            return
        mw = display.full_mw * display.brightness
        bright = seconds if self.naive else min(seconds, display.dim_after_s)
        _add(parts, "display", (mw * bright + mw * display.dim_level * (seconds - bright)) / 1000)

    def soc_audio(self, seconds: float, parts: Parts) -> None:
        """Audio the naive baseline decodes on the SoC (the scheduler leaves it to the BES)."""
        if self.naive:
            soc = self.model.main_soc
            busy = (soc.active_mw - soc.idle_mw) * self.model.work.audio_ms_per_s * seconds
            _add(parts, "main_soc", busy / 1e6)

    def media_upload(self, megabytes: float, parts: Parts) -> None:
        radio = self.model.radio
        _add(parts, "radio", (radio.wifi_wake_mj / MEDIA_BATCH + megabytes * radio.wifi_mj_per_mb)
             / 1000)  # fmt: skip

    def photo(self) -> Parts:
        parts: Parts = {}
        camera = self.model.camera
        if camera is None or self.profile.camera is None:
            return parts
        largest = max(camera.frame_mj, key=lambda wh: wh[0] * wh[1])
        _add(parts, "camera", (camera.wake_mj + camera.frame_mj[largest]) / 1000)
        self.burst([Work("photo", self.model.work.photo_ms)], parts)
        self.media_upload(PHOTO_BYTES / 1e6, parts)
        return parts

    def video(self) -> Parts:
        """One minute of recording, in clips of CLIP_S seconds."""
        parts: Parts = {}
        camera, soc, work = self.model.camera, self.model.main_soc, self.model.work
        if camera is None or self.profile.camera is None:
            return parts
        clips = 60.0 / CLIP_S
        _add(parts, "camera", (camera.video_mw * 60 + camera.wake_mj * clips) / 1000)
        busy = work.video_soc_share * (soc.active_mw - soc.idle_mw) * 60
        awake = 0.0 if self.naive else soc.idle_mw * 60 + soc.wake_mj * clips
        _add(parts, "main_soc", (busy + awake) / 1000)
        self.media_upload(work.video_mbps / 8 * 60, parts)
        return parts

    def music(self) -> Parts:
        """One hour streamed from the phone and played on the open-ear speakers."""
        audio = self.model.audio
        parts: Parts = {"speaker": audio.speaker_mw * 3.6}
        _add(parts, "radio" if self.naive else "low_power_core", audio.stream_mw * 3.6)
        self.soc_audio(3600, parts)
        return parts

    def call(self) -> Parts:
        """One minute of a phone call: the far side talks half of it."""
        audio = self.model.audio
        parts: Parts = {"speaker": audio.speaker_mw * 0.03, "microphones": audio.bone_mw * 0.03}
        _add(parts, "radio" if self.naive else "low_power_core", audio.stream_mw * 0.06)
        self.soc_audio(60, parts)
        return parts

    def subtitles(self) -> Parts:
        """One minute of live subtitles: each phrase transcribed, then drawn as a card."""
        parts: Parts = {}
        work, speech = self.model.work, PHRASE_SPEECH_S
        for _ in range(int(60 / PHRASE_S)):
            up = int(speech * VOICE_BYTES_PER_S)
            _add(parts, "microphones", self.model.audio.bone_mw * speech / 1000)
            self.burst([Work("asr", work.asr_ms_per_s * speech, up, 200), *self.hud()], parts)
            self.card(PHRASE_S, parts)
        return parts

    def glance(self) -> Parts:
        """One minute of glanceable cards pushed from the phone (notifications, messages)."""
        parts: Parts = {}
        for _ in range(int(60 / GLANCE_S)):
            _add(parts, "radio", SMALL_MESSAGE_BYTES / 1e6 * self.model.radio.ble_mj_per_mb / 1000)
            self.burst(self.hud(), parts)
            self.card(GLANCE_S, parts)
        return parts


def model_parts(activity: Activity, model: PowerModel, profile: Profile, policy: Policy) -> Parts:
    """One unit of a model-costed activity, in joules by component."""
    costing = _Costing(model, profile, policy)
    cost: dict[str, Any] = {
        "photo": costing.photo, "video": costing.video, "music": costing.music,
        "call": costing.call, "subtitles": costing.subtitles, "glance": costing.glance,
    }  # fmt: skip
    parts: Parts = cost[activity.model]()
    return parts


def _add(parts: Parts, component: str, joules: float) -> None:
    parts[component] = parts.get(component, 0.0) + joules


@dataclass
class DayProjection:
    day: DayProfile
    profile: str
    rows: list[tuple[str, float, float, str]]
    """Activity, count, joules in total, where the figure comes from."""
    standby_joules: float
    battery_joules: float
    components: Parts = field(default_factory=dict)
    """The day's joules by component (activities and floor): what dominates."""

    @property
    def joules(self) -> float:
        return math.fsum([self.standby_joules, *(r[2] for r in self.rows)])

    @property
    def hours(self) -> float:
        """How long the battery lasts at this day's average power, from full."""
        return self.battery_joules / (self.joules / self.day.hours)

    @property
    def average_mw(self) -> float:
        return self.joules / self.day.hours / 3.6

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
            "average_mw": round(self.average_mw, 2),
            "standby_joules": round(self.standby_joules, 2),
            "activities": [
                {"activity": a, "count": c, "joules": round(j, 2), "source": s}
                for a, c, j, s in self.rows
            ],
            "by_component": {k: round(v, 2) for k, v in _ranked(self.components)},
            "battery_wh": round(self.battery_joules / 3600, 3),
            "projected_hours": round(self.hours, 2),
        }


def project_day(
    day: DayProfile,
    profile: Profile,
    runs: dict[str, PowerRun],
    policy: Policy | None = None,
) -> DayProjection:
    model = profile.power
    if model is None:
        raise ConfigError(f"profile {profile.name!r} has no [power] table")
    policy = day.policy(policy or Policy())
    rows = []
    components: Parts = dict.fromkeys(COMPONENTS, 0.0)
    for activity in day.activities:
        if activity.scenario:
            if activity.scenario not in runs:
                raise ConfigError(
                    f"{day.where}: field 'activities.{activity.name}.scenario': "
                    f"{activity.scenario!r} was not replayed"
                )
            each = per_event_parts(activity, runs[activity.scenario])
            source = f"{activity.scenario} per {activity.per}"
        else:
            each = model_parts(activity, model, profile, policy)
            source = f"model ({activity.model})"
        for component, joules in each.items():
            _add(components, component, joules * activity.count)
        rows.append((activity.name, activity.count, math.fsum(each.values()) * activity.count,
                     source))  # fmt: skip
    floor = standby_parts(model, profile, policy.naive)
    for component, mw in floor.items():
        _add(components, component, mw * day.hours * 3.6)
    standby = math.fsum(floor.values()) * day.hours * 3.6
    return DayProjection(day, profile.name, rows, standby, model.battery.joules, components)


def _ranked(parts: Parts) -> list[tuple[str, float]]:
    return sorted(((k, v) for k, v in parts.items() if v > 0), key=lambda kv: -kv[1])
