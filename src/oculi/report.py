"""The demo page: each scenario's timeline with the frames seen, cards shown and replies spoken.

Plain HTML with relative links into the replay folders, so the whole output folder can be opened
from disk, zipped or served as it is — no scripts, no network.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from oculi.devices.replay import ScenarioResult, StepResult, describe_input
from oculi.events import SpeechOut

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; background: #f4f5f7; color: #1d1f23; }
h1 { margin-bottom: .2rem; } .muted { color: #666; }
section { background: white; border-radius: 10px; padding: 1rem 1.5rem; margin: 1.5rem 0;
          box-shadow: 0 1px 3px rgba(0,0,0,.12); }
.badge { display: inline-block; padding: .1rem .6rem; border-radius: 1rem; font-size: .85rem;
         font-weight: 600; margin-left: .5rem; }
.pass { background: #d9f7e3; color: #11643a; } .fail { background: #fde0e0; color: #8c1d1d; }
table { border-collapse: collapse; width: 100%; }
td, th { border-top: 1px solid #e3e5e8; padding: .6rem; vertical-align: top; text-align: left; }
img.frame { width: 240px; border-radius: 6px; } img.card { width: 320px; border-radius: 6px; }
ul.checks { margin: .3rem 0; padding-left: 1.1rem; }
.ok { color: #11643a; } .bad { color: #8c1d1d; }
audio { width: 260px; display: block; margin: .3rem 0; }
"""


def write_index(results: list[ScenarioResult], out_dir: Path) -> Path:
    """Write `index.html` in `out_dir` for replays whose outputs lie in folders below it."""
    passed = sum(r.passed for r in results)
    sections = "\n".join(_section(r, out_dir) for r in results)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Oculi demo</title>
<style>{_STYLE}</style></head>
<body>
<h1>Oculi demo</h1>
<p class="muted">What the glasses saw, showed on the lens and said, scenario by scenario.
{passed} of {len(results)} replays passed.</p>
{sections}
</body></html>
"""
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _section(result: ScenarioResult, out_dir: Path) -> str:
    folder = result.out_dir.relative_to(out_dir).as_posix() if result.out_dir else "."
    verdict = _badge(result.passed)
    rows = "\n".join(_row(step, folder) for step in result.steps)
    return f"""<section>
<h2>{escape(result.scenario.name)} <span class="muted">· profile {escape(result.profile)}</span>
{verdict}</h2>
<p class="muted">{escape(result.scenario.description)}</p>
<table><tr><th>#</th><th>input</th><th>on the lens</th><th>in the ear</th><th>checks</th></tr>
{rows}
</table>
<p class="muted">Event log: <a href="{folder}/events.jsonl">{folder}/events.jsonl</a></p>
</section>"""


def _row(step: StepResult, folder: str) -> str:
    files = step.files
    label = f"<div class='muted'>{escape(step.step.label)}</div>" if step.step.label else ""
    shown = [
        f"<img class='frame' src='{folder}/{f}' alt='camera frame'>" for f in files.get("frame", [])
    ]
    what = f"<b>{escape(step.step.kind)}</b>: {escape(describe_input(step.step))}{label}"
    cards = "".join(
        f"<img class='card' src='{folder}/{f}' alt='HUD card'>" for f in files.get("card", [])
    )
    speech = "".join(
        f"<div>“{escape(text)}”</div><audio controls src='{folder}/{f}'></audio>"
        for text, f in zip(_spoken(step), files.get("speech", []), strict=False)
    )
    checks = "".join(
        f"<li class='{'ok' if c.passed else 'bad'}'>{'✔' if c.passed else '✘'} {escape(c.what)}"
        + ("" if c.passed else f"<div class='muted'>{escape(c.detail)}</div>")
        + "</li>"
        for c in step.checks
    )
    return (
        f"<tr><td>{step.step.number}</td><td>{what}{''.join(shown)}</td><td>{cards}</td>"
        f"<td>{speech}</td><td><ul class='checks'>{checks}</ul></td></tr>"
    )


def _spoken(step: StepResult) -> list[str]:
    return [e.text for e in step.events if isinstance(e, SpeechOut)]


def _badge(passed: bool) -> str:
    kind, text = ("pass", "passed") if passed else ("fail", "failed")
    return f"<span class='badge {kind}'>{text}</span>"
