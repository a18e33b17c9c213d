"""The system app: the polite answer when nothing else fits."""

from __future__ import annotations

from pathlib import Path

from oculi.apps.sdk import message
from oculi.events import Answer, Intent


class SystemApp:
    name = "system"
    intents_file: Path | None = None

    async def handle(self, intent: Intent) -> Answer:
        heard = intent.text.strip()
        shown = f'"{heard[:60]}"' if heard else "(nothing heard)"
        return message(self.name, "unknown", "Sorry, I can't do that yet.",
                       "I can't do that yet", shown, "Try: how much is this?")  # fmt: skip
