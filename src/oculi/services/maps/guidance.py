"""Turn-by-turn steps from a walk: where the street changes or the walker turns, and how.

A turn's direction comes from the angle between the bearing walked into a junction and the
bearing out of it, each measured over the last or next ~10 m so a kink at the corner does not
count as a turn.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from oculi.services.maps.geodesy import bearing_deg, distance_m
from oculi.services.maps.graph import WalkGraph
from oculi.services.maps.routing import Leg, Piece
from oculi.services.maps.snap import cut_shape

ATTRIBUTION = "© OpenStreetMap contributors"

DIRECTIONS = ("straight", "slight_right", "right", "sharp_right", "uturn", "sharp_left",
              "left", "slight_left")  # fmt: skip

_TURN_PHRASE = {
    "straight": "Continue", "slight_right": "Turn slightly right", "right": "Turn right",
    "sharp_right": "Turn sharply right", "uturn": "Make a U-turn",
    "sharp_left": "Turn sharply left",
    "left": "Turn left", "slight_left": "Turn slightly left",
}  # fmt: skip

_KIND_LABEL = {
    "footway": "footpath", "sidewalk": "pavement", "crossing": "crossing", "steps": "steps",
    "path": "path", "pedestrian": "pedestrian street", "street": "street", "service": "lane",
    "track": "track", "platform": "platform", "pier": "pier", "parking": "car park",
    "living_street": "street", "bridleway": "bridleway", "cycleway": "cycle path",
    "ferry": "ferry",
}  # fmt: skip

_CARDINALS = ("north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest")
_LOOK_M = 10.0
_TURN_SPLIT_DEG = 40.0
"""A turn this sharp at a real junction is a step even when the street's name stays the same."""
_MIN_STEP_M = 8.0
"""Shorter steps are folded into the next: nobody can act on "turn right, then in 3 m left"."""


@dataclass(frozen=True)
class Step:
    """One instruction: what to do at a point of the walk, and how far to go after it."""

    instruction: str
    distance_m: float
    """Walked after this instruction, up to the next one."""
    street: str
    """Name of the way walked in this step; empty when it has none."""
    way: str
    """What the way is ("footpath", "steps", "street"), for ways with no name."""
    maneuver: str
    """depart, turn, continue, via, arrive."""
    direction: str
    """One of DIRECTIONS (straight for depart, via and arrive)."""
    at_m: float
    """Distance along the whole route where the instruction applies."""
    location: tuple[float, float]

    def to_json(self) -> dict[str, Any]:
        return {"instruction": self.instruction, "distance_m": round(self.distance_m, 1),
                "street": self.street, "way": self.way, "maneuver": self.maneuver,
                "direction": self.direction, "at_m": round(self.at_m, 1),
                "location": [round(self.location[0], 7), round(self.location[1], 7)]}  # fmt: skip


@dataclass(frozen=True)
class Route:
    """A walk to show, speak and follow: geometry, distances and steps."""

    legs: tuple[Leg, ...]
    geometry: tuple[tuple[float, float], ...]
    """(lat, lon) from the snapped start to the snapped end."""
    along_m: tuple[float, ...]
    """Distance along the route to each geometry point."""
    steps: tuple[Step, ...]
    duration_s: float
    destination: str = ""
    """What the walk leads to, for "Arrive at …" (empty: "your destination")."""

    @property
    def distance_m(self) -> float:
        return self.along_m[-1] if self.along_m else 0.0

    def point_at(self, along: float) -> tuple[float, float]:
        """The position a given distance along the route."""
        along = min(max(along, 0.0), self.distance_m)
        i = max(0, min(bisect.bisect_right(self.along_m, along) - 1, len(self.geometry) - 2))
        span = self.along_m[i + 1] - self.along_m[i]
        f = 0.0 if span <= 0 else (along - self.along_m[i]) / span
        (lat0, lon0), (lat1, lon1) = self.geometry[i], self.geometry[i + 1]
        return lat0 + f * (lat1 - lat0), lon0 + f * (lon1 - lon0)

    def to_json(self) -> dict[str, Any]:
        start, end = self.legs[0].start, self.legs[-1].end
        return {
            "distance_m": round(self.distance_m, 1),
            "duration_s": round(self.duration_s, 1),
            "geometry": [[round(lat, 7), round(lon, 7)] for lat, lon in self.geometry],
            "steps": [s.to_json() for s in self.steps],
            "attribution": ATTRIBUTION,
            "snapped": {"from_m": round(start.distance_m, 1), "to_m": round(end.distance_m, 1)},
        }


