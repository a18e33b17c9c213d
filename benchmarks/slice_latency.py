"""The price-check slice: camera frame in → price card rendered, and → reply spoken, per stage.

Frames are drawn beforehand (not timed); each run feeds a gaze point, a frame and the question
"how much is this?" through a real s1 session with the SQLite catalog and the default TTS.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from oculi.bench import BenchTable, latency_row
from oculi.events import CardShown, Event, Gaze, SpeechOut, Utterance, VideoFrame
from oculi.runtime.config import load_config
from oculi.runtime.session import Session
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.vision.synthetic import PackSpec, render_pack_photo, to_jpeg

NAME = "slice"
DESCRIPTION = "frame in → card rendered (s1), p50/p95 per stage"


def _frames(runs: int) -> list[bytes]:
    frames = []
    for i in range(runs):
        p = DEMO_PRODUCTS[i % len(DEMO_PRODUCTS)]
        n = DEMO_PRODUCTS[(i + 3) % len(DEMO_PRODUCTS)]
        photo = render_pack_photo(
            PackSpec(p.gtin, p.name, p.brand, p.colour),
            neighbour=PackSpec(n.gtin, n.name, n.brand, n.colour),
            rotate_deg=-8 + (i * 5) % 16, blur=0.8 + (i % 3) * 0.3, seed=i,
        )  # fmt: skip
        frames.append(to_jpeg(photo))
    return frames


async def _measure(
    session: Session, frames: list[bytes], advance: Callable[[], None]
) -> dict[str, list[float]]:
    marks: dict[str, float] = {}

    def mark(event: Event) -> None:
        if isinstance(event, CardShown | SpeechOut):
            marks.setdefault(event.kind, time.perf_counter())

    session.listen(mark)
    totals: dict[str, list[float]] = defaultdict(list)
    await session.feed(Gaze(x=0.55, y=0.5))
    for frame in frames:
        marks.clear()
        session.bus.timings.clear()
        start = time.perf_counter()
        await session.feed(VideoFrame(image=frame))
        await session.feed(Utterance(text="how much is this", source="script"))
        if "card_shown" not in marks:
            raise RuntimeError("a frame produced no price card; the slice is broken")
        totals["frame in → card rendered"].append(marks["card_shown"] - start)
        totals["frame in → reply audio ready"].append(marks["speech_out"] - start)
        for timing in session.bus.timings:
            totals[f"stage {timing.stage} ({timing.event_kind})"].append(timing.seconds)
        advance()
    return totals


def run(runs: int, advance: Callable[[], None], options: dict[str, str]) -> BenchTable:
    frames = _frames(runs)
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(env={"OCULI_CATALOG__PATH": str(Path(tmp) / "catalog.sqlite3")})
        session = Session(config)
        try:
            asyncio.run(_measure(session, frames[:2], lambda: None))  # warm-up: TTS, fonts
            totals = asyncio.run(_measure(session, frames, advance))
        finally:
            session.close()
    table = BenchTable(NAME, "Price-check slice latency (s1 profile)",
                       ["measure", "n", "p50 ms", "p95 ms", "mean ms"])  # fmt: skip
    for label in sorted(totals, key=lambda k: (k.startswith("stage"), k)):
        table.rows.append(latency_row(label, totals[label]))
        table.samples_ms[label] = [s * 1000 for s in totals[label]]
    table.notes.append(
        "1280x720 JPEG frames of generated packs; barcode read by zxing-cpp near the gaze"
    )
    return table
