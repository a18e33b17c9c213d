"""Maps written by hand as OSM XML (a few ways on a metric grid), and the real Monaco extract."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest
from mapdata import MONACO, Node, Way, write_osm

from oculi.services.maps.walkmap import WalkMap, load_map

OsmWriter = Callable[[Mapping[int, Node], Sequence[Way]], Path]


@pytest.fixture
def osm_file(tmp_path: Path) -> OsmWriter:
    """Writes nodes and ways as an .osm file in a fresh folder and returns its path."""
    count = 0

    def write(nodes: Mapping[int, Node], ways: Sequence[Way]) -> Path:
        nonlocal count
        count += 1
        return write_osm(tmp_path / f"map{count}.osm", nodes, ways)

    return write


@pytest.fixture(scope="session")
def monaco_path() -> Path:
    if not MONACO.is_file():
        pytest.skip("../shared/data/osm/monaco.osm.pbf is not beside the project")
    return MONACO


@pytest.fixture(scope="session")
def monaco(monaco_path: Path, tmp_path_factory: pytest.TempPathFactory) -> WalkMap:
    """Monaco's walking map, built once for the whole session."""
    return load_map(monaco_path, tmp_path_factory.mktemp("map-cache"))
