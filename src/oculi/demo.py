"""`oculi demo`: every shipped scenario on both profiles, with a page to look at afterwards."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from oculi.apps.pay.demo import prepare_demo_wallet
from oculi.devices.replay import ScenarioResult, StepResult, replay
from oculi.devices.scenario import Scenario, load_scenario
from oculi.report import write_index
from oculi.runtime.config import PROFILES, Config
from oculi.runtime.session import Session
from oculi.services.catalog import init_catalog


def shipped_scenarios() -> list[Path]:
    folder = resources.files("oculi.scenarios")
    return sorted(Path(str(folder.joinpath(name.name))) for name in folder.iterdir()
                  if name.name.endswith(".yaml"))  # fmt: skip


@dataclass(frozen=True)
class DemoRun:
    results: list[ScenarioResult]
    index: Path

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)


def run_demo(config: Config, out_dir: Path, console: Console) -> DemoRun:
    """Replay each shipped scenario for each profile on a fresh demo catalog inside `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    catalog_path = out_dir / "catalog.sqlite3"
    init_catalog(catalog_path, force=True)
    data_dir = out_dir / "data"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    prepare_demo_wallet(data_dir)
    config = config.with_overrides(catalog__path=str(catalog_path), data_dir=str(data_dir))
    scenarios = [load_scenario(p) for p in shipped_scenarios()]
    jobs = [(s, p) for s in scenarios for p in PROFILES]
    results: list[ScenarioResult] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("replaying scenarios", total=sum(len(s.steps) for s, _ in jobs))
        for scenario, profile in jobs:
            progress.update(task, description=f"{scenario.name} [{profile}]")
            results.append(_replay_one(scenario, config, profile, out_dir,
                                       lambda _: progress.advance(task)))  # fmt: skip
    return DemoRun(results, write_index(results, out_dir))


def _replay_one(
    scenario: Scenario,
    config: Config,
    profile: str,
    out_dir: Path,
    on_step: Callable[[StepResult], None],
) -> ScenarioResult:
    session = Session(config.with_overrides(profile=profile))
    try:
        target = out_dir / f"{scenario.path.stem}-{profile}"
        return asyncio.run(replay(scenario, session, target, on_step))
    finally:
        session.close()
