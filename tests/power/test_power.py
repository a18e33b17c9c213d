"""The power model, scheduler, ledger and `oculi power report`."""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from oculi.cli import main
from oculi.errors import ConfigError, OculiError
from oculi.events import Answer, Card, CardShown, Event, SpeechOut, Utterance, VideoFrame
from oculi.runtime.bus import EventBus
from oculi.runtime.power.battery import Battery
from oculi.runtime.power.day import (
    Activity,
    load_day,
    model_parts,
    project_day,
    standby_mw,
    standby_parts,
)
from oculi.runtime.power.governor import PowerGovernor
from oculi.runtime.power.ledger import EnergyLedger
from oculi.runtime.power.report import PowerRun
from oculi.runtime.power.scheduler import (
    CLOUD,
    LOW_POWER,
    MAIN_SOC,
    PHONE,
    Policy,
    Scheduler,
    Work,
)
from oculi.runtime.profile import Profile, load_profile, parse_profile

SCENARIOS = Path(str(resources.files("oculi").joinpath("scenarios")))


def s1() -> Profile:
    return load_profile("s1")


def scheduler(policy: Policy | None = None, level: float = 1.0) -> Scheduler:
    model = s1().power
    assert model is not None
    return Scheduler(model, policy or Policy(), Battery(model.battery, level))


def frame() -> VideoFrame:
    return VideoFrame(image=b"\xff" * 60_000, source="test.jpg")


def card(seconds: float = 8.0) -> CardShown:
    return CardShown(card=Card(layout="message", title="t"), png=b"", width=1, height=1,
                     seconds=seconds)  # fmt: skip


def answer_turn(ledger: EnergyLedger, text: str = "how much is this") -> None:
    ledger.on_event(Utterance(text=text, source="script"))
    ledger.on_event(Answer(app="shop", action="price", speech="two euros"))
    ledger.on_event(card())
    ledger.on_event(SpeechOut(text="two euros", wav=b"", duration_s=1.5))


def assert_conserved(ledger: EnergyLedger) -> None:
    totals = ledger.finish()
    for key in ("component", "app", "stage", "tier"):
        assert math.isclose(math.fsum(totals.by(key).values()), totals.joules, rel_tol=1e-12)
    assert totals.joules > 0


# --- placement ----------------------------------------------------------------------------------


def test_wake_word_and_vad_run_on_the_low_power_core_only() -> None:
    sched = scheduler(Policy(offload="cloud"))
    for stage in ("wake", "vad"):
        assert sched.place(Work(stage, 5.0), soc_awake=False).tier == LOW_POWER


def test_vision_goes_to_the_phone_when_allowed_and_cheaper() -> None:
    work = Work("vision", 80.0, up_bytes=30_000)
    assert scheduler().place(work, soc_awake=False).tier == PHONE
    assert scheduler(Policy(offload="none")).place(work, soc_awake=False).tier == MAIN_SOC


def test_private_work_never_goes_to_the_cloud_unless_allowed() -> None:
    work = Work("vision", 8000.0, up_bytes=10_000)
    placed = scheduler(Policy(offload="cloud", network="wifi")).place(work, soc_awake=True)
    assert placed.tier != CLOUD
    allowed = Policy(offload="cloud", network="wifi", cloud_private=True)
    assert scheduler(allowed).place(work, soc_awake=True).tier in (CLOUD, PHONE)


def test_no_network_keeps_everything_on_the_glasses() -> None:
    placed = scheduler(Policy(offload="cloud", network="none")).place(
        Work("agent", 25.0, 2000, 2000), soc_awake=False
    )
    assert placed.tier == MAIN_SOC and placed.wake


def test_pinning_work_to_a_tier_that_cannot_run_it_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="low_power tier cannot run vision"):
        Policy(pin={"vision": LOW_POWER})


# --- sleep and wake -----------------------------------------------------------------------------


def test_main_soc_wakes_for_work_and_sleeps_after_its_linger() -> None:
    ledger = EnergyLedger(s1(), Policy(offload="none"))
    answer_turn(ledger)
    answer_turn(ledger)
    totals = ledger.finish()
    assert totals.soc_wakes == 2  # turns are seconds apart: it slept in between
    soc = ledger.model.main_soc
    assert totals.by("component")["main_soc"] >= 2 * soc.wake_mj / 1000


