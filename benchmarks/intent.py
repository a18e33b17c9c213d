"""Understanding without a network: app and action accuracy, and latency, per tier.

The labelled set (benchmarks/data/intents.tsv, EN and ZH) mixes template phrasings, paraphrases
the templates miss, requests padded with filler words, and ASR-style slips. Each utterance goes
through the local tiers exactly as the agent runs them — templates first, then the nearest
labelled example — and, with `--set llm_url=URL`, the rest through an OpenAI-compatible model.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oculi.bench import BenchTable, latency_row
from oculi.runtime.config import load_config
from oculi.runtime.session import Session

NAME = "intent"
DESCRIPTION = "intent accuracy per tier (parser, embedding) and latency, EN+ZH labelled set"
DATA = Path(__file__).with_name("data") / "intents.tsv"


@dataclass(frozen=True)
class Labelled:
    language: str
    kind: str
    app: str
    action: str
    text: str


def load_set(path: Path = DATA) -> list[Labelled]:
    """`language<TAB>kind<TAB>app.action<TAB>text` lines; `#` starts a comment."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 4 or "." not in parts[2]:
            raise ValueError(f"{path.name}:{number}: expected language, kind, app.action, text")
        app, action = parts[2].split(".", 1)
        items.append(Labelled(parts[0], parts[1], app, action, parts[3]))
    return items


def run(runs: int, advance: Callable[[], None], options: dict[str, str]) -> list[BenchTable]:
    items = load_set()
    with tempfile.TemporaryDirectory() as data:
        env = {"OCULI_DATA_DIR": data}
        if "llm_url" in options:
            env["OCULI_AGENT__LLM_URL"] = options["llm_url"]
            env["OCULI_AGENT__LLM_MODEL"] = options.get("llm_model", "qwen-plus")
        if "threshold" in options:
            env["OCULI_AGENT__EMBEDDING_THRESHOLD"] = options["threshold"]
        session = Session(load_config(env=env))
        try:
            return asyncio.run(_measure(session, items, advance))
        finally:
            session.close()


async def _measure(
    session: Session, items: list[Labelled], advance: Callable[[], None]
) -> list[BenchTable]:
    agent = session.agent
    if agent.index is not None:
        agent.index.warm_up()
    seconds: dict[str, list[float]] = defaultdict(list)
    outcome: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    by_kind: dict[tuple[str, str], list[bool]] = defaultdict(list)
    misses: list[str] = []
    for item in items:
        start = time.perf_counter()
        parsed = agent.parser.parse(item.text)
        seconds["parser"].append(time.perf_counter() - start)
        if parsed is None and agent.index is not None:
            start = time.perf_counter()
            agent.index.decide(item.text)
            seconds["embedding"].append(time.perf_counter() - start)
        understood = await agent.understand(item.text, parsed)
        decision = None
        if understood is not None:
            decision = (understood.app, understood.action, understood.path)
        if decision is None and agent.llm is not None:
            start = time.perf_counter()
            events = await agent.handle(item.text)
            seconds["llm"].append(time.perf_counter() - start)
            intents = [e for e in events if e.kind == "intent"]
            got = (getattr(intents[-1], "app", "system"), getattr(intents[-1], "action", "unknown"))
            path = "llm"
        elif decision is None:
            got, path = ("system", "unknown"), "none"
        else:
            got, path = (decision[0], decision[1]), decision[2]
        app_ok, action_ok = got[0] == item.app, got == (item.app, item.action)
        outcome[path].append((app_ok, action_ok))
        by_kind[(item.language, item.kind)].append(app_ok)
        if not app_ok:
            misses.append(f"{item.text!r} → {got[0]}.{got[1]} (want {item.app}.{item.action})")
        advance()
    return [_accuracy_table(outcome, by_kind, len(items), misses), _latency_table(seconds)]


def _accuracy_table(
    outcome: dict[str, list[tuple[bool, bool]]],
    by_kind: dict[tuple[str, str], list[bool]],
    total: int,
    misses: list[str],
) -> BenchTable:
    table = BenchTable(NAME, "Intent accuracy without an LLM (labelled set)",
                       ["slice", "n", "share %", "app acc %", "action acc %"])  # fmt: skip
    everything = [r for results in outcome.values() for r in results]
    for path in ("parser", "embedding", "llm", "none", "all"):
        results = everything if path == "all" else outcome.get(path, [])
        if not results:
            continue
        apps = sum(a for a, _ in results)
        actions = sum(b for _, b in results)
        table.rows.append([f"path {path}", len(results), round(100 * len(results) / total, 1),
                           round(100 * apps / len(results), 1),
                           round(100 * actions / len(results), 1)])  # fmt: skip
    for (language, kind), results in sorted(by_kind.items()):
        table.rows.append([f"{language} {kind}", len(results),
                           round(100 * len(results) / total, 1),
                           round(100 * sum(results) / len(results), 1), ""])  # fmt: skip
    table.notes.append("target: app accuracy ≥ 97 % without an LLM (path all)")
    table.notes.extend(f"miss: {m}" for m in misses[:25])
    return table


def _latency_table(seconds: dict[str, list[float]]) -> BenchTable:
    table = BenchTable(f"{NAME}-latency", "Understanding latency per tier (ms)",
                       ["tier", "n", "p50", "p95", "mean"])  # fmt: skip
    for tier in ("parser", "embedding", "llm"):
        if seconds.get(tier):
            table.rows.append(latency_row(tier, seconds[tier]))
            table.samples_ms[tier] = [s * 1000 for s in seconds[tier]]
    table.notes.append("targets: parser p50 ≤ 5 ms, embedding p50 ≤ 30 ms")
    return table
