"""The agent stage: feeds the agent what the wearer sees and where they are, and their words."""

from __future__ import annotations

from collections.abc import Sequence

from oculi.agent.dialogue import Agent
from oculi.apps.sdk import Position
from oculi.events import BarcodeSeen, Event, GpsFix, QrSeen, TextInput, Utterance, VideoFrame


class AgentStage:
    name = "agent"

    def __init__(self, agent: Agent) -> None:
        self.agent = agent

    async def __call__(self, event: Event) -> Sequence[Event]:
        if isinstance(event, BarcodeSeen):
            self.agent.see(gtin=event.gtin)
        elif isinstance(event, VideoFrame) and event.media_type == "image/jpeg":
            self.agent.see(image=event.image)
        elif isinstance(event, GpsFix):
            return await self.agent.moved(Position(event.lat, event.lon, event.accuracy_m), event.t)
        elif isinstance(event, QrSeen):
            self.agent.see(payload=event.payload)
        elif isinstance(event, Utterance):
            return await self.agent.handle(event.text, own_voice=event.own_voice_score)
        elif isinstance(event, TextInput):
            return await self.agent.handle(event.text)
        return ()
