"""The vision stage: reads the code the wearer looks at in each camera frame."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from oculi.errors import PerceptionError
from oculi.events import Answer, BarcodeSeen, Card, CardRow, ErrorEvent, Event, Gaze, VideoFrame
from oculi.vision.barcode import ReadCode, decode_image, read_codes_near

UNSEEN_SPEECH = "I couldn't see that clearly."


class VisionStage:
    name = "vision"

    def __init__(self, gaze_window: float = 0.5) -> None:
        self._gaze: tuple[float, float] | None = None
        self._window = gaze_window

    async def __call__(self, event: Event) -> Sequence[Event]:
        if isinstance(event, Gaze):
            self._gaze = (event.x, event.y)
            return ()
        if not isinstance(event, VideoFrame):
            return ()
        try:
            codes = await asyncio.to_thread(self._read, event.image)
        except PerceptionError as err:
            return (
                ErrorEvent(stage=self.name, message=f"{event.source or 'frame'}: {err}"),
                Answer(
                    app="system",
                    action="unseen",
                    speech=UNSEEN_SPEECH,
                    card=Card(
                        layout="message",
                        title="Couldn't see that",
                        rows=(
                            CardRow(label="The camera frame was unreadable"),
                            CardRow(label="Try again"),
                        ),
                    ),
                ),
            )
        if not codes:
            return ()
        best = codes[0]
        return (
            BarcodeSeen(gtin=best.gtin, symbology=best.symbology, raw=best.raw, x=best.x, y=best.y),
        )

    def _read(self, data: bytes) -> list[ReadCode]:
        return read_codes_near(decode_image(data), self._gaze, self._window)
