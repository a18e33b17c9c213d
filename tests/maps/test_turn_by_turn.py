"""Steps with street names, turn directions from the angle, and distances that add up."""

from __future__ import annotations

import pytest
from mapdata import at

from conftest import OsmWriter
from oculi.services.maps.guidance import cardinal, show_distance, turn_direction
from oculi.services.maps.walkmap import WalkMap, load_map


@pytest.mark.parametrize(("angle", "direction"), [
    (0, "straight"), (-15, "straight"), (30, "slight_right"), (-40, "slight_left"),
    (90, "right"), (-95, "left"), (150, "sharp_right"), (-140, "sharp_left"), (178, "uturn"),
])  # fmt: skip
def test_turn_direction_from_angle(angle: float, direction: str) -> None:
    assert turn_direction(angle) == direction


def test_cardinal_points() -> None:
    assert [cardinal(b) for b in (0, 44, 91, 180, 269, 350)] == [
        "north", "northeast", "east", "south", "west", "north"]  # fmt: skip


def _crossroads(osm_file: OsmWriter) -> WalkMap:
    """Main Street runs east; Left Lane goes north from its middle, Right Lane south, and a
    footpath carries on east."""
    nodes = {1: (0, 0), 2: (200, 0), 3: (200, 150), 4: (200, -150), 5: (350, 0)}
    ways = [([1, 2], {"highway": "residential", "name": "Main Street"}),
            ([2, 3], {"highway": "residential", "name": "Left Lane"}),
            ([2, 4], {"highway": "residential", "name": "Right Lane"}),
            ([2, 5], {"highway": "footway"})]  # fmt: skip
    return load_map(osm_file(nodes, ways))


def test_left_and_right_turns_onto_named_streets(osm_file: OsmWriter) -> None:
    walk_map = _crossroads(osm_file)
    left = walk_map.route(at(20, 0), at(200, 120))
    right = walk_map.route(at(20, 0), at(200, -120))
    assert [s.instruction for s in left.steps] == [
        "Head east on Main Street",
        "Turn left onto Left Lane",
        "Arrive at your destination",
    ]
    assert right.steps[1].instruction == "Turn right onto Right Lane"
    assert right.steps[1].direction == "right"
    assert left.steps[0].distance_m == pytest.approx(180, abs=0.1)
    assert left.steps[1].distance_m == pytest.approx(120, abs=0.1)
    assert sum(s.distance_m for s in left.steps) == pytest.approx(left.distance_m)


def test_unnamed_ways_are_described_and_json_has_the_fields(osm_file: OsmWriter) -> None:
    route = _crossroads(osm_file).route(at(20, 0), at(300, 0), destination="the Pier")
    body = route.to_json()
    assert set(body) >= {"distance_m", "duration_s", "geometry", "steps", "attribution"}
    assert body["attribution"] == "© OpenStreetMap contributors"
    assert body["steps"][1]["instruction"] == "Continue onto the footpath"
    assert body["steps"][1]["street"] == ""
    assert body["steps"][-1]["instruction"] == "Arrive at the Pier"
    assert all(set(s) >= {"instruction", "distance_m", "street"} for s in body["steps"])


def test_distances_for_the_lens() -> None:
    assert [show_distance(m) for m in (3, 42, 348, 1260)] == ["5 m", "40 m", "350 m", "1.3 km"]


def test_a_walk_to_where_you_stand_is_just_an_arrival(osm_file: OsmWriter) -> None:
    walk_map = _crossroads(osm_file)
    route = walk_map.route(at(50, 0), at(50, 0))
    assert route.distance_m == 0
    assert route.steps[-1].maneuver == "arrive"
    events = walk_map.navigator(route).update(*at(50, 0), t=0.0)
    assert [e.kind for e in events] == ["arrived"]
