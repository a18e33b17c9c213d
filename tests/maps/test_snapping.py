"""Positions snap to the nearest point on a way, never just to the nearest node."""

from __future__ import annotations

import random

import numpy as np
import pytest
from mapdata import at

from conftest import OsmWriter
from oculi.errors import MapError
from oculi.services.maps.geodesy import nearest_on_segment
from oculi.services.maps.walkmap import WalkMap, load_map


def test_a_point_beside_a_long_way_snaps_to_the_way_not_its_end_node(osm_file: OsmWriter) -> None:
    walk_map = load_map(osm_file({1: (0, 0), 2: (400, 0)}, [([1, 2], {"highway": "footway"})]))
    snap = walk_map.snap(*at(130, 12))
    assert snap.distance_m == pytest.approx(12, abs=0.01)
    assert snap.along_m == pytest.approx(130, abs=0.01)


def test_partial_ways_count_at_both_ends(osm_file: OsmWriter) -> None:
    nodes = {1: (0, 0), 2: (100, 0), 3: (100, 100)}
    walk_map = load_map(osm_file(nodes, [([1, 2, 3], {"highway": "footway"})]))
    route = walk_map.route(at(25, 5), at(100, 60))
    assert route.distance_m == pytest.approx(75 + 60, abs=0.05)


def test_snapping_on_monaco_finds_the_nearest_segment_of_all(monaco: WalkMap) -> None:
    graph = monaco.graph
    last = graph.shape_start[1:] - 1
    starts = np.setdiff1d(np.arange(len(graph.shape_lat) - 1), last)
    rng = random.Random(3)
    for _ in range(25):
        lat, lon = rng.uniform(43.727, 43.748), rng.uniform(7.414, 7.437)
        brute = min(nearest_on_segment(lat, lon, (graph.shape_lat[i], graph.shape_lon[i]),
                                       (graph.shape_lat[i + 1], graph.shape_lon[i + 1]))[3]
                    for i in starts)  # fmt: skip
        assert monaco.snapper.snap(lat, lon).distance_m == pytest.approx(brute, abs=1e-6)


def test_a_point_far_from_any_way_is_refused(monaco: WalkMap) -> None:
    with pytest.raises(MapError, match="outside the map"):
        monaco.snap(48.85, 2.35)