def test_camera_wakes_once_for_frames_within_its_linger() -> None:
    ledger = EnergyLedger(s1())
    ledger.on_event(frame())
    ledger.on_event(frame())
    assert ledger.finish().camera_wakes == 1 if ledger.model.camera else False


def test_display_dims_then_switches_off() -> None:
    ledger = EnergyLedger(s1())
    ledger.on_event(card(seconds=8.0))
    display = ledger.model.display
    assert display is not None
    totals = ledger.finish()
    mw = display.full_mw * display.brightness
    expected = mw * display.dim_after_s + mw * display.dim_level * (8.0 - display.dim_after_s)
    assert math.isclose(totals.by("component")["display"], expected / 1000, rel_tol=1e-9)


# --- low battery and hot swap -------------------------------------------------------------------


def test_low_battery_drops_bursts_turns_the_display_and_the_cloud_off() -> None:
    low = EnergyLedger(
        s1(), Policy(offload="cloud", network="wifi", latency_target_ms=600), level=0.10
    )
    assert low.scheduler.degraded
    low.on_event(frame())
    low.on_event(frame())  # 0.5 s later: a burst
    assert low.frames_dropped == 1
    assert not low.scheduler.display_on() and low.scheduler.brightness() == 0.0
    placed = low.scheduler.place(Work("agent", 5000.0, 100, 100), soc_awake=True)
    assert placed.tier != CLOUD
    full = EnergyLedger(s1(), replace(low.policy))
    assert full.scheduler.display_on()
    assert full.scheduler.place(Work("agent", 5000.0, 100, 100), soc_awake=True).tier == CLOUD


def test_low_battery_offloads_work_it_keeps_on_the_soc_at_full_charge() -> None:
    work = Work("vision", 80.0, up_bytes=200_000)  # over BLE: slower than the latency target
    assert scheduler(level=1.0).place(work, soc_awake=False).tier == MAIN_SOC
    assert scheduler(level=0.05).place(work, soc_awake=False).tier == PHONE


def test_hot_swap_restores_charge_and_keeps_the_session_books() -> None:
    ledger = EnergyLedger(s1(), level=0.10)
    answer_turn(ledger)
    booked, clock = len(ledger.entries), ledger.clock
    assert ledger.scheduler.degraded
    ledger.swap_battery()
    assert not ledger.scheduler.degraded
    assert len(ledger.entries) == booked and ledger.clock == clock
    answer_turn(ledger)
    assert ledger.finish().battery_swaps == 1


def test_a_battery_that_is_not_swappable_refuses_a_swap() -> None:
    ledger = EnergyLedger(load_profile("g1"))
    with pytest.raises(OculiError, match="not hot-swappable"):
        ledger.swap_battery()


# --- ledger arithmetic --------------------------------------------------------------------------


def test_energy_is_conserved_across_components_apps_stages_and_tiers() -> None:
    ledger = EnergyLedger(s1())
    ledger.on_event(frame())
    answer_turn(ledger)
    answer_turn(ledger, "what does it cost")
    assert_conserved(ledger)


def test_naive_policy_costs_more_than_the_scheduler() -> None:
    runs = {}
    for name, policy in (("naive", Policy(naive=True)), ("scheduled", Policy())):
        ledger = EnergyLedger(s1(), policy)
        ledger.on_event(frame())
        answer_turn(ledger)
        runs[name] = ledger.finish().joules
    assert runs["naive"] > runs["scheduled"] * 1.5


def test_work_before_the_answer_is_booked_to_the_answering_app() -> None:
    ledger = EnergyLedger(s1())
    ledger.on_event(frame())
    answer_turn(ledger)
    apps = ledger.finish().by("app")
    assert set(apps) == {"shop", "standby"}


# --- bad profiles -------------------------------------------------------------------------------


def s1_data() -> dict[str, Any]:
    text = resources.files("oculi.runtime").joinpath("profiles", "s1.toml").read_text("utf-8")
    return tomllib.loads(text)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("main_soc", "active_mw", -5.0, "power.main_soc.active_mw' must be positive"),
        ("battery", "capacity_mah", 0, "power.battery.capacity_mah' must be positive"),
        ("display", "brightness", 1.5, "at most 1"),
        ("main_soc", "idle_mw", 950.0, "sleep_mw <= idle_mw <= active_mw"),
        ("battery", "voltage_v", None, "missing field 'power.battery.voltage_v'"),
        ("battery", "converter_efficiency", 1.2, "power.battery.converter_efficiency"),
        ("audio", "stream_mw", -1.0, "power.audio.stream_mw' must be positive"),
    ],
)
def test_bad_power_values_name_the_file_and_field(
    section: str, key: str, value: Any, message: str
) -> None:
    data = s1_data()
    if value is None:
        del data["power"][section][key]
    else:
        data["power"][section][key] = value
    with pytest.raises(ConfigError, match=r"my\.toml") as err:
        parse_profile(data, "my.toml")
    assert message in str(err.value)


