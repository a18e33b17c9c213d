"""The turn card on the lens: an arrow, the distance to the turn, and where it leads.

The arrow travels in the card's data as a glyph in the first row's label (`←`, `↗`, …), so the
card reads as text anywhere (reports, logs) and the HUD draws a large arrow from it.
"""

from __future__ import annotations

from oculi.events import Card, CardRow
from oculi.services.maps.guidance import ATTRIBUTION, Step, show_distance

ARROWS = {
    "straight": "↑", "slight_right": "↗", "right": "→", "sharp_right": "↘", "uturn": "↓",
    "sharp_left": "↙", "left": "←", "slight_left": "↖",
}  # fmt: skip
ARRIVE = "◎"


def turn_card(step: Step, distance_m: float, remaining_m: float, remaining_s: float) -> Card:
    """The card for the next instruction, `distance_m` ahead, with what is left of the walk."""
    arrow = ARRIVE if step.maneuver == "arrive" else ARROWS.get(step.direction, ARROWS["straight"])
    rows = [CardRow(label=arrow, value=show_distance(distance_m), highlight=True)]
    if remaining_m >= 1:
        minutes = max(1, round(remaining_s / 60))
        rows.append(CardRow(label="to go", value=f"{show_distance(remaining_m)} · {minutes} min"))
    return Card(layout="turn", title=step.instruction, subtitle=step.street or step.way,
                rows=tuple(rows), footer=ATTRIBUTION)  # fmt: skip
