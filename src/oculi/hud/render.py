"""Cards drawn for the lens: green on black, large type, at the display's resolution.

A waveguide shows light, not black: black pixels are see-through, so cards are bright strokes on
black with few, large lines that can be read at a glance while walking.
"""

from __future__ import annotations

import io
import math

from PIL import Image, ImageDraw

from oculi.events import Card
from oculi.fonts import Font, ui_font
from oculi.runtime.profile import Display

GREEN = (60, 255, 120)
DIM_GREEN = (30, 150, 70)
BLACK = (0, 0, 0)


def render_card(card: Card, display: Display) -> bytes:
    """The card as a PNG at the display's size."""
    if card.layout == "turn":
        return _render_turn(card, display)
    scale = display.height / 480
    image = Image.new("RGB", (display.width, display.height), BLACK)
    draw = ImageDraw.Draw(image)
    margin = int(28 * scale)
    width = display.width - 2 * margin
    y = margin
    title_font = ui_font(int(40 * scale), bold=True)
    for line in _wrap(draw, card.title, title_font, width)[:2]:
        draw.text((margin, y), line, fill=GREEN, font=title_font)
        y += int(48 * scale)
    if card.subtitle:
        draw.text((margin, y), card.subtitle, fill=DIM_GREEN, font=ui_font(int(24 * scale)))
        y += int(36 * scale)
    draw.line([(margin, y), (margin + width, y)], fill=DIM_GREEN, width=max(1, int(2 * scale)))
    y += int(16 * scale)
    for row in card.rows:
        y = _draw_row(draw, row.label, row.value, row.highlight, (margin, y), width, scale)
        if y > display.height - margin - int(40 * scale):
            break
    if card.footer:
        footer_font = ui_font(int(26 * scale), bold=True)
        draw.text((margin, display.height - margin), card.footer, fill=GREEN, font=footer_font,
                  anchor="ls")  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _draw_row(
    draw: ImageDraw.ImageDraw,
    label: str,
    value: str,
    highlight: bool,
    at: tuple[int, int],
    width: int,
    scale: float,
) -> int:
    x, y = at
    size = int((36 if highlight else 28) * scale)
    font = ui_font(size, bold=highlight)
    height = int(size * 1.5)
    colour = GREEN if highlight else DIM_GREEN
    if highlight:
        draw.rounded_rectangle([x - 8, y - 4, x + width + 8, y + height - 4], radius=int(8 * scale),
                               outline=GREEN, width=max(1, int(2 * scale)))  # fmt: skip
    if value:
        draw.text((x + width, y), value, fill=colour, font=font, anchor="ra")
        label_width = width - int(draw.textlength(value + "  ", font=font))
    else:
        label_width = width
    draw.text((x, y), _fit(draw, label, font, label_width), fill=colour, font=font)
    return y + height + int(6 * scale)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    return [*lines, line] if line else lines


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
    """Cut text with an ellipsis so it never runs into the value column."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


TURN_ARROWS = {"↑": 0, "↗": 45, "→": 90, "↘": 135, "↓": 180, "↙": -135, "←": -90, "↖": -45}
"""The arrow glyph a turn card carries in its first row, as degrees from straight ahead."""


def _render_turn(card: Card, display: Display) -> bytes:
    """A turn card: a large arrow and the distance to the turn, then where it leads."""
    scale = display.height / 480
    image = Image.new("RGB", (display.width, display.height), BLACK)
    draw = ImageDraw.Draw(image)
    margin = int(28 * scale)
    width = display.width - 2 * margin
    first = card.rows[0] if card.rows else None
    size = int(170 * scale)
    _draw_arrow(draw, first.label if first else "", (margin, margin), size, scale)
    if first is not None and first.value:
        distance_font = ui_font(int(72 * scale), bold=True)
        draw.text((margin + size + int(30 * scale), margin + size // 2), first.value, fill=GREEN,
                  font=distance_font, anchor="lm")  # fmt: skip
    y = margin + size + int(20 * scale)
    title_font = ui_font(int(36 * scale), bold=True)
    for line in _wrap(draw, card.title, title_font, width)[:2]:
        draw.text((margin, y), line, fill=GREEN, font=title_font)
        y += int(44 * scale)
    for row in card.rows[1:2]:
        y = _draw_row(draw, row.label, row.value, row.highlight, (margin, y), width, scale)
    if card.footer:
        footer_font = ui_font(int(18 * scale))
        draw.text((margin, display.height - margin), card.footer, fill=DIM_GREEN,
                  font=footer_font, anchor="ls")  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _draw_arrow(
    draw: ImageDraw.ImageDraw, glyph: str, at: tuple[int, int], size: int, scale: float
) -> None:
    """An arrow turned by the glyph's angle; a ringed dot for arrival or an unknown glyph."""
    cx, cy = at[0] + size / 2, at[1] + size / 2
    line = max(2, int(4 * scale))
    if glyph not in TURN_ARROWS:
        r = size * 0.32
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=GREEN, width=line * 2)
        draw.ellipse([cx - r / 3, cy - r / 3, cx + r / 3, cy + r / 3], fill=GREEN)
        return
    angle = math.radians(TURN_ARROWS[glyph])
    shape = [(-0.12, 0.45), (-0.12, -0.05), (-0.3, -0.05), (0.0, -0.45), (0.3, -0.05),
             (0.12, -0.05), (0.12, 0.45)]  # fmt: skip
    cos, sin = math.cos(angle), math.sin(angle)
    points = [(cx + size * (x * cos - y * sin), cy + size * (x * sin + y * cos)) for x, y in shape]
    draw.polygon(points, fill=GREEN)
