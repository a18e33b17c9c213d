"""Replay a scenario through a session: feed each step, check its expectations, keep the outputs.

The output folder holds what a person would want to look at afterwards: the event log (JSONL),
every card as a PNG, every spoken reply as a WAV, the input frames, and `result.json` for reports.
"""

from __future__ import annotations

import json
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oculi.events import (
    Answer,
    AudioChunk,
    CardShown,
    ErrorEvent,
    Event,
    Gaze,
    GpsFix,
    SpeechOut,
    TextInput,
    Touch,
    Utterance,
    VideoFrame,
)
from oculi.runtime.session import Session
from oculi.services.demo_catalog import demo_product
from oculi.vision.synthetic import (
    PackSpec,
    render_merchant_code_photo,
    render_pack_photo,
    to_jpeg,
)

from .scenario import Expect, Scenario, Step

AUDIO_HOP_S = 0.02
"""Audio is fed in 20 ms chunks, as the glasses stream it."""


@dataclass(frozen=True)
class Check:
    what: str
    passed: bool
    detail: str = ""


@dataclass
class StepResult:
    step: Step
    events: list[Event]
    checks: list[Check] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)
    """Output files by role (`frame`, `card`, `speech`), relative to the output folder."""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def answers(self) -> list[str]:
        """What the glasses said in reply to this step."""
        return [e.speech for e in self.events if isinstance(e, Answer)]


@dataclass
class ScenarioResult:
    scenario: Scenario
    profile: str
    steps: list[StepResult]
    out_dir: Path | None

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.steps)

    @property
    def checks(self) -> list[Check]:
        return [c for s in self.steps for c in s.checks]

    def summary(self) -> dict[str, Any]:
        """The JSON summary written beside the outputs; reports read it."""
        return {
            "scenario": self.scenario.name,
            "description": self.scenario.description,
            "profile": self.profile,
            "passed": self.passed,
            "steps": [
                {
                    "number": s.step.number,
                    "kind": s.step.kind,
                    "input": describe_input(s.step),
                    "label": s.step.label,
                    "passed": s.passed,
                    "checks": [vars(c) for c in s.checks],
                    "files": s.files,
                    "answers": s.answers,
                    "errors": [e.message for e in s.events if isinstance(e, ErrorEvent)],
                }
                for s in self.steps
            ],
        }


def describe_input(step: Step) -> str:
    if step.kind == "frame" and isinstance(step.value, dict):
        if "qr" in step.value:
            return f"QR code of {step.value.get('merchant') or 'a merchant'}"
        return f"photo of pack {step.value['pack']}"
    if isinstance(step.value, Path):
        return step.value.name
    return str(step.value)


def step_events(step: Step, start: float | None = None) -> Iterator[Event]:
    """The sensor events a step stands for; `start` is the scenario clock's zero (Unix time)."""
    if step.kind == "say":
        yield Utterance(text=step.value, source="script")
    elif step.kind == "type":
        yield TextInput(text=step.value)
    elif step.kind == "gaze":
        yield Gaze(x=step.value[0], y=step.value[1])
    elif step.kind == "gps":
        if len(step.value) == 3:
            yield GpsFix(lat=step.value[0], lon=step.value[1], t=(start or 0.0) + step.value[2])
        else:
            yield GpsFix(lat=step.value[0], lon=step.value[1])
    elif step.kind == "touch":
        yield Touch(gesture=step.value)
    elif step.kind == "frame":
        yield _frame_event(step.value)
    elif step.kind == "audio":
        yield from _audio_events(step.value)


def _frame_event(value: Path | dict[str, Any]) -> VideoFrame:
    if isinstance(value, Path):
        media = "image/png" if value.suffix.lower() == ".png" else "image/jpeg"
        return VideoFrame(image=value.read_bytes(), media_type=media, source=value.name)
    if "qr" in value:
        stand = render_merchant_code_photo(
            value["qr"],
            merchant=str(value.get("merchant", "")),
            rotate_deg=float(value.get("rotate", 4.0)),
            blur=float(value.get("blur", 0.8)),
            seed=int(value.get("seed", 0)),
            centre=value.get("centre", (0.5, 0.5)),
        )
        return VideoFrame(image=to_jpeg(stand), source="merchant-code.jpg")
    photo = render_pack_photo(
        _pack(value["pack"]),
        neighbour=_pack(value["neighbour"]) if "neighbour" in value else None,
        rotate_deg=float(value.get("rotate", 6.0)),
        blur=float(value.get("blur", 1.0)),
        seed=int(value.get("seed", 0)),
        centre=value.get("centre", (0.55, 0.5)),
    )
    return VideoFrame(image=to_jpeg(photo), source=f"pack-{value['pack']}.jpg")


def _pack(gtin: str) -> PackSpec:
    product = demo_product(gtin)
    if product is None:
        return PackSpec(gtin=gtin, name="Unlisted product", brand="No Name", colour=(120, 120, 120))
    return PackSpec(gtin=gtin, name=product.name, brand=product.brand, colour=product.colour)


