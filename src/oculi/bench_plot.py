"""Benchmark figures drawn with Pillow: latency histograms and small-multiple line charts."""

from __future__ import annotations

import io
import math
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


SERIES_COLOURS = ((200, 60, 40), (70, 130, 180), (20, 140, 60), (150, 80, 170), (220, 150, 30))
Series = dict[str, list[tuple[float, float]]]


def plot_lines(
    title: str, panels: dict[str, Series], x_label: str, y_label: str, y_range: tuple[float, float]
) -> bytes:
    """Small multiples: one line chart per panel, the same series in the same colours."""
    cols = min(len(panels), 2)
    rows = math.ceil(len(panels) / cols)
    w, h = 460, 300
    image = Image.new("RGB", (cols * w + 40, rows * h + 90), "white")
    draw = ImageDraw.Draw(image)
    draw.text((20, 12), title, fill="black", font=ui_font(20))
    names = list(dict.fromkeys(name for series in panels.values() for name in series))
    for i, name in enumerate(names):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        x = 20 + i * 170
        draw.line([(x, 52), (x + 24, 52)], fill=colour, width=3)
        draw.text((x + 30, 44), name, fill="black", font=ui_font(13))
    for index, (panel, series) in enumerate(panels.items()):
        origin = (20 + (index % cols) * w, 80 + (index // cols) * h)
        _line_panel(draw, panel, series, names, origin, (w - 30, h - 40), x_label, y_label, y_range)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _line_panel(
    draw: ImageDraw.ImageDraw, panel: str, series: Series, names: list[str],
    origin: tuple[int, int], size: tuple[int, int], x_label: str, y_label: str,
    y_range: tuple[float, float],
) -> None:  # fmt: skip
    font = ui_font(12)
    x0, y0 = origin[0] + 40, origin[1] + 20
    width, height = size[0] - 40, size[1] - 50
    xs = sorted({x for points in series.values() for x, _ in points})
    if not xs:
        return
    lo, hi = y_range
    x_span = (xs[-1] - xs[0]) or 1.0

    def at(x: float, y: float) -> tuple[float, float]:
        return (x0 + (x - xs[0]) / x_span * width, y0 + height - (y - lo) / (hi - lo) * height)

    draw.text((origin[0], origin[1]), panel, fill="black", font=ui_font(14))
    draw.rectangle([x0, y0, x0 + width, y0 + height], outline=(180, 180, 180))
    for tick in range(5):
        value = lo + (hi - lo) * tick / 4
        _, y = at(xs[0], value)
        draw.line([(x0, y), (x0 + width, y)], fill=(235, 235, 235))
        draw.text((x0 - 6, y), f"{value:g}", fill="black", font=font, anchor="rm")
    for x in xs:
        px, _ = at(x, lo)
        draw.text((px, y0 + height + 4), f"{x:g}", fill="black", font=font, anchor="ma")
    draw.text((x0 + width / 2, y0 + height + 20), x_label, fill="black", font=font, anchor="ma")
    draw.text((x0 + 4, y0 + 4), y_label, fill=(90, 90, 90), font=font)
    for name, points in series.items():
        colour = SERIES_COLOURS[names.index(name) % len(SERIES_COLOURS)]
        coords = [at(x, y) for x, y in sorted(points)]
        if len(coords) > 1:
            draw.line(coords, fill=colour, width=3)
        for cx, cy in coords:
            draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=colour)
