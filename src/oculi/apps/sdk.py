"""The contract an app honours. Apps get intents and give answers; they never touch hardware.

This is the seed of the third-party SDK: an app names itself, ships its phrasings as data
(`intents.yaml` beside it), and turns an `Intent` into an `Answer` with a spoken form and,
for glasses with a display, a card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from oculi.events import Answer, Card, CardRow, Intent


class App(Protocol):
    name: str
    intents_file: Path | None
    """The app's phrasings (hassil templates, EN and ZH); None for apps reached only by tools."""

    async def handle(self, intent: Intent) -> Answer: ...


def message(
    app: str, action: str, speech: str, title: str, *lines: str, language: str = "en"
) -> Answer:
    """A plain answer: the words spoken, and a message card with a title and a few lines."""
    rows = tuple(CardRow(label=line) for line in lines)
    card = Card(layout="message", title=title, rows=rows)
    return Answer(app=app, action=action, speech=speech, card=card, language=language)
