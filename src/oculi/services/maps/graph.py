"""The pedestrian graph, compiled into flat numpy arrays.

Vertices are junctions (and way ends); an edge is the stretch of a way between two of them, with
its full shape for snapping and drawing. Arcs (the directions an edge may be walked) are stored
CSR-style, so the router walks plain arrays. A node walkers cannot pass (a locked gate, a wall)
gets one vertex per edge that touches it: every side ends there.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from oculi.services.maps.access import WayAccess
from oculi.services.maps.geodesy import distances_m
from oculi.services.maps.osm import RawMap

FORWARD = 1
"""Edge flag: walkable from its first vertex to its second."""
BACKWARD = 2
STEPS = 4
FERRY = 8

SMALL_COMPONENT = 500
"""Vertices below which a disconnected piece (a courtyard, a private yard) is not snapped to when
a larger piece is near; as OSRM does, so that a route does not start on an island."""

Ints = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class WalkGraph:
    """Arrays of the pedestrian graph; `names` and `kinds` are looked up by index."""

    vertex_lat: Floats
    vertex_lon: Floats
    vertex_piece: Ints
    """Which connected piece of the network the vertex belongs to."""
    vertex_big: npt.NDArray[np.bool_]
    """The vertex lies in a large connected piece of the network."""
    edge_u: Ints
    edge_v: Ints
    edge_length: Floats
    """Metres along the shape, on the WGS84 ellipsoid."""
    edge_factor: npt.NDArray[np.float32]
    """Walking speed factor (loose surfaces are slower)."""
    edge_flags: npt.NDArray[np.uint8]
    edge_name: Ints
    edge_kind: npt.NDArray[np.uint8]
    edge_signals: npt.NDArray[np.uint8]
    """Traffic lights inside the edge (not at its ends)."""
    vertex_signal: npt.NDArray[np.bool_]
    """A traffic light at the vertex."""
    shape_start: npt.NDArray[np.int64]
    """Edge e's shape is points shape_start[e] .. shape_start[e + 1] - 1."""
    shape_lat: Floats
    shape_lon: Floats
    shape_along: Floats
    """Metres from the edge's first point to each shape point."""
    arc_start: npt.NDArray[np.int64]
    """Arcs leaving vertex v are arc_start[v] .. arc_start[v + 1] - 1."""
    arc_edge: Ints
    arc_forward: npt.NDArray[np.bool_]
    """The arc walks its edge from u to v (else v to u)."""
    names: tuple[str, ...]
    kinds: tuple[str, ...]

    @property
    def vertex_count(self) -> int:
        return len(self.vertex_lat)

    @property
    def edge_count(self) -> int:
        return len(self.edge_u)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return sum(a.nbytes for a in self._arrays().values())

    def bounds(self) -> tuple[float, float, float, float]:
        """(south, west, north, east) of everything walkable."""
        return (float(self.shape_lat.min()), float(self.shape_lon.min()),
                float(self.shape_lat.max()), float(self.shape_lon.max()))  # fmt: skip

    def arc_targets(self) -> Ints:
        """The vertex each arc leads to."""
        edge = self.arc_edge
        targets: Ints = np.where(self.arc_forward, self.edge_v[edge], self.edge_u[edge])
        return targets

    def edge_shape(self, edge: int) -> tuple[Floats, Floats]:
        start, end = self.shape_start[edge], self.shape_start[edge + 1]
        return self.shape_lat[start:end], self.shape_lon[start:end]

    def _arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if isinstance(getattr(self, f.name), np.ndarray)}  # fmt: skip

    def to_arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Everything as named arrays, for `numpy.savez`."""
        arrays = self._arrays()
        arrays["names"] = np.array(self.names, dtype=str)
        arrays["kinds"] = np.array(self.kinds, dtype=str)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[Any]]) -> WalkGraph:
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = arrays[f.name]
            values[f.name] = tuple(str(v) for v in value) if f.name in ("names", "kinds") else value
        return cls(**values)


def build_graph(raw: RawMap) -> WalkGraph:
    """Split the walkable ways at junctions and barriers and compile the arrays."""
    node_ids = np.fromiter((n for w in raw.ways for n in w.node_ids), dtype=np.int64)
    lats = np.fromiter((v for w in raw.ways for v in w.lats), dtype=np.float64)
    lons = np.fromiter((v for w in raw.ways for v in w.lons), dtype=np.float64)
    way_len = np.array([len(w.node_ids) for w in raw.ways], dtype=np.int64)
    way_first = np.concatenate([[0], np.cumsum(way_len)[:-1]])
    way_last = way_first + way_len - 1
    way_of_ref = np.repeat(np.arange(len(raw.ways)), way_len)

    unique, node_of_ref, counts = np.unique(node_ids, return_inverse=True, return_counts=True)
    counts[node_of_ref[way_first]] += 1
    counts[node_of_ref[way_last]] += 1
    blocked = np.isin(unique, np.fromiter(raw.blocked_nodes, dtype=np.int64))
    signal = np.isin(unique, np.fromiter(raw.signal_nodes, dtype=np.int64))
    split_node = (counts >= 2) | blocked
    split_ref = split_node[node_of_ref]
    split_ref[way_first] = True
    split_ref[way_last] = True
    cuts = np.flatnonzero(split_ref)
    same_way = way_of_ref[cuts[:-1]] == way_of_ref[cuts[1:]]
    edge_a, edge_b = cuts[:-1][same_way], cuts[1:][same_way]
    edge_way = way_of_ref[edge_a]

    shape_count = edge_b - edge_a + 1
    shape_start = np.concatenate([[0], np.cumsum(shape_count)]).astype(np.int64)
    shape_ref = np.repeat(edge_a - shape_start[:-1], shape_count) + np.arange(shape_start[-1])
    shape_lat, shape_lon = lats[shape_ref], lons[shape_ref]
    step = np.zeros(len(shape_lat))
    step[1:] = distances_m(shape_lat[:-1], shape_lon[:-1], shape_lat[1:], shape_lon[1:])
    step[shape_start[:-1]] = 0.0
    cumulative = np.cumsum(step)
    shape_along = cumulative - np.repeat(cumulative[shape_start[:-1]], shape_count)
    edge_length = shape_along[shape_start[1:] - 1]

    vertex_of_node = np.cumsum(split_node & ~blocked) - 1
    ends = node_of_ref[np.concatenate([edge_a, edge_b])]
    vertex_of_end = vertex_of_node[ends]
    end_blocked = blocked[ends]
    first_new = int(np.count_nonzero(split_node & ~blocked))
    vertex_of_end[end_blocked] = first_new + np.arange(np.count_nonzero(end_blocked))
    vertex_count = first_new + int(np.count_nonzero(end_blocked))
    vertex_lat = np.zeros(vertex_count)
    vertex_lon = np.zeros(vertex_count)
    vertex_lat[vertex_of_end] = lats[np.concatenate([edge_a, edge_b])]
    vertex_lon[vertex_of_end] = lons[np.concatenate([edge_a, edge_b])]
    edge_u, edge_v = np.split(vertex_of_end.astype(np.int32), 2)
    vertex_signal = np.zeros(vertex_count, dtype=bool)
    vertex_signal[vertex_of_end] = signal[ends]
    inner = np.ones(len(shape_ref), dtype=bool)
    inner[shape_start[:-1]] = False
    inner[shape_start[1:] - 1] = False
    lit = inner & signal[node_of_ref[shape_ref]]
    edge_signals = np.add.reduceat(lit.astype(np.int64), shape_start[:-1]).astype(np.uint8)

    names, name_ids = _intern([raw.ways[w].name for w in edge_way])
    kinds, kind_ids = _intern([raw.ways[w].access.kind for w in edge_way])
    flags = np.array([_flags(raw.ways[w].access) for w in edge_way], dtype=np.uint8)
    factor = np.array([raw.ways[w].access.speed_factor for w in edge_way], dtype=np.float32)
    arc_start, arc_edge, arc_forward = _arcs(edge_u, edge_v, flags, vertex_count)
    piece, big = _pieces(edge_u, edge_v, vertex_count)
    return WalkGraph(
        vertex_lat=vertex_lat, vertex_lon=vertex_lon, vertex_piece=piece, vertex_big=big,
        edge_u=edge_u, edge_v=edge_v, edge_length=edge_length, edge_factor=factor,
        edge_flags=flags, edge_name=name_ids, edge_kind=kind_ids.astype(np.uint8),
        edge_signals=edge_signals, vertex_signal=vertex_signal,
        shape_start=shape_start, shape_lat=shape_lat, shape_lon=shape_lon,
        shape_along=shape_along, arc_start=arc_start, arc_edge=arc_edge,
        arc_forward=arc_forward, names=names, kinds=kinds,
    )  # fmt: skip


def _flags(access: WayAccess) -> int:
    return ((FORWARD * access.forward) | (BACKWARD * access.backward) | (STEPS * access.steps)
            | (FERRY * access.ferry))  # fmt: skip


def _intern(values: list[str]) -> tuple[tuple[str, ...], Ints]:
    table: dict[str, int] = {}
    ids = np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int32)
    return tuple(table), ids


def _arcs(
    edge_u: Ints, edge_v: Ints, flags: npt.NDArray[np.uint8], vertex_count: int
) -> tuple[npt.NDArray[np.int64], Ints, npt.NDArray[np.bool_]]:
    edges = np.arange(len(edge_u), dtype=np.int32)
    forward = (flags & FORWARD) != 0
    backward = (flags & BACKWARD) != 0
    source = np.concatenate([edge_u[forward], edge_v[backward]])
    arc_edge = np.concatenate([edges[forward], edges[backward]])
    arc_forward = np.concatenate([np.ones(forward.sum(), bool), np.zeros(backward.sum(), bool)])
    order = np.argsort(source, kind="stable")
    counts = np.bincount(source, minlength=vertex_count)
    arc_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return arc_start, arc_edge[order], arc_forward[order]


def _pieces(edge_u: Ints, edge_v: Ints, vertex_count: int) -> tuple[Ints, npt.NDArray[np.bool_]]:
    """Connected pieces (ignoring one-way paths) and whether each vertex's piece is large."""
    ones = np.ones(len(edge_u), dtype=np.int8)
    matrix = coo_matrix((ones, (edge_u, edge_v)), shape=(vertex_count, vertex_count))
    _, label = connected_components(matrix, directed=False)
    sizes = np.bincount(label)
    big: npt.NDArray[np.bool_] = sizes[label] >= min(SMALL_COMPONENT, int(sizes.max()))
    return label.astype(np.int32), big
