"""What the wearer looks at, read: barcodes, pack text, and the glance → price card latency.

1. Barcodes: zxing-cpp alone (one pass over the whole frame, retail formats) against our
   multi-pass reader, side by side on the same images: zxing's black-box photos
   (../shared/data/barcodes/zxing_blackbox) and generated 720p frames that a head-worn camera
   sees (turned, small, faint, blurred codes; packs with a neighbour). Target: beat zxing alone
   on every set at ≤ 30 ms per 720p frame on average.
2. Text: OCR ms per frame (the gaze box of a 720p frame) and the text path of identify on
   generated packs with no barcode (EN + ZH), shelf prices read into cents.
3. Glance → price card: a frame with a barcode in view and "how much is this" through a real
   session, to the card rendered. Target ≤ 150 ms p95.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TypeVar

from PIL import Image

from oculi.bench import BenchTable, latency_row, percentile
from oculi.events import CardShown, Event, Gaze, Utterance, VideoFrame
from oculi.runtime.config import load_config
from oculi.runtime.session import Session
from oculi.services.catalog import Product, open_catalog
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.vision.barcode import (
    ZBAR_AVAILABLE,
    ReadCode,
    decode_image,
    read_codes_near,
    read_codes_zxing,
    zbar_note,
)
from oculi.vision.identify import identify
from oculi.vision.ocr import read_text, shared_reader
from oculi.vision.samples import (
    hard_barcode_frame,
    pack_front,
    price_tag,
    shelf_frame,
    text_frame,
)
from oculi.vision.synthetic import PackSpec, render_pack_photo, to_jpeg

NAME = "vision"
DESCRIPTION = "barcodes (zxing alone vs multi-pass), OCR, glance → price card"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "barcodes" / "zxing_blackbox"
ZXING_FOLDERS = ("ean13-2", "upca-2")
GAZE = (0.5, 0.5)

T = TypeVar("T")
Case = tuple[bytes, str, tuple[float, float] | None]
"""An encoded frame, the GTIN-13 in it ("" when none), where the wearer looks."""


def run(runs: int, advance: Callable[[], None], options: dict[str, str]) -> list[BenchTable]:
    return [_barcodes(runs, advance), _text(runs, advance), _glance(runs, advance)]


# --- 1. barcodes -----------------------------------------------------------------------------


def _barcodes(runs: int, advance: Callable[[], None]) -> BenchTable:
    columns = ["set", "images", "zxing alone", "multi-pass", "no zbar", "misreads z/m",
               "zxing p50/p95 ms", "multi p50/p95 ms", "multi mean ms"]  # fmt: skip
    table = BenchTable(NAME, "Barcodes: zxing-cpp alone vs multi-pass reader", columns)
    sets: list[tuple[str, list[Case]]] = []
    for folder in ZXING_FOLDERS:
        images = sorted((SHARED / folder).glob("*.png"))
        if not images:
            table.notes.append(f"{folder}: ../shared/data not found, skipped")
            continue
        cases: list[Case] = [(p.read_bytes(), _expected(p), None) for p in images]
        sets.append((f"zxing blackbox {folder} (real photos)", cases))
    sets.extend(_generated_sets(max(runs // 5, 8)))
    for label, cases in sets:
        table.rows.append(_compare(label, cases, advance))
    empty = [(to_jpeg(_no_code_frame(i)), "", GAZE) for i in range(max(runs // 5, 8))]
    multi_ms = [_timed(partial(_multi, data, GAZE))[1] for data, _, _ in empty]
    zxing_ms = [_timed(partial(_zxing_alone, data))[1] for data, _, _ in empty]
    table.rows.append(["720p frames, no code in view", len(empty), "-", "-", "-", "-",
                       _p50_p95(zxing_ms), _p50_p95(multi_ms),
                       round(statistics.fmean(multi_ms), 1)])  # fmt: skip
    table.samples_ms["multi-pass, no code"] = multi_ms
    table.notes.append(
        "zxing alone: one zxing-cpp pass over the whole frame (retail formats, try_rotate, "
        "try_downscale); multi-pass: gaze box, upright barcode-like regions with contrast fixes "
        "and zbar, close-up passes, then the whole frame"
    )
    table.notes.append(
        "a read counts when the expected GTIN is among the codes returned; a misread returns "
        "codes without it (book covers in ean13-2 also carry a price code)"
    )
    table.notes.append(
        "ms include decoding the image file; "
        + ("pyzbar second reader on" if ZBAR_AVAILABLE else zbar_note())
    )
    table.notes.append("target: beat zxing alone on every set at ≤ 30 ms per 720p frame (mean)")
    return table


def _expected(path: Path) -> str:
    return path.with_suffix(".txt").read_text().strip().zfill(13)


def _generated_sets(n: int) -> Iterator[tuple[str, list[Case]]]:
    gtins = [p.gtin for p in DEMO_PRODUCTS]

    def turned(i: int) -> Image.Image:
        return hard_barcode_frame(gtins[i % len(gtins)], seed=i, rotate_deg=30 + (i * 13) % 51)

    def small(i: int) -> Image.Image:
        turn = 25 + (i * 11) % 41
        return hard_barcode_frame(gtins[i % len(gtins)], seed=i, module_px=2, rotate_deg=turn)

    def faint(i: int) -> Image.Image:
        return hard_barcode_frame(gtins[i % len(gtins)], seed=i, contrast=0.08 + (i % 5) * 0.01)

    def blurred(i: int) -> Image.Image:
        return hard_barcode_frame(gtins[i % len(gtins)], seed=i, blur=1.8 + (i % 5) * 0.1)

    hard: list[tuple[str, Callable[[int], Image.Image]]] = [
        ("720p turned 30–80°", turned),
        ("720p small (2 px bars), turned 25–65°", small),
        ("720p faint (contrast 8–12 %)", faint),
        ("720p blurred (σ 1.8–2.2 px)", blurred),
    ]
    for label, make in hard:
        yield label, [(to_jpeg(make(i)), gtins[i % len(gtins)], GAZE) for i in range(n)]
    for blur in (0.6, 1.2, 1.8, 2.4):
        cases: list[Case] = []
        for i in range(n):
            p = DEMO_PRODUCTS[i % len(DEMO_PRODUCTS)]
            other = DEMO_PRODUCTS[(i + 5) % len(DEMO_PRODUCTS)]
            photo = render_pack_photo(
                PackSpec(p.gtin, p.name, p.brand, p.colour),
                neighbour=PackSpec(other.gtin, other.name, other.brand, other.colour),
                rotate_deg=-12 + (i * 7) % 24, blur=blur, seed=i,
            )  # fmt: skip
            cases.append((to_jpeg(photo), p.gtin, (0.55, 0.5)))
        yield f"720p packs with a neighbour, blur σ={blur}", cases


def _no_code_frame(seed: int) -> Image.Image:
    p = DEMO_PRODUCTS[seed % len(DEMO_PRODUCTS)]
    pack = pack_front(p.brand, p.name, p.quantity, colour=p.colour)
    return shelf_frame([pack, price_tag(["€2.49", "4,98 €/kg"], size=26)], seed=seed)


def _compare(label: str, cases: list[Case], advance: Callable[[], None]) -> list[object]:
    zxing_ok = multi_ok = plain_ok = zxing_bad = multi_bad = 0
    zxing_ms: list[float] = []
    multi_ms: list[float] = []
    for data, expected, gaze in cases:
        zxing_codes, ms = _timed(partial(_zxing_alone, data))
        zxing_ms.append(ms)
        multi_codes, ms = _timed(partial(_multi, data, gaze))
        multi_ms.append(ms)
        plain_codes = read_codes_near(decode_image(data), gaze, use_zbar=False)
        hit_z = any(c.gtin == expected for c in zxing_codes)
        hit_m = any(c.gtin == expected for c in multi_codes)
        zxing_ok += hit_z
        multi_ok += hit_m
        plain_ok += any(c.gtin == expected for c in plain_codes)
        zxing_bad += bool(zxing_codes) and not hit_z
        multi_bad += bool(multi_codes) and not hit_m
        advance()
    n = len(cases)
    return [label, n, f"{zxing_ok} ({100 * zxing_ok / n:.0f}%)",
            f"{multi_ok} ({100 * multi_ok / n:.0f}%)", f"{plain_ok}", f"{zxing_bad}/{multi_bad}",
            _p50_p95(zxing_ms), _p50_p95(multi_ms),
            round(statistics.fmean(multi_ms), 1)]  # fmt: skip


def _zxing_alone(data: bytes) -> list[ReadCode]:
    return read_codes_zxing(decode_image(data))


def _multi(data: bytes, gaze: tuple[float, float] | None) -> list[ReadCode]:
    return read_codes_near(decode_image(data), gaze)


def _timed(call: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - start) * 1000


def _p50_p95(ms: list[float]) -> str:
    return f"{percentile(ms, 50):.1f} / {percentile(ms, 95):.1f}"


# --- 2. text ---------------------------------------------------------------------------------

_ZH_PACKS = (
    ("yili-milk", "伊利", "纯牛奶", "250ml", "¥12.80", 1280),
    ("master-kong", "康师傅", "红烧牛肉面", "5袋", "19.90元", 1990),
)


def _text(runs: int, advance: Callable[[], None]) -> BenchTable:
    table = BenchTable(NAME, "Text path: OCR and identify without a barcode",
                       ["measure", "n", "p50 ms", "p95 ms", "mean ms"])  # fmt: skip
    cases: list[tuple[bytes, str, int]] = []
    for i, p in enumerate(DEMO_PRODUCTS[: max(min(runs // 5, 12), 4)]):
        cents = 99 + 100 * i
        tag = price_tag([f"€{cents // 100}.{cents % 100:02d}"], size=30)
        frame = text_frame([pack_front(p.brand, p.name, p.quantity, colour=p.colour), tag], seed=i)
        cases.append((to_jpeg(frame), p.gtin, cents))
    zh_fonts = True
    try:
        for product_id, brand, name, quantity, price, cents in _ZH_PACKS:
            pack = pack_front(brand, name, quantity, cjk=True)
            frame = text_frame([pack, price_tag([price], cjk=True, size=30)])
            cases.append((to_jpeg(frame), product_id, cents))
    except FileNotFoundError:
        zh_fonts = False
        table.notes.append("no CJK font installed (fonts-wqy-microhei): Chinese packs skipped")
    start = time.perf_counter()
    reader = shared_reader()
    load_ms = (time.perf_counter() - start) * 1000
    ocr_ms: list[float] = []
    identify_ms: list[float] = []
    right = prices_right = 0
    with tempfile.TemporaryDirectory() as tmp:
        catalog = open_catalog(Path(tmp) / "catalog.sqlite3")
        if zh_fonts:
            catalog.add([], [Product(None, n, b, q, id=i) for i, b, n, q, _, _ in _ZH_PACKS], [])
        try:
            for data, product_id, cents in cases:
                ocr_ms.append(read_text(decode_image(data, "RGB"), GAZE, reader=reader).ms)
                found, ms = _timed(partial(identify, data, GAZE, catalog, reader=reader))
                identify_ms.append(ms)
                product = found.product
                right += product is not None and product.id == product_id
                prices_right += found.shelf_price_cents == cents
                advance()
        finally:
            catalog.close()
    table.rows.append(latency_row("OCR, gaze box of a 720p frame", [ms / 1000 for ms in ocr_ms]))
    table.rows.append(latency_row("identify via text (no barcode)",
                                  [ms / 1000 for ms in identify_ms]))  # fmt: skip
    table.samples_ms["OCR per frame"] = ocr_ms
    n = len(cases)
    table.notes.append(f"identified right: {right}/{n}; shelf price read to the cent: "
                       f"{prices_right}/{n} (generated packs and tags, EN + ZH)")  # fmt: skip
    table.notes.append(f"OCR model load (once per process): {load_ms:.0f} ms; rapidocr PP-OCR, "
                       "use_cls off, Det.limit_side_len 640, 1 ONNX Runtime thread")  # fmt: skip
    return table


# --- 3. glance → price card --------------------------------------------------------------------


def _glance(runs: int, advance: Callable[[], None]) -> BenchTable:
    frames = []
    for i in range(runs):
        p = DEMO_PRODUCTS[i % len(DEMO_PRODUCTS)]
        if i % 2:
            turned = hard_barcode_frame(p.gtin, rotate_deg=30 + (i * 13) % 51, seed=i)
            frames.append(to_jpeg(turned))
            continue
        other = DEMO_PRODUCTS[(i + 3) % len(DEMO_PRODUCTS)]
        photo = render_pack_photo(
            PackSpec(p.gtin, p.name, p.brand, p.colour),
            neighbour=PackSpec(other.gtin, other.name, other.brand, other.colour),
            rotate_deg=-8 + (i * 5) % 16, blur=0.8 + (i % 3) * 0.3, seed=i, centre=(0.5, 0.5),
        )  # fmt: skip
        frames.append(to_jpeg(photo))
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(env={"OCULI_CATALOG__PATH": str(Path(tmp) / "catalog.sqlite3")})
        session = Session(config)
        try:
            asyncio.run(_measure(session, frames[:2], lambda: None))  # warm-up: TTS, fonts
            card_s, vision_s = asyncio.run(_measure(session, frames, advance))
        finally:
            session.close()
    table = BenchTable(NAME, "Glance → price card (barcode in view, s1 profile)",
                       ["measure", "n", "p50 ms", "p95 ms", "mean ms"])  # fmt: skip
    table.rows.append(latency_row("frame + 'how much is this' → card rendered", card_s))
    table.rows.append(latency_row("vision stage per frame", vision_s))
    table.samples_ms["glance → card"] = [s * 1000 for s in card_s]
    table.notes.append("half the frames hold a code turned 30–80° (multi-pass needed); "
                       "target: card ≤ 150 ms")  # fmt: skip
    return table


async def _measure(
    session: Session, frames: list[bytes], advance: Callable[[], None]
) -> tuple[list[float], list[float]]:
    shown: list[float] = []

    def mark(event: Event) -> None:
        if isinstance(event, CardShown) and not shown:
            shown.append(time.perf_counter())

    session.listen(mark)
    await session.feed(Gaze(x=GAZE[0], y=GAZE[1]))
    card_s: list[float] = []
    vision_s: list[float] = []
    for frame in frames:
        shown.clear()
        session.bus.timings.clear()
        start = time.perf_counter()
        await session.feed(VideoFrame(image=frame))
        await session.feed(Utterance(text="how much is this", source="script"))
        if not shown:
            raise RuntimeError("a frame produced no price card; the glance path is broken")
        card_s.append(shown[0] - start)
        vision_s += [t.seconds for t in session.bus.timings if t.stage == "vision"]
        advance()
    return card_s, vision_s
