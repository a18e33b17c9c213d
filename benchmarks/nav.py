"""Walking navigation on a real city: graph build, route latency, and route lengths vs references.

Map: ../shared/data/osm/monaco.osm.pbf (`--set map=FILE` for another). Walks are random pairs of
points near walkable ways, 300 m to 3 km apart as the crow flies. References: SciPy's Dijkstra on
the same graph (exactness of the A*), and OSRM's foot profile when a Python >= 3.12 with
`osrm-bindings` is given (`--set osrm_python=/path/to/python3.12`): a dedicated engine on the
same map, with its own reading of OSM's walking rules.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from oculi.bench import BenchTable, latency_row, percentile
from oculi.errors import MapError
from oculi.services.maps.cache import compile_map
from oculi.services.maps.geodesy import distance_m
from oculi.services.maps.graph import BACKWARD, FORWARD
from oculi.services.maps.guidance import Route
from oculi.services.maps.walkmap import WalkMap, load_map

NAME = "nav"
DESCRIPTION = "walking routes on Monaco: build time/memory, route p50/p95, lengths vs OSRM"

MONACO = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm" / "monaco.osm.pbf"
_BUILD_PROBE = """
import resource, sys, time, tracemalloc
from pathlib import Path
from oculi.services.maps.cache import compile_map
if sys.argv[2:] == ["trace"]:
    tracemalloc.start()
