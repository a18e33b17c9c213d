"""`oculi power report`: replay a scenario (or a day profile) and show what it costs."""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from oculi.errors import OculiError
from oculi.runtime.config import PROFILES, Config
from oculi.runtime.power.scheduler import NETWORKS, OFFLOAD, Policy

console = Console()


def add_commands(sub: Any) -> None:
    power = sub.add_parser("power", help="energy model: where work runs and what it costs")
    actions = power.add_subparsers(required=True, metavar="ACTION")
    report = actions.add_parser("report", help="replay a scenario and book its energy")
    report.add_argument("scenario", type=Path, nargs="?", help="scenario YAML")
    report.add_argument("--day", help="a day profile (typical_day or a YAML file) instead")
    report.add_argument("--profile", choices=PROFILES, help="device profile (default from config)")
    report.add_argument("--png", type=Path, help="save the timeline and component bar here")
    report.add_argument("--json", action="store_true", help="print the report as JSON")
    report.add_argument("--battery", type=float, default=100.0, help="start level in %%")
    report.add_argument("--offload", choices=OFFLOAD, default="phone")
    report.add_argument("--network", choices=NETWORKS, default="ble")
    report.add_argument("--naive", action="store_true", help="everything on the main SoC")
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace, config: Config) -> int:
    from oculi.runtime.power.report import power_run, render_png

    if (args.scenario is None) == (args.day is None):
        raise OculiError("give a SCENARIO file or --day NAME (one of them)")
    if not 0 <= args.battery <= 100:
        raise OculiError(f"--battery {args.battery:g}: must be within 0..100 %")
    if args.profile:
        config = config.with_overrides(profile=args.profile)
    policy = Policy(offload=args.offload, network=args.network, naive=args.naive)
    if args.day is not None:
        return _day(args, config, policy)
    run = power_run(config, args.scenario, policy, args.battery / 100)
    if args.png:
        render_png(run, args.png)
    if args.json:
        print(json.dumps(run.to_json(), indent=2))
    else:
        _print_run(run)
        if args.png:
            console.print(f"saved {args.png}")
    return 0 if run.passed else 1


def _print_run(run: Any) -> None:
    totals = run.totals
    console.print(
        f"[bold]{run.scenario}[/] · profile {totals.profile} · {totals.duration_s:.0f} s of "
        f"use · {totals.joules:.2f} J · average {totals.average_mw:.1f} mW"
    )
    for key, title in (("component", "energy by component"), ("app", "energy by app")):
        table = Table(title=title)
        table.add_column(key)
        table.add_column("J", justify="right")
        table.add_column("share", justify="right")
        for name, joules in sorted(totals.by(key).items(), key=lambda kv: -kv[1]):
            table.add_row(name, f"{joules:.3f}", f"{joules / totals.joules:.0%}")
        table.add_row("[bold]total[/]", f"[bold]{totals.joules:.3f}[/]", "100%")
        console.print(table)
    placed = ", ".join(
        f"{stage} → " + "/".join(f"{tier}×{n}" for tier, n in tiers.items())
        for stage, tiers in totals.to_json()["placements"].items()
    )
    console.print(f"placements: {placed}")
    console.print(f"main SoC wakes: {totals.soc_wakes} · camera wakes: {totals.camera_wakes}")
    if totals.degraded_events:
        console.print(
            f"low battery ({totals.degraded_events} events): {totals.frames_dropped} burst "
            f"frame(s) not taken, {totals.cards_suppressed} card(s) not drawn (display off, "
            "answers spoken), heavy work offloaded where cheaper, no cloud",
            style="yellow",
        )
    console.print(
        f"projected battery life for a day shaped like this scenario: [bold]{run.hours:.1f} h[/] "
        f"on {run.battery_joules / 3600:.2f} Wh delivered to the loads (model figures, not "
        "measurements)"
    )
    if not run.passed:
        why = " (cards were expected, but the display was off)" if totals.cards_suppressed else ""
        console.print(f"note: the scenario's expectations did not all pass{why}", style="yellow")


def _day(args: argparse.Namespace, config: Config, policy: Policy) -> int:
    from oculi.runtime.power.day import load_day, project_day
    from oculi.runtime.power.report import REPORTED_S1_HOURS, power_run
    from oculi.runtime.profile import load_profile

    day = load_day(args.day)
    policy = day.policy(policy)
    shipped = resources.files("oculi").joinpath("scenarios")
    runs = {}
    for name in day.scenarios:
        path = Path(str(shipped.joinpath(f"{name}.yaml")))
        if not path.is_file():
            raise OculiError(
                f"{day.where}: field 'activities.*.scenario': {name!r} is not shipped in "
                "oculi/scenarios"
            )
        runs[name] = power_run(config, path, policy, args.battery / 100)
    projection = project_day(day, load_profile(config.profile), runs, policy)
    if args.json:
        print(json.dumps(projection.to_json(), indent=2))
        return 0
    table = Table(title=f"{day.name} · {day.hours:g} h worn · profile {projection.profile}")
    for column in ("activity", "count", "J", "source"):
        table.add_column(column, justify="left" if column in ("activity", "source") else "right")
    for activity, count, joules, source in projection.rows:
        table.add_row(activity, f"{count:g}", f"{joules:.1f}", source)
    table.add_row(
        "always-on floor", f"{day.hours:g} h", f"{projection.standby_joules:.1f}", "model"
    )
    table.add_row("[bold]day[/]", "", f"[bold]{projection.joules:.1f}[/]", "")
    console.print(table)
    console.print(
        "by component: "
        + ", ".join(
            f"{name} {joules:.0f} J ({joules / projection.joules:.0%})"
            for name, joules in sorted(projection.components.items(), key=lambda kv: -kv[1])
            if joules > 0
        )
    )
    console.print(
        f"projected battery life: [bold]{projection.hours:.1f} h[/] of days like this "
        f"({projection.battery_joules / 3600:.2f} Wh delivered to the loads; "
        f"{projection.swaps} pack swap(s) for the {day.hours:g} h day). Reviewers report "
        f"~{REPORTED_S1_HOURS:g} h of mixed use for the "
        "Quark S1; ours is a model with estimated chip figures, not a measurement."
    )
    return 0
