"""The speech stage: every answer is spoken, on every profile, in the language it was asked in."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from oculi.audio.tts import SpeechEngine
from oculi.events import Answer, Event, SpeechOut


class SpeechStage:
    name = "speech"

    def __init__(self, engine: SpeechEngine, by_language: Mapping[str, SpeechEngine] | None = None):
        self._engine = engine
        self._by_language = dict(by_language or {})

    async def __call__(self, event: Event) -> Sequence[Event]:
        if not isinstance(event, Answer):
            return ()
        engine = self._by_language.get(event.language, self._engine)
        audio = await asyncio.to_thread(engine.synthesize, event.speech)
        return (SpeechOut(text=event.speech, wav=audio.to_wav(), duration_s=audio.duration_s),)
