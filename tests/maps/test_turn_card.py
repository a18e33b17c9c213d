"""The turn card: data anyone can read, and an arrow on the lens pointing the right way."""

from __future__ import annotations

import io

from PIL import Image

from oculi.hud.render import render_card
from oculi.runtime.profile import Display
from oculi.services.maps.cards import turn_card
from oculi.services.maps.guidance import Step

S1 = Display(640, 480)


def _step(direction: str, maneuver: str = "turn") -> Step:
    return Step(instruction=f"Turn {direction} onto Rue Grimaldi", distance_m=120.0,
                street="Rue Grimaldi", way="street", maneuver=maneuver, direction=direction,
                at_m=300.0, location=(43.73, 7.42))  # fmt: skip


def test_turn_card_carries_arrow_distance_and_attribution() -> None:
    card = turn_card(_step("left"), distance_m=42, remaining_m=850, remaining_s=610)
    assert card.layout == "turn"
    assert card.title == "Turn left onto Rue Grimaldi"
    assert (card.rows[0].label, card.rows[0].value, card.rows[0].highlight) == ("←", "40 m", True)
    assert card.rows[1].value == "850 m · 10 min"
    assert card.footer == "© OpenStreetMap contributors"


def test_arrival_card_has_no_distance_left() -> None:
    card = turn_card(_step("straight", maneuver="arrive"), 0, 0, 0)
    assert card.rows[0].label == "◎" and len(card.rows) == 1


def _arrow_box(direction: str) -> Image.Image:
    png = render_card(turn_card(_step(direction), 42, 850, 610), S1)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (640, 480)
    return image.crop((28, 28, 28 + 170, 28 + 170)).convert("L")


def _lit(image: Image.Image) -> int:
    return sum(image.histogram()[61:])


def test_the_arrow_points_where_the_turn_goes() -> None:
    """The arrow's head is wider than its stem: more light beside the centre on the head's side."""
    left, right = _arrow_box("left"), _arrow_box("right")
    west, east = (51, 0, 76, 170), (94, 0, 119, 170)
    assert _lit(left.crop(west)) > 1.5 * _lit(left.crop(east))
    assert _lit(right.crop(east)) > 1.5 * _lit(right.crop(west))


def test_turn_card_is_green_light_on_black() -> None:
    png = render_card(turn_card(_step("slight_right"), 42, 850, 610), S1)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    lit = [c for n, c in image.getcolors(640 * 480) or [] if c != (0, 0, 0)]
    assert lit and all(g >= r and g >= b for r, g, b in lit)
