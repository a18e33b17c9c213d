"""The power report: replay a scenario with the ledger attached, project the battery, draw it.

Figures are from the model in the device profile, not from measurements on glasses.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from oculi.devices.replay import replay
from oculi.devices.scenario import Scenario, load_scenario
from oculi.fonts import ui_font
from oculi.runtime.config import Config
from oculi.runtime.power.ledger import EnergyLedger, Entry, LedgerTotals
from oculi.runtime.power.scheduler import Policy

REPORTED_S1_HOURS = 7.0
"""Reviewers' figure for the Quark S1 in mixed use; ours is a model, this is a measurement."""


@dataclass
class PowerRun:
    scenario: str
    passed: bool
    answers: int
    totals: LedgerTotals
    battery_joules: float

    @property
    def hours(self) -> float:
        """Battery life if the whole day looked like this scenario (all packs, from full)."""
        watts = self.totals.average_mw / 1000
        return self.battery_joules / watts / 3600 if watts > 0 else float("inf")

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "passed": self.passed,
            "answers": self.answers,
            "battery_wh": round(self.battery_joules / 3600, 3),
            "projected_hours": round(self.hours, 2),
            **self.totals.to_json(),
        }


def power_run(
    config: Config, scenario_path: Path, policy: Policy | None = None, level: float = 1.0
) -> PowerRun:
    """Replay one scenario through a real session with an energy ledger listening."""

    from oculi.apps.pay.demo import prepare_demo_wallet

    scenario = load_scenario(scenario_path)
    with tempfile.TemporaryDirectory() as sandbox:  # a rehearsal: never the wearer's own data
        prepare_demo_wallet(Path(sandbox))
        return _measure(config.with_overrides(data_dir=sandbox), scenario, policy, level)


def _measure(config: Config, scenario: Scenario, policy: Policy | None, level: float) -> PowerRun:
    from oculi.runtime.session import Session

    session = Session(config)
    try:
        ledger = EnergyLedger(session.profile, policy, level)
        ledger.attach(session)
        result = asyncio.run(replay(scenario, session))
    finally:
        session.close()
    answers = sum(len(step.answers) for step in result.steps)
    totals = ledger.finish()
    return PowerRun(scenario.name, result.passed, answers, totals, ledger.model.battery.joules)


SERIES: dict[str, tuple[tuple[int, int, int], Callable[[Entry], bool]]] = {
    "low-power core": ((70, 130, 180), lambda e: e.component == "low_power_core"),
    "main SoC": ((200, 60, 40), lambda e: e.component == "main_soc"),
    "phone (radio)": ((20, 140, 60), lambda e: e.tier == "phone"),
    "cloud (radio)": ((150, 80, 170), lambda e: e.tier == "cloud"),
    "camera": ((220, 150, 30), lambda e: e.component == "camera"),
    "display": ((40, 190, 170), lambda e: e.component == "display"),
    "audio I/O": ((120, 120, 120), lambda e: e.component in ("microphones", "speaker")),
    "baseline": ((200, 200, 200), lambda e: e.component == "baseline"),
}
COMPONENT_COLOURS = {
    "low_power_core": (70, 130, 180), "main_soc": (200, 60, 40), "radio": (20, 140, 60),
    "camera": (220, 150, 30), "display": (40, 190, 170), "microphones": (120, 120, 120),
    "speaker": (90, 90, 160), "baseline": (200, 200, 200),
}  # fmt: skip


def series_of(entry: Entry) -> str:
    for name, (_, test) in SERIES.items():
        if test(entry):
            return name
    return "baseline"


def timeline(totals: LedgerTotals, bins: int = 200) -> dict[str, list[float]]:
    """Mean power (mW) per bin by series; each entry's energy spread evenly over its interval."""
    width = max(totals.duration_s, 1e-3) / bins
    series = {name: [0.0] * bins for name in SERIES}
    for e in totals.entries:
        row = series[series_of(e)]
        span = e.t1 - e.t0
        first, last = int(e.t0 / width), min(int(e.t1 / width), bins - 1)
        for b in range(max(first, 0), last + 1):
            overlap = min(e.t1, (b + 1) * width) - max(e.t0, b * width)
            if overlap > 0:
                row[b] += e.joules * overlap / span / width * 1000
    return series


def render_png(run: PowerRun, path: Path) -> Path:
    """A stacked timeline of power by tier and peripheral, and a stacked bar by component."""
    w, h = 1000, 560
    image = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(image)
    totals = run.totals
    title = (f"{run.scenario} · profile {totals.profile} · {totals.joules:.2f} J in "
             f"{totals.duration_s:.0f} s · avg {totals.average_mw:.0f} mW · "
             f"{run.hours:.1f} h projected (model)")  # fmt: skip
    draw.text((20, 12), title, fill="black", font=ui_font(16))
    _timeline_panel(draw, totals, (70, 60, w - 40, 340))
    _component_bar(draw, totals, (70, 420, w - 40, 460))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


def _timeline_panel(draw: ImageDraw.ImageDraw, totals: LedgerTotals, box: tuple[int, ...]) -> None:
    x0, y0, x1, y1 = box
    data = timeline(totals, bins=x1 - x0)
    stacked = [sum(vals) for vals in zip(*data.values(), strict=True)]
    peak = max(stacked or [1.0]) * 1.1 or 1.0
    font = ui_font(12)
    base = [0.0] * len(stacked)
    for name, values in data.items():
        colour = SERIES[name][0]
        for i, v in enumerate(values):
            if v <= 0:
                continue
            top, bottom = base[i] + v, base[i]
            draw.line([(x0 + i, y1 - top / peak * (y1 - y0)), (x0 + i, y1 - bottom / peak *
                       (y1 - y0))], fill=colour)  # fmt: skip
            base[i] = top
    draw.rectangle([x0, y0, x1, y1], outline=(150, 150, 150))
    for tick in range(5):
        value = peak * tick / 4
        y = y1 - value / peak * (y1 - y0)
        draw.text((x0 - 6, y), f"{value:.0f}", fill="black", font=font, anchor="rm")
    draw.text((x0, y0 - 16), "power by tier and peripheral (mW)", fill="black", font=font)
    draw.text((x0, y1 + 4), "0 s", fill="black", font=font)
    draw.text((x1, y1 + 4), f"{totals.duration_s:.0f} s", fill="black", font=font, anchor="ra")
    for i, (name, (colour, _)) in enumerate(SERIES.items()):
        x = x0 + i * 115
        draw.rectangle([x, y1 + 24, x + 14, y1 + 36], fill=colour)
        draw.text((x + 18, y1 + 24), name, fill="black", font=font)


def _component_bar(draw: ImageDraw.ImageDraw, totals: LedgerTotals, box: tuple[int, ...]) -> None:
    x0, y0, x1, y1 = box
    parts = totals.by("component")
    total = sum(parts.values()) or 1.0
    font = ui_font(12)
    draw.text((x0, y0 - 18), "energy by component (J)", fill="black", font=font)
    x = float(x0)
    for i, (name, joules) in enumerate(sorted(parts.items(), key=lambda kv: -kv[1])):
        width = joules / total * (x1 - x0)
        colour = COMPONENT_COLOURS.get(name, (90, 90, 90))
        draw.rectangle([x, y0, x + width, y1], fill=colour, outline="white")
        lx = x0 + (i % 4) * 230
        ly = y1 + 8 + (i // 4) * 18
        draw.rectangle([lx, ly, lx + 12, ly + 12], fill=colour)
        draw.text((lx + 16, ly), f"{name} {joules:.2f} J ({joules / total:.0%})", fill="black",
                  font=font)  # fmt: skip
        x += width
