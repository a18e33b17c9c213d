"""Compiled maps on disk, keyed by the content of the OSM file and the version of the rules.

A compiled map is one uncompressed `.npz` (no pickles): loading it is a few milliseconds of
reads instead of a parse of the whole extract.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from oculi.errors import MapError
from oculi.services.maps.access import RULES_VERSION
from oculi.services.maps.graph import WalkGraph, build_graph
from oculi.services.maps.osm import RawPlace, read_osm

FORMAT_VERSION = 1
"""Bumped whenever the arrays change shape or meaning."""


@dataclass(frozen=True)
class CompiledMap:
    """What routing and place search need from one OSM file."""

    graph: WalkGraph
    places: tuple[RawPlace, ...]
    file_hash: str
    from_cache: bool


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_path(cache_dir: Path, digest: str) -> Path:
    return cache_dir / f"walk-{digest[:24]}-r{RULES_VERSION}f{FORMAT_VERSION}.npz"


def compile_map(path: Path, cache_dir: Path | None) -> CompiledMap:
    """The compiled map of an OSM file: from the cache when it holds one, else built (and saved)."""
    if not path.is_file():
        raise MapError(f"map file {path} does not exist")
    digest = file_hash(path)
    cached = cache_path(cache_dir, digest) if cache_dir is not None else None
    if cached is not None and cached.is_file():
        loaded = _load(cached, digest)
        if loaded is not None:
            return loaded
    raw = read_osm(path)
    compiled = CompiledMap(build_graph(raw), tuple(raw.places), digest, from_cache=False)
    if cached is not None:
        _save(compiled, cached)
    return compiled


def _save(compiled: CompiledMap, target: Path) -> None:
    """Write atomically, so a reader never sees half a file; a read-only cache is not an error."""
    arrays: dict[str, npt.NDArray[Any]] = compiled.graph.to_arrays()
    places = compiled.places
    arrays["place_name"] = np.array([p.name for p in places], dtype=str)
    arrays["place_category"] = np.array([p.category for p in places], dtype=str)
    arrays["place_aliases"] = np.array([p.aliases for p in places], dtype=str)
    arrays["place_lat"] = np.array([p.lat for p in places], dtype=np.float64)
    arrays["place_lon"] = np.array([p.lon for p in places], dtype=np.float64)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            np.savez(file, allow_pickle=False, **arrays)
        os.replace(temporary, target)
    except OSError:
        return


def _load(path: Path, digest: str) -> CompiledMap | None:
    """The cached map, or None when the file is damaged (it is then rebuilt)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        graph = WalkGraph.from_arrays(arrays)
        places = tuple(
            RawPlace(str(n), str(c), float(la), float(lo), str(a))
            for n, c, a, la, lo in zip(arrays["place_name"], arrays["place_category"],
                                       arrays["place_aliases"], arrays["place_lat"],
                                       arrays["place_lon"], strict=True)
        )  # fmt: skip
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    return CompiledMap(graph, places, digest, from_cache=True)
