"""Walking navigation offline from OpenStreetMap: maps, places, routes and guidance.

    walk_map = load_map(path, cache_dir)                      # default map: bundled Helsinki
    stop = walk_map.resolve("the station", near=(lat, lon))   # or "LAT,LON"
    route = walk_map.route((lat, lon), stop, avoid_steps=False)
    navigator = walk_map.navigator(route)
    for event in navigator.feed(gps_fix): ...                 # Prompt, OffRoute, Rerouted, Arrived

Names are loaded on first use, so that `oculi --help` does not pay for numpy, scipy and osmium.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oculi.services.maps.cards import turn_card
    from oculi.services.maps.guidance import ATTRIBUTION, Route, Step, say_distance, show_distance
    from oculi.services.maps.navigator import (
        Arrived,
        NavEvent,
        Navigator,
        OffRoute,
        Prompt,
        Rerouted,
        RouteLost,
    )
    from oculi.services.maps.places import Place
    from oculi.services.maps.walkmap import Stop, WalkMap, default_map_path, load_map, parse_point

_EXPORTS = {
    "turn_card": "cards",
    "ATTRIBUTION": "guidance", "Route": "guidance", "Step": "guidance",
    "say_distance": "guidance", "show_distance": "guidance",
    "Arrived": "navigator", "NavEvent": "navigator", "Navigator": "navigator",
    "OffRoute": "navigator", "Prompt": "navigator", "Rerouted": "navigator",
    "RouteLost": "navigator",
    "Place": "places",
    "Stop": "walkmap", "WalkMap": "walkmap", "default_map_path": "walkmap", "load_map": "walkmap",
    "parse_point": "walkmap",
}  # fmt: skip

__all__ = [
    "ATTRIBUTION", "Arrived", "NavEvent", "Navigator", "OffRoute", "Place", "Prompt", "Rerouted",
    "Route", "RouteLost", "Step", "Stop", "WalkMap", "default_map_path", "load_map",
    "parse_point", "say_distance", "show_distance", "turn_card",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
