"""The speech stage: every answer is spoken, on every profile."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from oculi.audio.tts import SpeechEngine
from oculi.events import Answer, Event, SpeechOut


class SpeechStage:
    name = "speech"

    def __init__(self, engine: SpeechEngine) -> None:
        self._engine = engine

    async def __call__(self, event: Event) -> Sequence[Event]:
        if not isinstance(event, Answer):
            return ()
        audio = await asyncio.to_thread(self._engine.synthesize, event.speech)
        return (SpeechOut(text=event.speech, wav=audio.to_wav(), duration_s=audio.duration_s),)
