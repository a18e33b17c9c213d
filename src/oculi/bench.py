"""`oculi bench`: benchmarks are scripts in `benchmarks/`, each printing one table.

A benchmark module defines `NAME`, `DESCRIPTION` and `run(runs, advance, options)` returning one
`BenchTable` or a list of them; `options` are the `--set KEY=VALUE` pairs of the command line.
Timing targets live there, never in tests.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import oculi
from oculi.errors import OculiError


@dataclass
class BenchTable:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    samples_ms: dict[str, list[float]] = field(default_factory=dict)
    """Raw latencies by measure, for histograms; empty for tables that are not latencies."""
    figures: dict[str, bytes] = field(default_factory=dict)
    """PNG images the benchmark drew, by file name; saved with `--plot DIR`."""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "columns": self.columns,
                "rows": self.rows, "notes": self.notes, "samples_ms": self.samples_ms}  # fmt: skip


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation, as numpy's default."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def latency_row(label: str, seconds: Sequence[float]) -> list[Any]:
    """label, n, p50, p95, mean — in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return [label, len(ms), round(percentile(ms, 50), 2), round(percentile(ms, 95), 2),
            round(statistics.fmean(ms), 2)]  # fmt: skip


def benchmarks_dir() -> Path:
    """`benchmarks/` in the current folder, else the one beside the installed source tree."""
    for candidate in (Path.cwd() / "benchmarks", Path(oculi.__file__).parents[2] / "benchmarks"):
        if candidate.is_dir():
            return candidate
    raise OculiError("no benchmarks/ folder here or beside the Oculi source; run from the repo")


def discover(folder: Path) -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"oculi_bench_{path.stem}", path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses in a benchmark look their module up
        spec.loader.exec_module(module)
        if hasattr(module, "NAME") and hasattr(module, "run"):
            found[module.NAME] = module
    return found


def run_benchmarks(
    names: Sequence[str],
    runs: int,
    advance_factory: Callable[[str, int], Callable[[], None]],
    options: dict[str, str] | None = None,
) -> list[BenchTable]:
    modules = discover(benchmarks_dir())
    unknown = [n for n in names if n not in modules]
    if unknown:
        raise OculiError(f"unknown benchmark {unknown[0]!r}; available: {', '.join(modules)}")
    tables = []
    for name in names or list(modules):
        module = modules[name]
        result = module.run(runs, advance_factory(name, runs), dict(options or {}))
        produced = result if isinstance(result, list) else [result]
        if not all(isinstance(t, BenchTable) for t in produced):
            raise OculiError(f"benchmark {name} did not return BenchTables")
        tables.extend(produced)
    return tables


def save_json(tables: Sequence[BenchTable], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([t.to_json() for t in tables], indent=2), encoding="utf-8")
