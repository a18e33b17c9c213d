"""Following a walk from GPS fixes: progress, prompts before turns, and rerouting when lost.

Each fix is placed on the route (never backwards by more than a few metres, so an out-and-back
street does not confuse it). Fixes further than `off_route_m` from the route for `off_route_s`
seconds mean the walker has taken another way: the route is planned again from where they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

import numpy as np

from oculi.errors import MapError
from oculi.events import Card
from oculi.services.maps.cards import turn_card
from oculi.services.maps.geodesy import ruler_factors
from oculi.services.maps.guidance import Route, Step, say_distance

if TYPE_CHECKING:
    from oculi.services.maps.walkmap import WalkMap

_BACKTRACK_M = 30.0
_TIE_M = 5.0


class Fix(Protocol):
    """A position at a time: `oculi.events.GpsFix` fits, and so does any (lat, lon, t) object."""

    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...
    @property
    def t(self) -> float: ...


@dataclass(frozen=True)
class NavEvent:
    """Something the wearer should hear (and see): every event has words to speak."""

    kind: ClassVar[str] = "nav"
    speech: str
    card: Card | None = None


@dataclass(frozen=True)
class Prompt(NavEvent):
    """An instruction: at the start, ahead of a turn (`prepare`) and at the turn (`now`)."""

    kind: ClassVar[str] = "prompt"
    step: int = 0
    stage: str = "now"
    """depart, prepare or now."""
    distance_m: float = 0.0


@dataclass(frozen=True)
class OffRoute(NavEvent):
    """The walker has left the route."""

    kind: ClassVar[str] = "off_route"
    distance_m: float = 0.0


@dataclass(frozen=True)
class Rerouted(NavEvent):
    """A new route from where the walker is; the navigator follows it from now on."""

    kind: ClassVar[str] = "rerouted"
    route: Route | None = None


@dataclass(frozen=True)
class RouteLost(NavEvent):
    """Off the route and no walk back could be found (tried again after a while)."""

    kind: ClassVar[str] = "route_lost"


@dataclass(frozen=True)
class Arrived(NavEvent):
    kind: ClassVar[str] = "arrived"


@dataclass
class _Track:
    """What the navigator knows about the current route."""

    route: Route
    lat0: np.ndarray = field(init=False)
    lon0: np.ndarray = field(init=False)
    lat1: np.ndarray = field(init=False)
    lon1: np.ndarray = field(init=False)
    along0: np.ndarray = field(init=False)
    span: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        points = np.asarray(self.route.geometry, dtype=np.float64)
        along = np.asarray(self.route.along_m, dtype=np.float64)
        self.lat0, self.lon0 = points[:-1, 0], points[:-1, 1]
        self.lat1, self.lon1 = points[1:, 0], points[1:, 1]
        self.along0, self.span = along[:-1], np.diff(along)

    def place(self, lat: float, lon: float, progress: float) -> tuple[float, float]:
        """(distance along the route, metres off it) for a position, searching ahead only; where
        the route passes the spot twice, the earlier stretch ahead wins."""
        kx, ky = ruler_factors(lat)
        ax, ay = (self.lon0 - lon) * kx, (self.lat0 - lat) * ky
        dx, dy = (self.lon1 - lon) * kx - ax, (self.lat1 - lat) * ky - ay
        length2 = dx * dx + dy * dy
        t = np.clip(-(ax * dx + ay * dy) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
        off = np.hypot(ax + t * dx, ay + t * dy)
        along = self.along0 + t * self.span
        ahead = along >= progress - _BACKTRACK_M
        if not ahead.any():
            ahead[:] = True
        closest = float(off[ahead].min())
        near = np.flatnonzero(ahead & (off <= closest + _TIE_M))
        gaps = np.flatnonzero(np.diff(near) > 1)
        first_run = near[: gaps[0] + 1] if len(gaps) else near
        best = int(first_run[np.argmin(off[first_run])])
        return float(along[best]), float(off[best])


class Navigator:
    """Turn-by-turn guidance along a route, fed one position at a time."""

    def __init__(
        self, walk_map: WalkMap, route: Route, *, avoid_steps: bool = False,
        avoid_ferries: bool = False,
        off_route_m: float = 25.0, off_route_s: float = 5.0, prepare_m: float = 50.0,
        now_m: float = 12.0, arrive_m: float = 12.0,
    ) -> None:  # fmt: skip
        self._map = walk_map
        self.avoid_steps = avoid_steps
        self.avoid_ferries = avoid_ferries
        self.off_route_m = off_route_m
        self.off_route_s = off_route_s
        self.prepare_m = prepare_m
        self.now_m = now_m
        self.arrive_m = arrive_m
        self.reroutes = 0
        self._follow(route)

    def _follow(self, route: Route) -> None:
        self._track = _Track(route)
        self.progress_m = 0.0
        self.arrived = False
        self._said: set[tuple[int, str]] = set()
        self._off_since: float | None = None
        self._off_fixes = 0
        self._started = False

    @property
    def route(self) -> Route:
        return self._track.route

    @property
    def remaining_m(self) -> float:
        return max(0.0, self.route.distance_m - self.progress_m)

    @property
    def remaining_s(self) -> float:
        return self.remaining_m / self._map.speed_mps

    @property
    def next_step(self) -> int:
        """Index of the next instruction to carry out (the arrival at the end)."""
        steps = self.route.steps
        for i, step in enumerate(steps):
            if i > 0 and step.at_m > self.progress_m + 1.0:
                return i
        return len(steps) - 1

    @property
    def distance_to_next_m(self) -> float:
        return max(0.0, self.route.steps[self.next_step].at_m - self.progress_m)

    def card(self) -> Card:
        """The turn card for where the walker is now."""
        return turn_card(self.route.steps[self.next_step], self.distance_to_next_m,
                         self.remaining_m, self.remaining_s)  # fmt: skip

    def feed(self, fix: Fix) -> list[NavEvent]:
        """`update` from a GPS fix event (uses its accuracy when it has one)."""
        accuracy = float(getattr(fix, "accuracy_m", 0.0))
        return self.update(fix.lat, fix.lon, fix.t, accuracy)

    def update(self, lat: float, lon: float, t: float, accuracy_m: float = 0.0) -> list[NavEvent]:
        """What to tell the walker after a new position (often nothing)."""
        if self.arrived:
            return []
        along, off = self._track.place(lat, lon, self.progress_m)
        if off > max(self.off_route_m, accuracy_m):
            return self._stray(lat, lon, t, off)
        self._off_since, self._off_fixes = None, 0
        self.progress_m = max(self.progress_m, along)
        return list(self._prompts())

    def _stray(self, lat: float, lon: float, t: float, off: float) -> list[NavEvent]:
        if self._off_since is None:
            self._off_since = t
        self._off_fixes += 1
        if t - self._off_since < self.off_route_s or self._off_fixes < 2:
            return []
        lost = OffRoute(speech="You have left the route. Finding a new way.", distance_m=off)
        via, end = self._remaining_stops()
        try:
            route = self._map.route((lat, lon), end, via, avoid_steps=self.avoid_steps,
                                    avoid_ferries=self.avoid_ferries,
                                    destination=self.route.destination)  # fmt: skip
        except MapError:
            self._off_since = t
            return [lost, RouteLost(speech="I can't find a walking route from here.")]
        self.reroutes += 1
        self._follow(route)
        self._started = True
        self._said.add((0, "depart"))
        first = route.steps[0]
        speech = (
            f"New route: {_lower_first(first.instruction)} for {say_distance(first.distance_m)}."
        )
        return [lost, Rerouted(speech=speech, card=self.card(), route=route)]

    def _remaining_stops(self) -> tuple[list[tuple[float, float]], tuple[float, float]]:
        """Via points not yet reached, and the end."""
        via, walked = [], 0.0
        for leg in self.route.legs[:-1]:
            walked += leg.distance_m
            if walked > self.progress_m + self.arrive_m:
                via.append((leg.end.lat, leg.end.lon))
        end = self.route.legs[-1].end
        return via, (end.lat, end.lon)

    def _prompts(self) -> Iterable[NavEvent]:
        steps = self.route.steps
        if self.remaining_m <= self.arrive_m:
            self.arrived = True
            arrive = steps[-1]
            where = f" at {self.route.destination}" if self.route.destination else ""
            yield Arrived(speech=f"You have arrived{where}.",
                          card=turn_card(arrive, 0.0, 0.0, 0.0))  # fmt: skip
            return
        if not self._started:
            self._started = True
            self._said.add((0, "depart"))
            first = steps[0]
            yield Prompt(speech=f"{first.instruction} for {say_distance(first.distance_m)}.",
                         card=self.card(), step=0, stage="depart",
                         distance_m=first.distance_m)  # fmt: skip
        index = self.next_step
        step: Step = steps[index]
        if step.maneuver == "arrive":
            return
        ahead = self.distance_to_next_m
        if ahead <= self.now_m and (index, "now") not in self._said:
            self._said.update({(index, "now"), (index, "prepare")})
            yield Prompt(speech=f"{step.instruction}.", card=self.card(), step=index,
                         stage="now", distance_m=ahead)  # fmt: skip
        elif ahead <= self.prepare_m and (index, "prepare") not in self._said:
            self._said.add((index, "prepare"))
            yield Prompt(speech=f"In {say_distance(ahead)}, {_lower_first(step.instruction)}.",
                         card=self.card(), step=index, stage="prepare",
                         distance_m=ahead)  # fmt: skip


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