def turn_direction(angle_deg: float) -> str:
    """The direction of a turn by its angle (-180..180, positive to the right)."""
    size = abs(angle_deg)
    if size < 20:
        return "straight"
    side = "right" if angle_deg > 0 else "left"
    if size < 55:
        return f"slight_{side}"
    if size < 130:
        return side
    if size < 170:
        return f"sharp_{side}"
    return "uturn"


def cardinal(bearing: float) -> str:
    return _CARDINALS[int((bearing % 360 + 22.5) // 45) % 8]


def describe(graph: WalkGraph, legs: tuple[Leg, ...], destination: str = "") -> Route:
    """The route for a sequence of legs: its geometry, its length and its steps."""
    geometry: list[tuple[float, float]] = []
    along: list[float] = []
    joins: list[tuple[float, Piece, Piece | None, int]] = []
    """(distance along, piece before, piece after or None at a stop, stop index)."""
    for stop, leg in enumerate(legs):
        for i, piece in enumerate(leg.pieces):
            _extend(geometry, along, cut_shape(graph, piece.edge, piece.from_m, piece.to_m))
            following = leg.pieces[i + 1] if i + 1 < len(leg.pieces) else None
            joins.append((along[-1] if along else 0.0, piece, following, stop))
    if len(geometry) < 2:
        point = (legs[0].start.lat, legs[0].start.lon)
        geometry, along = [point, point], [0.0, 0.0]
    route = Route(legs, tuple(geometry), tuple(along), (),
                  sum(leg.duration_s for leg in legs), destination)  # fmt: skip
    return Route(legs, route.geometry, route.along_m, _steps(graph, route, joins),
                 route.duration_s, destination)  # fmt: skip


def _extend(
    geometry: list[tuple[float, float]], along: list[float], points: list[tuple[float, float]]
) -> None:
    for point in points:
        if geometry:
            step = distance_m(*geometry[-1], *point)
            if step < 1e-3:
                continue
            along.append(along[-1] + step)
        else:
            along.append(0.0)
        geometry.append(point)


def _label(graph: WalkGraph, piece: Piece) -> tuple[str, str]:
    """(street name, kind of way) of a piece."""
    kind = graph.kinds[graph.edge_kind[piece.edge]]
    return graph.names[graph.edge_name[piece.edge]], _KIND_LABEL.get(kind, kind.replace("_", " "))


def _junction_degree(graph: WalkGraph, piece: Piece) -> int:
    vertex = graph.edge_v[piece.edge] if piece.forward else graph.edge_u[piece.edge]
    return int(graph.arc_start[vertex + 1] - graph.arc_start[vertex])


def _turn_angle(route: Route, at_in: float, at_out: float | None = None) -> float:
    """Angle between walking into `at_in` and walking out of `at_out` (-180..180, + is right)."""
    at_out = at_in if at_out is None else at_out
    before, into = route.point_at(at_in - _LOOK_M), route.point_at(at_in)
    out_of, after = route.point_at(at_out), route.point_at(at_out + _LOOK_M)
    if before == into or out_of == after:
        return 0.0
    change = bearing_deg(*out_of, *after) - bearing_deg(*before, *into)
    return (change + 180.0) % 360.0 - 180.0


@dataclass
class _Maneuver:
    at: float
    maneuver: str
    street: str
    way: str
    angle: float = 0.0
    stop: int = 0


def _steps(
    graph: WalkGraph, route: Route, joins: list[tuple[float, Piece, Piece | None, int]]
) -> tuple[Step, ...]:
    first = next((leg.pieces[0] for leg in route.legs if leg.pieces), None)
    maneuvers = [_Maneuver(0.0, "depart", *(_label(graph, first) if first else ("", "")))]
    for at, piece, following, stop in joins:
        if following is None:
            if stop + 1 < len(route.legs) and route.legs[stop + 1].pieces:
                label = _label(graph, route.legs[stop + 1].pieces[0])
                maneuvers.append(_Maneuver(at, "via", *label, stop=stop + 1))
            continue
        before, after = _label(graph, piece), _label(graph, following)
        angle = _turn_angle(route, at)
        turned = abs(angle) >= _TURN_SPLIT_DEG and _junction_degree(graph, piece) >= 3
        same_way = (before[0] or before[1]) == (after[0] or after[1])
        plain = not (before[0] or after[0]) and after[1] not in ("steps", "crossing")
        plain = plain and abs(angle) < 20
        if (same_way or plain) and not turned:
            continue
        maneuvers.append(_Maneuver(at, "turn", *after, angle=angle))
    maneuvers = _collapse(route, maneuvers)
    steps = []
    for i, m in enumerate(maneuvers):
        end = maneuvers[i + 1].at if i + 1 < len(maneuvers) else route.distance_m
        direction = "straight" if m.maneuver != "turn" else turn_direction(m.angle)
        kind = "continue" if m.maneuver == "turn" and direction == "straight" else m.maneuver
        text = _instruction(kind, direction, m.street, m.way, _bearing_after(route, m.at), m.stop)
        steps.append(Step(text, end - m.at, m.street, m.way, kind, direction, m.at,
                          route.point_at(m.at)))  # fmt: skip
    arrive = f"Arrive at {route.destination}" if route.destination else "Arrive at your destination"
    last = maneuvers[-1]
    steps.append(Step(arrive, 0.0, last.street, last.way, "arrive", "straight", route.distance_m,
                      route.geometry[-1]))  # fmt: skip
    return tuple(steps)


def _collapse(route: Route, maneuvers: list[_Maneuver]) -> list[_Maneuver]:
    """Fold turns closer than `_MIN_STEP_M` into the next one: a jog across a crossing or along
    a pavement is one turn for the walker, judged from the way in to the way out."""
    result = [maneuvers[0]]
    i = 1
    while i < len(maneuvers):
        m = maneuvers[i]
        following = maneuvers[i + 1] if i + 1 < len(maneuvers) else None
        end = following.at if following else route.distance_m
        if m.maneuver == "turn" and end - m.at < _MIN_STEP_M:
            if following is None:
                break
            if following.maneuver == "turn":
                angle = _turn_angle(route, m.at, following.at)
                maneuvers[i + 1] = _Maneuver(m.at, "turn", following.street, following.way, angle)
            i += 1
            continue
        result.append(m)
        i += 1
    return result


def _bearing_after(route: Route, at: float) -> float:
    here = route.point_at(at)
    ahead = route.point_at(at + _LOOK_M)
    return bearing_deg(*here, *ahead) if here != ahead else 0.0


def _instruction(
    maneuver: str, direction: str, street: str, way: str, bearing: float, stop: int
) -> str:
    target = street or f"the {way}"
    if maneuver == "depart":
        return f"Head {cardinal(bearing)} on {target}"
    if maneuver == "via":
        return f"Stop {stop} reached; head {cardinal(bearing)} on {target}"
    phrase = _TURN_PHRASE[direction]
    if way == "ferry":
        return f"Take the ferry{f' ({street})' if street else ''}"
    if not street and way == "steps":
        return f"{phrase} and take the steps" if direction != "straight" else "Take the steps"
    if not street and way == "crossing":
        return f"{phrase} and cross the road" if direction != "straight" else "Cross the road"
    return f"{phrase} onto {target}"


def show_distance(metres: float) -> str:
    """A distance for the lens: "40 m", "350 m", "1.2 km"."""
    if metres >= 1000:
        return f"{metres / 1000:.1f} km"
    rounded = round(metres / 5) * 5 if metres < 100 else round(metres / 10) * 10
    return f"{int(rounded)} m"


def say_distance(metres: float) -> str:
    """A distance to speak: "40 metres", "1.2 kilometres"."""
    if metres >= 1000:
        return f"{metres / 1000:.1f} kilometres"
    rounded = round(metres / 5) * 5 if metres < 100 else round(metres / 10) * 10
    return f"{max(int(rounded), 5)} metres"