start = time.perf_counter()
compile_map(Path(sys.argv[1]), None)
seconds = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1] / 2**20
print(seconds, peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def run(runs: int, advance: Callable[[], None], options: dict[str, str]) -> list[BenchTable]:
    path = Path(options.get("map", str(MONACO)))
    build = BenchTable(NAME, f"Walking graph of {path.name}", ["measure", "value"])
    if not path.is_file():
        build.notes.append(f"{path} not found (../shared/data missing?); nothing measured")
        return [build]
    with tempfile.TemporaryDirectory() as tmp:
        walk_map = _measure_build(path, Path(tmp), build)
        pairs = _pairs(walk_map, max(runs, 20), seed=int(options.get("seed", "8")))
        latency, routes = _measure_routes(walk_map, pairs, advance)
        accuracy = _compare(walk_map, pairs, routes, options, Path(tmp))
    return [build, latency, accuracy]


def _measure_build(path: Path, cache: Path, table: BenchTable) -> WalkMap:
    seconds = statistics.median(_probe_build(path)[0] for _ in range(3))
    traced = _probe_build(path, trace=True)
    table.rows.append(["map file", f"{path.stat().st_size / 2**20:.1f} MiB"])
    table.rows.append(["parse + build, cold (median of 3)", f"{seconds:.2f} s"])
    table.rows.append(["peak memory of the build (allocations)", f"{traced[1]:.0f} MiB"])
    table.rows.append(["peak RSS of the whole process", f"{traced[2]:.0f} MiB"])
    compile_map(path, cache)
    start = time.perf_counter()
    compiled = compile_map(path, cache)
    table.rows.append(
        ["compiled map from the cache", f"{(time.perf_counter() - start) * 1e3:.0f} ms"]
    )
    start = time.perf_counter()
    walk_map = load_map(path, cache)
    table.rows.append(["load_map from cache (+ index, router)",
                       f"{(time.perf_counter() - start) * 1e3:.0f} ms"])  # fmt: skip
    graph = compiled.graph
    table.rows.append(
        [
            "vertices / edges / shape points",
            f"{graph.vertex_count} / {graph.edge_count} / {len(graph.shape_lat)}",
        ]
    )
    table.rows.append(["graph arrays", f"{graph.nbytes / 2**20:.1f} MiB"])
    table.rows.append(["walkable length", f"{graph.edge_length.sum() / 1000:.0f} km"])
    table.rows.append(["named places", str(len(compiled.places))])
    table.notes.append("cold build in a fresh process each time (no cache); allocations traced "
                       "by tracemalloc (numpy included, libosmium's node index not)")  # fmt: skip
    return walk_map


def _probe_build(path: Path, trace: bool = False) -> tuple[float, float, float]:
    """(seconds, peak traced MiB, peak RSS MiB) of a cold build in a fresh interpreter."""
    command = [sys.executable, "-c", _BUILD_PROBE, str(path), *(["trace"] if trace else [])]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    seconds, peak, rss = (float(v) for v in done.stdout.split())
    return seconds, peak, rss


def _pairs(walk_map: WalkMap, count: int, seed: int) -> list[tuple[float, float, float, float]]:
    """Random walks: points within 20 m of ways of the main network, 300 m - 3 km apart."""
    graph = walk_map.graph
    rng = random.Random(seed)
    big = np.flatnonzero(graph.vertex_big[graph.edge_u])
    pairs: list[tuple[float, float, float, float]] = []
    while len(pairs) < count:
        a, b = (_near_way(walk_map, int(rng.choice(big)), rng) for _ in range(2))
        if 300 <= distance_m(*a, *b) <= 3000:
            pairs.append((*a, *b))
    return pairs


def _near_way(walk_map: WalkMap, edge: int, rng: random.Random) -> tuple[float, float]:
    lat, lon = walk_map.graph.edge_shape(edge)
    i = rng.randrange(len(lat))
    return (float(lat[i]) + rng.uniform(-1.5e-4, 1.5e-4),
            float(lon[i]) + rng.uniform(-2e-4, 2e-4))  # fmt: skip


def _measure_routes(
    walk_map: WalkMap, pairs: list[tuple[float, float, float, float]], advance: Callable[[], None]
) -> tuple[BenchTable, list[Route | None]]:
    table = BenchTable(f"{NAME}_latency", f"Walking routes ({walk_map.path.name})",
                       ["measure", "n", "p50 ms", "p95 ms", "mean ms"])  # fmt: skip
    whole, search, snaps = [], [], []
    routes: list[Route | None] = []
    for lat1, lon1, lat2, lon2 in pairs:
        start = time.perf_counter()
        try:
            route = walk_map.route((lat1, lon1), (lat2, lon2))
        except MapError:
            routes.append(None)
            continue
        whole.append(time.perf_counter() - start)
        routes.append(route)
        a, b = route.legs[0].start, route.legs[0].end
        start = time.perf_counter()
        walk_map.router.leg(a, b)
        search.append(time.perf_counter() - start)
        start = time.perf_counter()
        walk_map.snap(lat1, lon1)
        snaps.append(time.perf_counter() - start)
        advance()
    for label, samples in (("route: snap both ends + A* + steps", whole),
                           ("A* search alone", search), ("snap one point", snaps)):  # fmt: skip
        table.rows.append(latency_row(label, samples))
        table.samples_ms[label] = [s * 1000 for s in samples]
    table.rows.append(latency_row("geocode (8 queries)", _geocode_times(walk_map)))
    table.rows.append(latency_row("navigator: one GPS fix", _fix_times(walk_map, routes)))
    lengths = [r.distance_m for r in routes if r is not None]
    median = statistics.median(lengths)
    table.notes.append(f"{len(lengths)} of {len(pairs)} walks routed; median length {median:.0f} m;"
                       " target 10 ms per city route")  # fmt: skip
    return table, routes


def _geocode_times(walk_map: WalkMap) -> list[float]:
    queries = ("station", "pharmacy", "Musée Océanographique", "musee oceanografique", "casino",
               "post office", "Rue Grimaldi", "bakery")  # fmt: skip
    times = []
    for query in queries:
        start = time.perf_counter()
        walk_map.search(query, near=walk_map.graph.bounds()[:2])
        times.append(time.perf_counter() - start)
    return times


def _fix_times(walk_map: WalkMap, routes: list[Route | None]) -> list[float]:
    route = max((r for r in routes if r is not None), key=lambda r: r.distance_m)
    navigator = walk_map.navigator(route)
    times = []
    for i, along in enumerate(np.arange(0.0, route.distance_m, 7.0)):
        lat, lon = route.point_at(float(along))
        start = time.perf_counter()
        navigator.update(lat, lon, float(i * 5))
        times.append(time.perf_counter() - start)
    return times


def _compare(
    walk_map: WalkMap, pairs: list[tuple[float, float, float, float]],
    routes: list[Route | None], options: dict[str, str], work: Path,
) -> BenchTable:  # fmt: skip
    table = BenchTable(f"{NAME}_lengths", "Route lengths against references",
                       ["reference", "walks", "median |Δ| %", "p95 |Δ| %", "max |Δ| %",
                        "within 0.5 %", "ref p50 ms"])  # fmt: skip
    table.rows.append(_scipy_row(walk_map, routes))
    python = options.get("osrm_python", "")
    if not python:
        table.notes.append("OSRM: not run (osrm-bindings needs Python >= 3.12; name one that has "
                           "it with --set osrm_python=/path/to/python3.12)")  # fmt: skip
        return table
    try:
        osrm = _osrm_routes(python, Path(options.get("map", str(MONACO))), pairs, work)
    except (OSError, subprocess.CalledProcessError, ValueError) as err:
        table.notes.append(f"OSRM: could not run ({err})")
        return table
    diffs = []
    for ours, theirs in zip(routes, osrm, strict=True):
        if ours is not None and theirs is not None and theirs["distance_m"] > 0:
            diffs.append(abs(ours.distance_m - theirs["distance_m"]) / theirs["distance_m"] * 100)
    within = sum(d <= 0.5 for d in diffs)
    table.rows.append(["OSRM foot profile (MLD)", len(diffs), round(percentile(diffs, 50), 3),
                       round(percentile(diffs, 95), 2), round(max(diffs), 2),
                       f"{within}/{len(diffs)}", ""])  # fmt: skip
    table.notes.append("OSRM minimises time with its own turn and signal penalties; Δ is the "
                       "difference in route length for the same start and end points")  # fmt: skip
    return table


def _scipy_row(walk_map: WalkMap, routes: list[Route | None]) -> list[object]:
    """Dijkstra over the same arcs (plus the snapped ends) as an exactness check of the A*."""
    graph, router = walk_map.graph, walk_map.router
    n = graph.vertex_count
    source = np.repeat(np.arange(n), np.diff(graph.arc_start))
    targets = graph.arc_targets()
    seconds = router.arc_seconds
    diffs, times = [], []
    for route in routes:
        if route is None:
            continue
        leg = route.legs[0]
        rows, cols, weights = _ends(walk_map, leg.start.edge, leg.start.along_m, n, True)
        rows2, cols2, weights2 = _ends(walk_map, leg.end.edge, leg.end.along_m, n + 1, False)
        all_rows = np.concatenate([source, rows, rows2])
        all_cols = np.concatenate([targets, cols, cols2])
        all_w = np.concatenate([seconds, weights, weights2]) + 1e-9
        order = np.lexsort((all_w, all_cols, all_rows))
        all_rows, all_cols, all_w = all_rows[order], all_cols[order], all_w[order]
        keep = np.ones(len(all_rows), bool)
        keep[1:] = (all_rows[1:] != all_rows[:-1]) | (all_cols[1:] != all_cols[:-1])
        matrix = csr_matrix((all_w[keep], (all_rows[keep], all_cols[keep])), shape=(n + 2, n + 2))
        start = time.perf_counter()
        best = float(dijkstra(matrix, indices=n)[n + 1])
        times.append(time.perf_counter() - start)
        if leg.start.edge != leg.end.edge and math.isfinite(best):
            diffs.append(abs(best - leg.duration_s) / best * 100)
    within = sum(d <= 0.5 for d in diffs)
    return ["SciPy Dijkstra, same graph", len(diffs), round(percentile(diffs, 50), 4),
            round(percentile(diffs, 95), 4), round(max(diffs), 4), f"{within}/{len(diffs)}",
            round(percentile([t * 1000 for t in times], 50), 2)]  # fmt: skip


def _ends(
    walk_map: WalkMap, edge: int, along: float, virtual: int, leaving: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    graph = walk_map.graph
    rate = 1 / (walk_map.router.speed_mps * float(graph.edge_factor[edge]))
    ends = np.array([graph.edge_u[edge], graph.edge_v[edge]])
    cost = np.array([along, float(graph.edge_length[edge]) - along]) * rate
    flags = int(graph.edge_flags[edge])
    usable = np.array([bool(flags & (BACKWARD if leaving else FORWARD)),
                       bool(flags & (FORWARD if leaving else BACKWARD))])  # fmt: skip
    fixed = np.full(2, virtual)
    ends, cost, fixed = ends[usable], cost[usable], fixed[usable]
    return (fixed, ends, cost) if leaving else (ends, fixed, cost)


def _osrm_routes(
    python: str, path: Path, pairs: list[tuple[float, float, float, float]], work: Path
) -> list[dict[str, float] | None]:
    helper = Path(__file__).with_name("_osrm_foot.py")
    done = subprocess.run([python, str(helper), str(path), str(work / "osrm")],
                          input=json.dumps(pairs), capture_output=True, text=True,
                          check=True, timeout=600)  # fmt: skip
    answers: list[dict[str, float] | None] = json.loads(done.stdout)
    return answers
