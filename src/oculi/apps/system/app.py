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
        language = intent.args.get("language")
        speech = "抱歉，这个我还不会。" if language == "zh" else "Sorry, I can't do that yet."
        return message(self.name, "unknown", speech, "I can't do that yet", shown,
                       "Try: how much is this?", language=str(language or "en"))  # fmt: skip
