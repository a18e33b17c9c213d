"""The HUD stage: draws each answer's card, on profiles that have a display."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from oculi.events import Answer, CardShown, Event
from oculi.hud.render import render_card
from oculi.runtime.profile import Display


class HudStage:
    name = "hud"

    def __init__(self, display: Display | None, card_seconds: float = 8.0) -> None:
        self._display = display
        self._seconds = card_seconds

    async def __call__(self, event: Event) -> Sequence[Event]:
        if self._display is None or not isinstance(event, Answer) or event.card is None:
            return ()
        png = await asyncio.to_thread(render_card, event.card, self._display)
        return (CardShown(card=event.card, png=png, width=self._display.width,
                          height=self._display.height, seconds=self._seconds),)  # fmt: skip
