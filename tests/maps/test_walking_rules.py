"""Who may walk where: OSM's pedestrian access rules, on tags and on small hand-made maps."""

from __future__ import annotations

import pytest
from mapdata import at

from conftest import OsmWriter
from oculi.errors import MapError
from oculi.services.maps.access import node_blocks, way_access
from oculi.services.maps.walkmap import load_map


@pytest.mark.parametrize("tags", [
    {"highway": "footway"}, {"highway": "path"}, {"highway": "steps"},
    {"highway": "pedestrian"}, {"highway": "pedestrian", "area": "yes"},
    {"highway": "residential"}, {"highway": "primary"}, {"highway": "service"},
    {"highway": "footway", "footway": "crossing"}, {"man_made": "pier"},
    {"railway": "platform"}, {"highway": "motorway", "foot": "yes"},
    {"highway": "cycleway", "foot": "designated"}, {"highway": "track", "access": "no",
                                                     "foot": "yes"},
    {"highway": "residential", "oneway": "yes"}, {"route": "ferry"},
])  # fmt: skip
def test_walkable_ways(tags: dict[str, str]) -> None:
    assert way_access(tags) is not None


@pytest.mark.parametrize("tags", [
    {"highway": "motorway"}, {"highway": "trunk"}, {"highway": "motorway_link"},
    {"highway": "footway", "foot": "no"}, {"highway": "service", "access": "private"},
    {"highway": "path", "access": "no"}, {"highway": "cycleway"},
    {"highway": "construction"}, {"highway": "proposed"}, {"building": "yes"},
    {"highway": "residential", "sidewalk": "separate"},
    {"highway": "primary", "sidewalk:both": "separate"},
    {"highway": "primary", "foot": "use_sidepath"},
])  # fmt: skip
def test_ways_walkers_may_not_use(tags: dict[str, str]) -> None:
    assert way_access(tags) is None


def test_one_way_streets_are_walked_both_ways_but_oneway_foot_is_kept() -> None:
    street = way_access({"highway": "residential", "oneway": "yes"})
    path = way_access({"highway": "footway", "oneway:foot": "yes"})
    assert street is not None and street.forward and street.backward
    assert path is not None and path.forward and not path.backward


def test_steps_and_ferries_are_marked() -> None:
    steps = way_access({"highway": "steps"})
    ferry = way_access({"route": "ferry"})
    assert steps is not None and steps.steps and not steps.ferry
    assert ferry is not None and ferry.ferry


@pytest.mark.parametrize(("tags", "blocks"), [
    ({"barrier": "gate"}, False), ({"barrier": "gate", "access": "no"}, True),
    ({"barrier": "gate", "access": "private", "foot": "yes"}, False),
    ({"barrier": "wall"}, True), ({"barrier": "bollard"}, False),
    ({"barrier": "fence"}, True), ({"highway": "crossing"}, False),
])  # fmt: skip
def test_barrier_nodes(tags: dict[str, str], blocks: bool) -> None:
    assert node_blocks(tags) is blocks


def _gated_lane(gate_tags: dict[str, str]) -> dict[int, tuple[float, float] | tuple[
        float, float, dict[str, str]]]:  # fmt: skip
    return {1: (0, 0), 2: (100, 0, gate_tags), 3: (200, 0)}


def test_a_locked_gate_cuts_the_way(osm_file: OsmWriter) -> None:
    locked = osm_file(_gated_lane({"barrier": "gate", "access": "no"}),
                      [([1, 2, 3], {"highway": "footway"})])  # fmt: skip
    walk_map = load_map(locked)
    with pytest.raises(MapError, match="walking route"):
        walk_map.route(at(10, 0), at(190, 0))


def test_an_open_gate_lets_walkers_through(osm_file: OsmWriter) -> None:
    gate = osm_file(_gated_lane({"barrier": "gate"}), [([1, 2, 3], {"highway": "footway"})])
    route = load_map(gate).route(at(10, 0), at(190, 0))
    assert route.distance_m == pytest.approx(180, abs=0.05)


def test_a_motorway_is_not_a_shortcut(osm_file: OsmWriter) -> None:
    nodes = {1: (0, 0), 2: (300, 0), 3: (0, 100), 4: (300, 100)}
    ways = [([1, 2], {"highway": "motorway"}), ([1, 3, 4, 2], {"highway": "footway"})]
    route = load_map(osm_file(nodes, ways)).route(at(0, 1), at(300, 1))
    assert route.distance_m == pytest.approx(99 + 300 + 99, abs=0.1)


def test_a_one_way_street_is_walked_against_the_traffic(osm_file: OsmWriter) -> None:
    nodes = {1: (0, 0), 2: (200, 0)}
    walk_map = load_map(osm_file(nodes, [([1, 2], {"highway": "residential", "oneway": "yes"})]))
    assert walk_map.route(at(190, 0), at(10, 0)).distance_m == pytest.approx(180, abs=0.05)
