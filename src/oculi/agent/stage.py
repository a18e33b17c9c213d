"""The agent stage: keeps what is in view and where the wearer is, and turns words into intents."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from oculi.agent.parser import IntentParser, detect_language
from oculi.events import BarcodeSeen, Event, GpsFix, Intent, TextInput, Utterance

IN_VIEW_SECONDS = 30.0
"""How long a product stays 'this' after the wearer last saw its code."""


@dataclass
class _Context:
    in_view: BarcodeSeen | None = None
    position: GpsFix | None = None


class AgentStage:
    name = "agent"

    def __init__(self, parser: IntentParser) -> None:
        self._parser = parser
        self._context = _Context()

    async def __call__(self, event: Event) -> Sequence[Event]:
        if isinstance(event, BarcodeSeen):
            self._context.in_view = event
            return ()
        if isinstance(event, GpsFix):
            self._context.position = event
            return ()
        if isinstance(event, Utterance | TextInput):
            return (self.understand(event.text),)
        return ()

    def understand(self, text: str) -> Intent:
        parsed = self._parser.parse(text)
        if parsed is None:
            return Intent(app="system", action="unknown", args={"language": detect_language(text)},
                          path="none", confidence=0.0, text=text)  # fmt: skip
        args: dict[str, object] = {"language": parsed.language}
        if "in_view" in parsed.uses:
            seen = self._context.in_view
            if seen is not None and time.time() - seen.t <= IN_VIEW_SECONDS:
                args["gtin"] = seen.gtin
        return Intent(app=parsed.app, action=parsed.action, args=args, path="parser", text=text)
