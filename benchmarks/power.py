"""Projected hours of the typical day under three placements, and the scheduler's own cost.

(a) everything on the main SoC, which never sleeps; (b) our scheduler with no offload;
(c) the scheduler with the phone taking heavy work. Each replays the day's scenarios through
real sessions with the energy ledger listening and scales them to the day profile. These are
figures from the power model in the device profiles (chip figures partly estimated), not
measurements of a device.
Options (--set): profile=s1|g1  day=typical_day
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from oculi.bench import BenchTable, percentile
from oculi.runtime.config import load_config
from oculi.runtime.power.battery import Battery
from oculi.runtime.power.day import load_day, project_day
from oculi.runtime.power.report import REPORTED_S1_HOURS, power_run
from oculi.runtime.power.scheduler import Policy, Scheduler, Work
from oculi.runtime.profile import load_profile

NAME = "power"
DESCRIPTION = "typical-day hours: all on the SoC vs scheduler vs phone offload; policy cost"
POLICIES = (
    ("(a) everything on the main SoC", Policy(naive=True)),
    ("(b) scheduler, no offload", Policy(offload="none")),
    ("(c) scheduler + phone offload", Policy(offload="phone")),
)


def run(runs: int, advance: Callable[[], None], options: dict[str, str]) -> list[BenchTable]:
    profile_name = options.get("profile", "s1")
    config = load_config(env={"OCULI_PROFILE": profile_name})
    profile = load_profile(profile_name)
    day = load_day(options.get("day", "typical_day"))
    shipped = resources.files("oculi").joinpath("scenarios")
    table = BenchTable(
        NAME,
        f"{day.name} on {profile_name}: projected battery life (model)",
        ["placement", "day J", "average mW", "hours"],
    )
    dominant = ""
    for label, base in POLICIES:
        policy = day.policy(base)
        results = {}
        for name in day.scenarios:
            path = Path(str(shipped.joinpath(f"{name}.yaml")))
            results[name] = power_run(config, path, policy)
        projection = project_day(day, profile, results, policy)
        table.rows.append(
            [
                label,
                round(projection.joules, 1),
                round(projection.average_mw, 1),
                round(projection.hours, 1),
            ]
        )
        ranked = sorted(projection.components.items(), key=lambda kv: -kv[1])
        dominant = ", ".join(f"{k} {v / projection.joules:.0%}" for k, v in ranked[:4])
        advance()
    table.notes.append(
        f"target: ≥ 9 h with the scheduler on s1; reviewers report "
        f"~{REPORTED_S1_HOURS:g} h of mixed use for the Quark S1"
    )
    table.notes.append(
        "model figures, not measurements; chip figures are partly estimates (see the profile "
        f"files). Energy by component under (c): {dominant}"
    )
    return [table, _overhead(profile_name, max(runs, 1) * 2000)]


def _overhead(profile_name: str, calls: int) -> BenchTable:
    """What one placement decision costs: the policy runs on every stage of every event."""
    model = load_profile(profile_name).power
    assert model is not None, f"profile {profile_name} has no power model"
    scheduler = Scheduler(model, Policy(), Battery(model.battery, 1.0))
    works = [
        Work("vision", 40.0, up_bytes=120_000),
        Work("asr", 300.0, up_bytes=64_000),
        Work("agent", 5.0, up_bytes=200),
        Work("hud", 12.0),
    ]
    samples = []
    for i in range(calls):
        start = time.perf_counter()
        scheduler.place(works[i % len(works)], soc_awake=bool(i % 2))
        samples.append((time.perf_counter() - start) * 1e6)
    table = BenchTable(
        f"{NAME}-overhead", "Scheduler overhead per placement (µs)", ["measure", "n", "p50", "p95"]
    )
    table.rows.append(
        [
            "Scheduler.place",
            len(samples),
            round(percentile(samples, 50), 2),
            round(percentile(samples, 95), 2),
        ]
    )
    table.notes.append("target: ≤ 50 µs per event")
    return table
