"""Barcode reading accuracy on real photos (zxing's black-box suite) and on generated pack photos.

Real photos come from ../shared/data when it is beside the project; the generated set is always
there and sweeps blur and rotation, as a head-worn camera sees packs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from oculi.bench import BenchTable, percentile
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.vision.barcode import decode_image, read_codes_near
from oculi.vision.synthetic import PackSpec, render_pack_photo, to_jpeg

NAME = "barcode"
DESCRIPTION = "barcode read rate on real photos and generated packs"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "barcodes" / "zxing_blackbox"
ZXING_FLOOR = {"ean13-2": 12, "upca-2": 28}
"""zxing's own must-pass counts for these folders (expected_detection_rates.txt)."""


def _row(label: str, cases: list[tuple[bytes, str]], gaze: tuple[float, float] | None,
         floor: str, advance: Callable[[], None]) -> list[object]:  # fmt: skip
    correct, times = 0, []
    for data, expected in cases:
        start = time.perf_counter()
        codes = read_codes_near(decode_image(data), gaze, window=0.5 if gaze else 1.0)
        times.append((time.perf_counter() - start) * 1000)
        correct += bool(codes) and codes[0].gtin == expected
        advance()
    rate = f"{100 * correct / len(cases):.1f}%"
    return [label, len(cases), correct, rate, floor, round(percentile(times, 50), 1)]


def run(runs: int, advance: Callable[[], None], options: dict[str, str]) -> BenchTable:
    table = BenchTable(NAME, "Barcode read rate", ["set", "images", "correct", "rate",
                                                   "zxing floor", "p50 ms"])  # fmt: skip
    for folder, floor in ZXING_FLOOR.items():
        images = sorted((SHARED / folder).glob("*.png"))
        if not images:
            table.notes.append(f"{folder}: ../shared/data not found, skipped")
            continue
        cases = [
            (p.read_bytes(), p.with_suffix(".txt").read_text().strip().zfill(13)) for p in images
        ]
        table.rows.append(_row(f"zxing {folder} (real photos)", cases, None, str(floor), advance))
    for blur in (0.6, 1.2, 1.8, 2.4):
        cases = []
        for i in range(max(runs // 4, 4)):
            p = DEMO_PRODUCTS[i % len(DEMO_PRODUCTS)]
            n = DEMO_PRODUCTS[(i + 5) % len(DEMO_PRODUCTS)]
            photo = render_pack_photo(PackSpec(p.gtin, p.name, p.brand, p.colour),
                                      neighbour=PackSpec(n.gtin, n.name, n.brand, n.colour),
                                      rotate_deg=-12 + (i * 7) % 24, blur=blur, seed=i)  # fmt: skip
            cases.append((to_jpeg(photo), p.gtin))
        table.rows.append(_row(f"generated packs, blur σ={blur}", cases, (0.55, 0.5), "-", advance))
    table.notes.append("generated packs: ±12° rotation, a second pack beside; gaze at the target")
    return table
