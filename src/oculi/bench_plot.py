"""Latency histograms of benchmark tables, drawn with Pillow (one panel per measure)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from oculi.bench import BenchTable, percentile
from oculi.fonts import ui_font

PANEL_W, PANEL_H, BINS = 560, 180, 30


def plot_latencies(table: BenchTable, path: Path) -> Path | None:
    """A PNG with a histogram per measure and its p50/p95 marked; None when there are no samples."""
    measures = [(k, v) for k, v in table.samples_ms.items() if v]
    if not measures:
        return None
    image = Image.new("RGB", (PANEL_W + 40, 50 + len(measures) * (PANEL_H + 30)), "white")
    draw = ImageDraw.Draw(image)
    draw.text((20, 12), table.title, fill="black", font=ui_font(20))
    for i, (label, values) in enumerate(measures):
        _panel(draw, label, values, (20, 50 + i * (PANEL_H + 30)))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def _panel(draw: ImageDraw.ImageDraw, label: str, values: list[float], at: tuple[int, int]) -> None:
    x0, y0 = at
    low, high = 0.0, max(values) * 1.05 or 1.0
    counts = [0] * BINS
    for v in values:
        counts[min(int((v - low) / (high - low) * BINS), BINS - 1)] += 1
    font = ui_font(13)
    p50, p95 = percentile(values, 50), percentile(values, 95)
    draw.text((x0, y0), f"{label}  (n={len(values)}, p50 {p50:.1f} ms, p95 {p95:.1f} ms)",
              fill="black", font=font)  # fmt: skip
    top, bottom = y0 + 20, y0 + PANEL_H - 18
    bar_w = PANEL_W / BINS
    for b, count in enumerate(counts):
        h = (bottom - top) * count / max(counts)
        draw.rectangle(
            [x0 + b * bar_w, bottom - h, x0 + (b + 1) * bar_w - 2, bottom], fill=(70, 130, 180)
        )
    for value, colour in ((p50, (20, 140, 60)), (p95, (200, 60, 40))):
        x = x0 + value / high * PANEL_W
        draw.line([(x, top), (x, bottom)], fill=colour, width=2)
    draw.line([(x0, bottom), (x0 + PANEL_W, bottom)], fill="black")
    draw.text((x0, bottom + 3), "0 ms", fill="black", font=font)
    draw.text((x0 + PANEL_W, bottom + 3), f"{high:.1f} ms", fill="black", font=font, anchor="ra")
