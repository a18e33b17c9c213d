"""A session's input queue: camera frames coalesce (newest wins), nothing else is ever dropped.

The camera streams faster than vision can read frames on a busy companion; an old frame is worth
nothing once a newer one exists, but every audio chunk and every tap matters. A newer frame takes
the waiting frame's place, so a question queued right after the old frame still sees one.
"""

from __future__ import annotations

import asyncio
from collections import deque

from oculi.events import Event, VideoFrame


class InputQueue:
    """Bounded by count for everything but frames: `put` waits for room instead of dropping."""

    def __init__(self, max_pending: int) -> None:
        self._items: deque[Event] = deque()
        self._max = max_pending
        self._changed = asyncio.Condition()
        self.video_dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    async def put(self, event: Event) -> None:
        async with self._changed:
            if isinstance(event, VideoFrame) and self._replace_waiting_frame(event):
                return
            await self._changed.wait_for(lambda: len(self._items) < self._max)
            self._items.append(event)
            self._changed.notify_all()

    async def get(self) -> Event:
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._items))
            event = self._items.popleft()
            self._changed.notify_all()
            return event

    def _replace_waiting_frame(self, frame: VideoFrame) -> bool:
        for i, waiting in enumerate(self._items):
            if isinstance(waiting, VideoFrame):
                self._items[i] = frame
                self.video_dropped += 1
                return True
        return False