def _audio_events(path: Path) -> Iterator[AudioChunk]:
    """The file as the glasses would stream it; the last chunk closes the stream."""
    with wave.open(str(path), "rb") as wav:
        rate, channels = wav.getframerate(), wav.getnchannels()
        hop = max(1, int(rate * AUDIO_HOP_S))
        total = wav.getnframes()
        sent = 0
        while frames := wav.readframes(hop):
            sent += len(frames) // (2 * channels)
            yield AudioChunk(pcm=frames, sample_rate=rate, channels=channels, last=sent >= total)


async def replay(
    scenario: Scenario,
    session: Session,
    out_dir: Path | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> ScenarioResult:
    """Feed every step to the session in order and check each step's expectations."""
    writer = _OutputWriter(out_dir) if out_dir is not None else None
    results: list[StepResult] = []
    start = time.time()
    try:
        for step in scenario.steps:
            produced: list[Event] = []
            for event in step_events(step, start):
                produced.extend(await session.feed(event))
            result = StepResult(step, produced)
            if step.expect is not None:
                result.checks = check_expectations(
                    step.expect, produced, session.profile.has_display
                )
            if writer is not None:
                result.files = writer.write_step(step.number, produced)
            results.append(result)
            if on_step is not None:
                on_step(result)
    finally:
        if writer is not None:
            writer.close()
    outcome = ScenarioResult(scenario, session.profile.name, results, out_dir)
    if out_dir is not None:
        (out_dir / "result.json").write_text(json.dumps(outcome.summary(), indent=2), "utf-8")
    return outcome


def check_expectations(expect: Expect, events: list[Event], has_display: bool) -> list[Check]:
    answers = [e for e in events if isinstance(e, Answer)]
    cards = [e for e in events if isinstance(e, CardShown)]
    speech = [e for e in events if isinstance(e, SpeechOut)]
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    checks: list[Check] = []
    if expect.app is not None:
        apps = [a.app for a in answers]
        checks.append(
            Check(f"app is {expect.app}", expect.app in apps, f"answered by {apps or 'nobody'}")
        )
    if expect.action is not None:
        actions = [a.action for a in answers]
        checks.append(
            Check(f"action is {expect.action}", expect.action in actions, f"actions {actions}")
        )
    if expect.speech_contains is not None:
        said = " | ".join(s.text for s in speech)
        ok = expect.speech_contains.lower() in said.lower()
        checks.append(
            Check(f"speech contains {expect.speech_contains!r}", ok, said or "nothing said")
        )
    if expect.card_contains is not None and has_display:
        texts = [card_text(c) for c in cards]
        ok = any(expect.card_contains.lower() in t.lower() for t in texts)
        checks.append(
            Check(f"card contains {expect.card_contains!r}", ok, " | ".join(texts) or "no card")
        )
    if expect.no_card or (expect.card_contains is not None and not has_display):
        why = "no card" if expect.no_card else "no card (profile has no display)"
        checks.append(Check(why, not cards, f"{len(cards)} card(s) shown"))
    if expect.error_contains is not None:
        messages = " | ".join(e.message for e in errors)
        ok = expect.error_contains.lower() in messages.lower()
        checks.append(
            Check(f"error mentions {expect.error_contains!r}", ok, messages or "no error")
        )
    return checks


def card_text(event: CardShown) -> str:
    card = event.card
    rows = " ".join(f"{r.label} {r.value}" for r in card.rows)
    return " ".join(part for part in (card.title, card.subtitle, rows, card.footer) if part)


class _OutputWriter:
    """Writes the event log and media files of one replay."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        for sub in ("frames", "cards", "speech"):
            (out_dir / sub).mkdir(parents=True, exist_ok=True)
        self._log = (out_dir / "events.jsonl").open("w", encoding="utf-8")

    def write_step(self, number: int, events: list[Event]) -> dict[str, list[str]]:
        files: dict[str, list[str]] = {"frame": [], "card": [], "speech": []}
        for i, event in enumerate(events, start=1):
            self._log.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")
            name = f"step{number:02d}-{i:02d}"
            if isinstance(event, VideoFrame):
                suffix = ".png" if event.media_type == "image/png" else ".jpg"
                files["frame"].append(self._save(f"frames/{name}{suffix}", event.image))
            elif isinstance(event, CardShown):
                files["card"].append(self._save(f"cards/{name}.png", event.png))
            elif isinstance(event, SpeechOut):
                files["speech"].append(self._save(f"speech/{name}.wav", event.wav))
        self._log.flush()
        return {role: names for role, names in files.items() if names}

    def _save(self, relative: str, data: bytes) -> str:
        (self.out_dir / relative).write_bytes(data)
        return relative

    def close(self) -> None:
        self._log.close()
