"""Reading an OpenStreetMap extract (PBF or XML) into walkable ways and named places.

One pass with pyosmium: libosmium keeps node locations and filters by tag in C++, so Python sees
only tagged objects (a few thousand for a city) rather than every node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import osmium
from osmium.filter import KeyFilter

from oculi.errors import MapError
from oculi.services.maps.access import WayAccess, node_blocks, way_access

PLACE_KEYS = ("amenity", "shop", "tourism", "railway", "public_transport", "leisure",
              "historic", "office", "craft", "healthcare", "building", "natural", "place",
              "highway", "man_made", "aeroway", "sport")  # fmt: skip
"""Keys whose value says what a named feature is, in order of preference."""

NOT_PLACES = frozenset({"railway rail", "railway tram", "railway light rail", "railway subway",
                        "railway narrow gauge", "railway disused", "railway abandoned",
                        "man made pipeline", "natural coastline", "natural water"})  # fmt: skip
"""Named lines and outlines nobody walks to."""

STREET_JOIN_DEG = 0.004
"""Ways of one name closer than this (~300-400 m) belong to the same street."""

ALIAS_KEYS = ("name:en", "alt_name", "official_name", "short_name", "old_name", "brand")

_WAY_KEYS = ("highway", "railway", "public_transport", "man_made", "amenity", "route", "name")
_NODE_KEYS = ("name", "barrier", "foot", "access")


@dataclass
class RawWay:
    """A walkable way as drawn: its nodes, their positions and its access."""

    node_ids: list[int]
    lats: list[float]
    lons: list[float]
    access: WayAccess
    name: str


@dataclass(frozen=True)
class RawPlace:
    """A named feature: a shop, a station, a museum, a street."""

    name: str
    category: str
    """What it is, in words: "railway station", "shop bakery", "street"."""
    lat: float
    lon: float
    aliases: str = ""
    """Other names (English, official, brand), space separated, searched like the name."""


@dataclass
class RawMap:
    ways: list[RawWay] = field(default_factory=list)
    blocked_nodes: set[int] = field(default_factory=set)
    signal_nodes: set[int] = field(default_factory=set)
    """Traffic lights (`highway=traffic_signals`): a short wait when walked through."""
    places: list[RawPlace] = field(default_factory=list)


def read_osm(path: Path) -> RawMap:
    """Walkable ways, barrier nodes and named places of an OSM file (PBF, XML)."""
    if not path.is_file():
        raise MapError(f"map file {path} does not exist")
    keys = tuple(dict.fromkeys(_WAY_KEYS + _NODE_KEYS))
    entities = osmium.osm.NODE | osmium.osm.WAY
    processor = osmium.FileProcessor(str(path), entities).with_locations()
    raw = RawMap()
    streets: dict[str, list[list[tuple[float, float]]]] = {}
    try:
        for obj in processor.with_filter(KeyFilter(*keys)):
            tags = dict(obj.tags)
            if isinstance(obj, osmium.osm.Node):
                _read_node(obj, tags, raw)
            elif isinstance(obj, osmium.osm.Way):
                _read_way(obj, tags, raw, streets)
    except (RuntimeError, ValueError) as err:
        raise MapError(f"{path} is not a readable OpenStreetMap file ({err})") from err
    raw.places.extend(_street_places(streets))
    if not raw.ways:
        raise MapError(f"{path} has no walkable ways (is it an OSM extract of a built-up area?)")
    return raw


def _read_node(node: osmium.osm.Node, tags: dict[str, str], raw: RawMap) -> None:
    if node_blocks(tags):
        raw.blocked_nodes.add(node.id)
    if tags.get("highway") == "traffic_signals":
        raw.signal_nodes.add(node.id)
    name = tags.get("name")
    if name and node.location.valid():
        category = _category(tags)
        if category:
            loc = node.location
            raw.places.append(RawPlace(name, category, loc.lat, loc.lon, _aliases(tags)))


def _read_way(
    way: osmium.osm.Way,
    tags: dict[str, str],
    raw: RawMap,
    streets: dict[str, list[list[tuple[float, float]]]],
) -> None:
    name = tags.get("name", "")
    access = way_access(tags)
    category = _category(tags) if name else ""
    if access is None and not category:
        return
    ids: list[int] = []
    lats: list[float] = []
    lons: list[float] = []
    for ref in way.nodes:
        loc = ref.location
        if loc.valid():
            ids.append(ref.ref)
            lats.append(loc.lat)
            lons.append(loc.lon)
    if not ids:
        return
    if access is not None and len(ids) >= 2:
        raw.ways.append(RawWay(ids, lats, lons, access, name))
        if name and access.kind in ("street", "pedestrian", "living_street", "footway", "path"):
            streets.setdefault(name, []).append(list(zip(lats, lons, strict=True)))
    if category and not (access is not None and category.startswith("highway")):
        lat, lon = sum(lats) / len(lats), sum(lons) / len(lons)
        raw.places.append(RawPlace(name, category, lat, lon, _aliases(tags)))


def _category(tags: Mapping[str, str]) -> str:
    for key in PLACE_KEYS:
        value = tags.get(key)
        if not value or value == "no" or (value == "yes" and key != "building"):
            continue
        words = "" if value == "yes" else value.replace("_", " ").replace(";", " ")
        category = f"{key.replace('_', ' ')} {words}".strip()
        if key == "highway" and category.startswith(("highway motorway", "highway trunk")):
            return ""
        return "" if category in NOT_PLACES else category
    return ""


def _aliases(tags: Mapping[str, str]) -> str:
    return " ".join(tags[key] for key in ALIAS_KEYS if key in tags)


def _street_places(streets: dict[str, list[list[tuple[float, float]]]]) -> list[RawPlace]:
    """One place per street: ways of the same name within `STREET_JOIN_DEG` are one street,
    placed at its point nearest the middle (towns nearby may each have a "Rue Grimaldi")."""
    places = []
    for name, ways in streets.items():
        groups: list[list[tuple[float, float]]] = []
        for points in ways:
            middle = points[len(points) // 2]
            group = next((g for g in groups if _near(g, middle)), None)
            if group is None:
                groups.append(list(points))
            else:
                group.extend(points)
        for points in groups:
            lat = sum(p[0] for p in points) / len(points)
            lon = sum(p[1] for p in points) / len(points)
            mid = min(points, key=lambda p: (p[0] - lat) ** 2 + (p[1] - lon) ** 2)
            places.append(RawPlace(name, "street", mid[0], mid[1]))
    return places


def _near(points: list[tuple[float, float]], point: tuple[float, float]) -> bool:
    return any(abs(p[0] - point[0]) + abs(p[1] - point[1]) < STREET_JOIN_DEG for p in points)
