"""Driving a real agent by text in app tests: one parser per set of intent files, and the
events of a turn picked apart the same way in every test file."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from oculi.agent.dialogue import Agent
from oculi.agent.parser import IntentParser
from oculi.events import Answer, Card, ErrorEvent, Event, Intent

APPS = Path(__file__).resolve().parents[2] / "src" / "oculi" / "apps"
ALL_INTENTS = [
    APPS / name / "intents.yaml"
    for name in ("shop", "system", "notes", "camera", "translate", "ask")
]
"""Intent files of apps whose phrasings could be confused with each other's."""


@functools.cache
def parser_for(*intent_files: Path) -> IntentParser:
    """Parsers hold no session state: one per set of files keeps the tests fast."""
    return IntentParser(list(intent_files))


def say(agent: Agent, text: str) -> list[Event]:
    return asyncio.run(agent.handle(text))


def answer(events: list[Event]) -> Answer:
    return [e for e in events if isinstance(e, Answer)][-1]


def intent(events: list[Event]) -> Intent:
    return [e for e in events if isinstance(e, Intent)][-1]


def errors(events: list[Event]) -> list[ErrorEvent]:
    return [e for e in events if isinstance(e, ErrorEvent)]


def assert_fits_lens(card: Card | None) -> None:
    assert card is not None
    assert len(card.title) <= 28, card.title
    assert len(card.rows) <= 5
    for row in card.rows:
        assert len(row.label) + len(row.value) <= 36, row
