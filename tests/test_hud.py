"""HUD cards: size of the display, legible green on black, long text kept inside."""

from __future__ import annotations

import io

from PIL import Image

from oculi.events import Card, CardRow
from oculi.hud.render import render_card
from oculi.runtime.profile import Display

S1_DISPLAY = Display(640, 480)


def _render(card: Card, display: Display = S1_DISPLAY) -> Image.Image:
    return Image.open(io.BytesIO(render_card(card, display))).convert("RGB")


def test_card_matches_display_size_and_is_green_on_black() -> None:
    image = _render(Card(layout="price", title="Oat Drink", rows=(CardRow(label="A", value="€1"),)))
    assert image.size == (640, 480)
    colours = image.getcolors(maxcolors=640 * 480) or []
    lit = [(n, c) for n, c in colours if c != (0, 0, 0)]
    assert lit, "nothing drawn"
    assert all(g >= r and g >= b for _, (r, g, b) in lit), "all light must be green"
    black = next(n for n, c in colours if c == (0, 0, 0))
    assert black > 0.7 * 640 * 480, "a lens card is mostly see-through black"


def test_card_scales_to_another_display() -> None:
    assert _render(Card(layout="message", title="Hi"), Display(1280, 960)).size == (1280, 960)


def test_long_labels_do_not_run_off_the_display() -> None:
    long_row = CardRow(label="Store with an extremely long name " * 5, value="€10.00")
    card = Card(layout="price", title="A product with a very long name " * 4, rows=(long_row,))
    image = _render(card)
    right_edge = image.crop((630, 0, 640, 480))
    assert right_edge.getbbox() is None, "text reached the display's right edge"
