"""The async event bus and the stage contract.

A stage is an async callable from one event to the events it produces. The bus hands each event
to all stages at once (they own their state, so they can work side by side: the card is drawn
while the reply is synthesised), tells listeners about each output as soon as it exists, and feeds
outputs back in stage order until nothing new comes out, so a replay is deterministic. A stage
that raises becomes an `ErrorEvent`; the session carries on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from oculi.errors import OculiError
from oculi.events import ErrorEvent, Event

log = logging.getLogger(__name__)

TIMINGS_KEPT = 10_000
MAX_EVENTS_PER_INPUT = 1000
"""A guard against stages that answer each other forever."""


class Stage(Protocol):
    """The contract every pipeline stage honours."""

    name: str

    async def __call__(self, event: Event) -> Sequence[Event]: ...


@dataclass(frozen=True)
class StageTiming:
    """How long one stage spent on one event, for benchmarks and the power ledger."""

    stage: str
    event_kind: str
    seconds: float


@dataclass
class EventBus:
    """Delivers events to stages one at a time, in arrival order."""

    stages: list[Stage]
    listeners: list[Callable[[Event], Awaitable[None] | None]] = field(default_factory=list)
    timings: deque[StageTiming] = field(default_factory=lambda: deque(maxlen=TIMINGS_KEPT))
    """The most recent stage timings; bounded, since a session may run all day."""
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def publish(self, event: Event) -> list[Event]:
        """Process one input event to quiescence; returns it and everything it caused, in order."""
        async with self._lock:
            await self._notify(event)
            queue: deque[Event] = deque([event])
            seen: list[Event] = []
            while queue:
                current = queue.popleft()
                seen.append(current)
                if len(seen) > MAX_EVENTS_PER_INPUT:
                    raise OculiError(
                        f"stages produced over {MAX_EVENTS_PER_INPUT} events for one input"
                    )
                outputs = await asyncio.gather(*(self._emit(s, current) for s in self.stages))
                for produced in outputs:
                    queue.extend(produced)
            return seen

    async def _emit(self, stage: Stage, event: Event) -> Sequence[Event]:
        produced = await self._run_stage(stage, event)
        for output in produced:
            await self._notify(output)
        return produced

    async def _run_stage(self, stage: Stage, event: Event) -> Sequence[Event]:
        start = time.perf_counter()
        try:
            produced = await stage(event)
        except OculiError as err:
            produced = [ErrorEvent(stage=stage.name, message=str(err))]
        except Exception as err:  # a bug in a stage must not end the wearer's session
            log.exception("stage %s failed on %s", stage.name, event.kind)
            produced = [ErrorEvent(stage=stage.name, message=f"internal error: {err!r}")]
        if produced:
            self.timings.append(StageTiming(stage.name, event.kind, time.perf_counter() - start))
        return produced

    async def _notify(self, event: Event) -> None:
        for listener in self.listeners:
            result = listener(event)
            if result is not None:
                await result
