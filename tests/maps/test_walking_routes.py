"""Shortest walks on Monaco: exact against Dijkstra, with the options a walker asks for."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from mapdata import at
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from conftest import OsmWriter
from oculi.errors import MapError
from oculi.services.maps.geodesy import distance_m
from oculi.services.maps.graph import FERRY, STEPS
from oculi.services.maps.routing import Leg
from oculi.services.maps.walkmap import WalkMap, load_map

MONTE_CARLO = (43.7400, 7.4260)
FONTVIEILLE = (43.7310, 7.4190)


def _reference_seconds(walk_map: WalkMap, leg: Leg) -> float:
    """Dijkstra over every arc plus two virtual end vertices, duplicates kept at their minimum."""
    graph, router = walk_map.graph, walk_map.router
    n = graph.vertex_count
    rows = [np.repeat(np.arange(n), np.diff(graph.arc_start))]
    cols = [graph.arc_targets()]
    weights = [router.arc_seconds]
    for snap, virtual, leaving in ((leg.start, n, True), (leg.end, n + 1, False)):
        edge = snap.edge
        rate = 1 / (router.speed_mps * float(graph.edge_factor[edge]))
        ends = np.array([graph.edge_u[edge], graph.edge_v[edge]])
        cost = np.array([snap.along_m, graph.edge_length[edge] - snap.along_m]) * rate
        rows.append(np.full(2, virtual) if leaving else ends)
        cols.append(ends if leaving else np.full(2, virtual))
        weights.append(cost)
    r, c, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(weights) + 1e-9
    order = np.lexsort((w, c, r))
    r, c, w = r[order], c[order], w[order]
    keep = np.ones(len(r), bool)
    keep[1:] = (r[1:] != r[:-1]) | (c[1:] != c[:-1])
    matrix = csr_matrix((w[keep], (r[keep], c[keep])), shape=(n + 2, n + 2))
    return float(dijkstra(matrix, indices=n)[n + 1])


def test_routes_are_as_short_as_dijkstra_finds(monaco: WalkMap) -> None:
    rng = random.Random(5)
    checked = 0
    while checked < 12:
        a = (rng.uniform(43.727, 43.748), rng.uniform(7.414, 7.437))
        b = (rng.uniform(43.727, 43.748), rng.uniform(7.414, 7.437))
        try:
            route = monaco.route(a, b)
        except MapError:
            continue
        leg = route.legs[0]
        if leg.start.edge == leg.end.edge:
            continue
        assert leg.duration_s == pytest.approx(_reference_seconds(monaco, leg), abs=1e-3)
        checked += 1


def test_route_geometry_length_and_duration_agree(monaco: WalkMap) -> None:
    route = monaco.route(FONTVIEILLE, MONTE_CARLO)
    walked = sum(distance_m(*a, *b) for a, b in itertools.pairwise(route.geometry))
    assert route.distance_m == pytest.approx(walked, rel=1e-9)
    assert 1400 < route.distance_m < 1700
    assert route.duration_s >= route.distance_m / monaco.speed_mps


def test_avoiding_steps_never_takes_steps(monaco: WalkMap) -> None:
    usual = monaco.route(FONTVIEILLE, MONTE_CARLO)
    level = monaco.route(FONTVIEILLE, MONTE_CARLO, avoid_steps=True)
    flags = monaco.graph.edge_flags
    assert any(flags[p.edge] & STEPS for p in usual.legs[0].pieces), "pick a walk with steps"
    assert not any(flags[p.edge] & STEPS for p in level.legs[0].pieces)
    assert level.distance_m > usual.distance_m


def test_avoiding_ferries_walks_round_the_port(monaco: WalkMap) -> None:
    larvotto, old_town = (43.7472, 7.4343), (43.7323, 7.4280)
    by_boat = monaco.route(larvotto, old_town)
    walking = monaco.route(larvotto, old_town, avoid_ferries=True)
    assert any(s.way == "ferry" for s in by_boat.steps)
    assert not any(monaco.graph.edge_flags[p.edge] & FERRY for p in walking.legs[0].pieces)
    assert walking.distance_m > by_boat.distance_m


def test_via_points_are_visited_in_order(monaco: WalkMap) -> None:
    via = (43.7353, 7.4215)
    route = monaco.route(FONTVIEILLE, MONTE_CARLO, via=[via])
    first, second = monaco.route(FONTVIEILLE, via), monaco.route(via, MONTE_CARLO)
    assert len(route.legs) == 2
    assert route.distance_m == pytest.approx(first.distance_m + second.distance_m, rel=1e-9)
    assert any(s.maneuver == "via" for s in route.steps)
    nearest = min(distance_m(*via, *p) for p in route.geometry)
    assert nearest < 30


def test_unconnected_places_have_no_walking_route(osm_file: OsmWriter) -> None:
    nodes = {1: (0, 0), 2: (100, 0), 3: (900, 0), 4: (1000, 0)}
    ways = [([1, 2], {"highway": "footway"}), ([3, 4], {"highway": "footway"})]
    with pytest.raises(MapError, match="can't find a walking route"):
        load_map(osm_file(nodes, ways)).route(at(10, 0), at(990, 0))


def test_a_start_on_a_small_island_of_paths_uses_the_mainland(osm_file: OsmWriter) -> None:
    mainland = {i: (i * 50.0, 0.0) for i in range(1, 12)}
    island = {100: (300.0, 40.0), 101: (320.0, 40.0)}
    ways = [([i, i + 1], {"highway": "footway"}) for i in range(1, 11)]
    ways.append(([100, 101], {"highway": "footway"}))
    route = load_map(osm_file({**mainland, **island}, ways)).route(at(310, 38), at(500, 0))
    assert route.distance_m == pytest.approx(190, abs=0.1)
    assert math.isclose(route.legs[0].start.distance_m, 38, abs_tol=0.1)