# --- day profile and CLI ------------------------------------------------------------------------


def test_day_projection_adds_activities_to_the_floor() -> None:
    profile = s1()
    day = load_day("typical_day")
    ledger = EnergyLedger(profile)
    answer_turn(ledger)
    totals = ledger.finish()
    assert profile.power is not None
    run = PowerRun("x", True, 1, totals, profile.power.battery.joules)
    projection = project_day(day, profile, dict.fromkeys(day.scenarios, run))
    parts = projection.standby_joules + sum(r[2] for r in projection.rows)
    assert math.isclose(projection.joules, parts)
    per_hour = projection.joules / day.hours
    assert math.isclose(projection.hours, profile.power.battery.joules / per_hour)


def test_bad_day_profile_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "day.yaml"
    bad.write_text("hours: 12\nactivities:\n  photo: {count: -1, model: photo}\n", "utf-8")
    with pytest.raises(ConfigError, match=r"day.yaml: field 'activities.photo.count'"):
        load_day(str(bad))


def test_power_report_json_and_png(
    tmp_path: Path, config: Any, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("OCULI_DATA_DIR", str(tmp_path / "data"))
    png = tmp_path / "power.png"
    args = ["power", "report", str(SCENARIOS / "price_check.yaml"), "--json", "--png", str(png)]
    assert main(args) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["profile"] == "s1" and body["passed"]
    assert math.isclose(sum(body["by_component"].values()), body["joules"], abs_tol=1e-3)
    assert body["placements"]["hud"] == {"main_soc": 3}
    assert png.read_bytes().startswith(b"\x89PNG")


def test_power_report_bad_input_exits_two(tmp_path: Path) -> None:
    assert main(["power", "report", str(tmp_path / "missing.yaml")]) == 2
    assert main(["power", "report"]) == 2
    assert main(["power", "report", "--day", "no_such_day"]) == 2


def test_profile_without_power_table_still_loads() -> None:
    data = s1_data()
    del data["power"]
    assert parse_profile(data, "x.toml").power is None
    assert replace(s1(), power=None).power is None


def test_the_everything_on_the_soc_baseline_pays_for_a_soc_that_never_sleeps() -> None:
    profile = s1()
    assert profile.power is not None
    awake = standby_parts(profile.power, profile, naive=True)
    asleep = standby_parts(profile.power, profile)
    soc = profile.power.main_soc
    assert awake["main_soc"] > asleep["main_soc"] + (soc.idle_mw - soc.sleep_mw) / 2
    assert {k for k in awake if awake[k] != asleep[k]} == {"main_soc", "low_power_core"}
    assert standby_mw(profile.power, profile, naive=True) > standby_mw(profile.power, profile)


# --- the governor: decisions that change what runs ----------------------------------------------


class Recorder:
    """A stage that remembers what reached it and answers cards like the HUD would."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[str] = []

    async def __call__(self, event: Event) -> list[Event]:
        self.seen.append(event.kind)
        if self.name == "hud" and isinstance(event, Answer) and event.card is not None:
            return [CardShown(card=event.card, png=b"", width=1, height=1, seconds=8.0)]
        return []


class FakeSession:
    def __init__(self) -> None:
        self.vision, self.hud = Recorder("vision"), Recorder("hud")
        self.bus = EventBus(stages=[self.vision, self.hud])

    def listen(self, listener: Any) -> None:
        self.bus.listeners.append(listener)


def replay_look_and_ask(level: float) -> tuple[FakeSession, EnergyLedger]:
    import asyncio

    session = FakeSession()
    ledger = EnergyLedger(s1(), level=level)
    ledger.attach(session)
    card = Card(layout="message", title="t")
    answer = Answer(app="shop", action="price", speech="two euros", card=card)

    async def run() -> None:
        for event in (frame(), frame(), answer):
            await session.bus.publish(event)

    asyncio.run(run())
    return session, ledger


def test_at_low_battery_burst_frames_never_reach_vision_and_no_card_is_drawn() -> None:
    session, ledger = replay_look_and_ask(level=0.05)
    assert session.vision.seen.count("video_frame") == 1
    assert "answer" not in session.hud.seen
    totals = ledger.finish()
    assert totals.frames_dropped == 1 and totals.cards_suppressed == 1
    assert "display" not in totals.by("component")


def test_at_full_battery_the_governed_pipeline_runs_everything() -> None:
    session, ledger = replay_look_and_ask(level=1.0)
    assert session.vision.seen.count("video_frame") == 2
    totals = ledger.finish()
    assert totals.frames_dropped == 0 and totals.cards_suppressed == 0
    assert totals.by("component")["display"] > 0


def test_voice_plan_keeps_listening_on_the_low_power_core_and_stops_speculating_when_low() -> None:
    model = s1().power
    assert model is not None
    full = PowerGovernor.for_model(model).voice_plan()
    assert (full.wake_tier, full.vad_tier) == (LOW_POWER, LOW_POWER)
    assert full.asr_tier in (MAIN_SOC, PHONE) and full.speculative
    low = PowerGovernor.for_model(model, level=0.05).voice_plan()
    assert not low.speculative and "low battery" in low.reason
    assert PowerGovernor.for_model(model, Policy(offload="none")).voice_plan().asr_tier == MAIN_SOC


def test_voice_settings_follow_the_battery_level() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Settings:
        speculative: bool = True
        beamformer: str = "mvdr"

    model = s1().power
    assert model is not None
    governor = PowerGovernor.for_model(model)
    assert governor.voice_settings(Settings()).speculative
    governor.set_level(0.05)
    assert governor.voice_settings(Settings()) == Settings(speculative=False)


def test_a_day_that_pins_a_stage_to_a_tier_that_cannot_run_it_names_file_and_field(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "day.yaml"
    bad.write_text(
        "hours: 8\npin: {vision: low_power}\nactivities:\n  photo: {count: 1, model: photo}\n",
        "utf-8",
    )
    with pytest.raises(ConfigError, match=r"day.yaml: field 'pin.vision': the low_power tier "
                       r"cannot run vision"):  # fmt: skip
        load_day(str(bad))
    bad.write_text("hours: 8\npin: {juggle: phone}\nactivities: {}\n", "utf-8")
    with pytest.raises(ConfigError, match=r"field 'pin.juggle': no such stage"):
        load_day(str(bad))


def test_a_day_pin_moves_the_work_it_names(tmp_path: Path) -> None:
    day = tmp_path / "day.yaml"
    body = "hours: 1\nactivities:\n  s: {count: 1, model: subtitles}\n"
    day.write_text(body, "utf-8")
    plain = project_day(load_day(str(day)), s1(), {}, Policy(offload="none"))
    day.write_text("pin: {asr: phone}\n" + body, "utf-8")
    pinned = project_day(load_day(str(day)), s1(), {}, Policy(offload="none"))
    assert pinned.components["radio"] > plain.components["radio"]
    assert pinned.components["main_soc"] < plain.components["main_soc"]


@pytest.mark.parametrize("kind", ["photo", "video", "music", "call", "subtitles", "glance"])
def test_model_activities_cost_more_with_a_soc_that_never_sleeps_or_equal(kind: str) -> None:
    profile = s1()
    assert profile.power is not None
    activity = Activity(kind, 1.0, model=kind)
    scheduled = sum(model_parts(activity, profile.power, profile, Policy()).values())
    assert scheduled > 0
    if kind in ("music", "call"):  # the naive baseline decodes audio on the SoC as well
        naive = sum(model_parts(activity, profile.power, profile, Policy(naive=True)).values())
        assert naive > scheduled


def test_the_day_is_conserved_across_components() -> None:
    profile = s1()
    day = load_day("typical_day")
    ledger = EnergyLedger(profile)
    answer_turn(ledger)
    assert profile.power is not None
    run = PowerRun("x", True, 1, ledger.finish(), profile.power.battery.joules)
    projection = project_day(day, profile, dict.fromkeys(day.scenarios, run))
    assert math.isclose(sum(projection.components.values()), projection.joules, rel_tol=1e-9)


def test_the_battery_delivers_less_than_its_label() -> None:
    model = s1().power
    assert model is not None
    battery = model.battery
    assert battery.joules < battery.nominal_joules
    assert math.isclose(
        battery.joules,
        battery.nominal_joules * battery.usable_fraction * battery.converter_efficiency,
    )
