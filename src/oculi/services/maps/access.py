"""Who may walk where: OpenStreetMap's access rules for pedestrians, as pure functions of tags.

Follows the foot profile of OSRM (the engine we compare against) where OSM leaves room: streets
up to primary, footways, paths, steps, pedestrian streets and their areas (walked along the
outline), crossings, platforms, piers and ferries; `foot=*` over `access=*`; motorways and trunk
roads only with an explicit `foot=yes`; vehicles' one-way rules are ignored (`oneway:foot` is
not). A street whose sidewalks are mapped as separate ways is left to those sidewalks, as OSRM
does. Unlike OSRM, ways under construction stay closed even when an old `foot=*` tag remains.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

RULES_VERSION = 1
"""Bumped whenever the rules change, so that cached graphs are rebuilt."""

WALKABLE_HIGHWAYS = frozenset({
    "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link",
    "unclassified", "residential", "living_street", "service", "track", "road",
    "path", "footway", "pedestrian", "steps", "platform", "pier", "crossing",
})  # fmt: skip
"""Highways a pedestrian may use unless a tag forbids it; any other (motorway, trunk, cycleway,
bridleway, corridor) only with an explicit `foot=yes|designated|permissive|…`."""

NEVER_HIGHWAYS = frozenset({
    "construction", "proposed", "abandoned", "disused", "razed", "raceway", "bus_guideway",
    "escape", "planned", "rest_area", "services", "elevator",
})  # fmt: skip

ALLOWED = frozenset({"yes", "foot", "permissive", "designated", "destination", "customers",
                     "official", "public", "discouraged"})  # fmt: skip
BLOCKED = frozenset({"no", "private", "agricultural", "forestry", "delivery", "use_sidepath",
                     "military", "emergency"})  # fmt: skip
BLOCKING_BARRIERS = frozenset({"yes", "wall", "fence", "hedge", "retaining_wall", "city_wall"})
"""Barrier nodes that stop a walker unless an access tag lets them through (gates do not)."""

SLOW_SURFACES = {"fine_gravel": 0.75, "gravel": 0.75, "pebblestone": 0.75, "mud": 0.5,
                 "sand": 0.5}  # fmt: skip
"""Walking speed factors on loose ground."""

STREET_HIGHWAYS = frozenset({
    "primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link",
    "unclassified", "residential", "living_street", "road", "motorway", "motorway_link",
    "trunk", "trunk_link",
})  # fmt: skip


@dataclass(frozen=True)
class WayAccess:
    """How a pedestrian may use a way."""

    forward: bool
    """Walkable in the direction the way is drawn."""
    backward: bool
    steps: bool
    """Stairs: avoided for strollers and wheelchairs."""
    ferry: bool
    """A boat: crossed at walking pace (as OSRM does without a `duration`), never started on."""
    speed_factor: float
    """Fraction of the walking speed (loose surfaces are slower)."""
    kind: str
    """What it is, for instructions when it has no name: street, footway, steps, crossing, …"""


def _access_value(value: str | None) -> str | None:
    """`foot=yes;no`-style lists: the most permissive part, as OSRM reads them."""
    if value is None or ";" not in value:
        return value
    parts = [p.strip() for p in value.split(";")]
    for group in (ALLOWED, BLOCKED):
        for part in parts:
            if part in group:
                return part
    return parts[0]


def foot_access(tags: Mapping[str, str]) -> str | None:
    """The access value that applies to walkers: `foot` first, then `access`."""
    for key in ("foot", "access"):
        if key in tags:
            return _access_value(tags[key])
    return None


def way_access(tags: Mapping[str, str]) -> WayAccess | None:
    """The pedestrian access of a way, or None when walkers may not use it."""
    highway = tags.get("highway")
    kind = _kind(tags)
    if kind is None or highway in NEVER_HIGHWAYS or tags.get("construction"):
        return None
    foot = _access_value(tags.get("foot"))
    access = foot_access(tags)
    if access in BLOCKED:
        return None
    listed = highway is None or highway in WALKABLE_HIGHWAYS
    if not listed and foot not in ALLOWED:
        return None
    if _sidewalks_separate(tags) and foot not in ALLOWED:
        return None
    forward, backward = _foot_oneway(tags)
    factor = SLOW_SURFACES.get(tags.get("surface", ""), 1.0)
    return WayAccess(forward, backward, highway == "steps", kind == "ferry", factor, kind)


def node_blocks(tags: Mapping[str, str]) -> bool:
    """A node walkers cannot pass: `access=no` gates, walls, fences (unless foot is allowed)."""
    access = foot_access(tags)
    if access is not None:
        return access in BLOCKED
    barrier = tags.get("barrier")
    if barrier is None or barrier not in BLOCKING_BARRIERS:
        return False
    return not (barrier == "fence" and tags.get("sensory") in ("audible", "audio"))


def _kind(tags: Mapping[str, str]) -> str | None:
    highway = tags.get("highway")
    if highway is not None:
        if highway == "footway" and tags.get("footway") == "crossing":
            return "crossing"
        if highway == "footway" and tags.get("footway") == "sidewalk":
            return "sidewalk"
        if highway in STREET_HIGHWAYS:
            return "street"
        return highway
    if tags.get("route") == "ferry":
        return "ferry"
    if tags.get("railway") == "platform" or tags.get("public_transport") == "platform":
        return "platform"
    if tags.get("man_made") == "pier":
        return "pier"
    if tags.get("amenity") in ("parking", "parking_entrance"):
        return "parking"
    return None


def _sidewalks_separate(tags: Mapping[str, str]) -> bool:
    keys = ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")
    return any(tags.get(key) == "separate" for key in keys)


def _foot_oneway(tags: Mapping[str, str]) -> tuple[bool, bool]:
    oneway = tags.get("oneway:foot")
    if oneway in ("yes", "1", "true"):
        return True, False
    if oneway == "-1":
        return False, True
    return True, True
