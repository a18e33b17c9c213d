"""The vision stage: reads the code the wearer looks at in each camera frame.

Only the fast path runs per frame (the multi-pass barcode reader and QR codes, tens of
milliseconds), so the price-check slice stays quick. OCR and picture matching cost hundreds of
milliseconds and run only when the wearer asks about a product and no code was read: an app
calls `identify_in_view` with the frame it got through `ctx.in_view.image`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from oculi.errors import PerceptionError
from oculi.events import (
    Answer,
    BarcodeSeen,
    Card,
    CardRow,
    ErrorEvent,
    Event,
    Gaze,
    QrSeen,
    VideoFrame,
)
from oculi.services.catalog import Catalog
from oculi.vision.barcode import ReadCode, decode_image, read_codes_near
from oculi.vision.identify import Identification, identify, open_pictures
from oculi.vision.qr import ReadQr, read_qr_codes

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
        seen: list[Event] = []
        if codes[0]:
            best = codes[0][0]
            seen.append(BarcodeSeen(gtin=best.gtin, symbology=best.symbology, raw=best.raw,
                                    x=best.x, y=best.y))  # fmt: skip
        if codes[1]:
            qr = codes[1][0]
            seen.append(QrSeen(payload=qr.payload, x=qr.x, y=qr.y))
        return seen

    def _read(self, data: bytes) -> tuple[list[ReadCode], list[ReadQr]]:
        image = decode_image(data)
        return read_codes_near(image, self._gaze, self._window), read_qr_codes(image, self._gaze)


def identify_in_view(
    image: bytes,
    catalog: Catalog,
    gaze: tuple[float, float] | None = None,
    *,
    want_price: bool = True,
) -> Identification:
    """The product in a frame by barcode, then text, then picture, with the shelf price read
    from the tag; for apps answering "what is this" or "how much is this" without a code.

    Blocking (OCR takes hundreds of milliseconds): call it from a worker thread in async code.
    Raises PerceptionError for a frame that cannot be decoded.
    """
    return identify(image, gaze, catalog, open_pictures(catalog), want_price=want_price)
