"""Snapping a position to the nearest point *on* a walkable way, not to the nearest node.

Points are sampled along every segment at most `SAMPLE_M` apart into a KD-tree; the nearest
sample bounds the distance to the nearest segment, and every segment within that bound plus half
a sample spacing is then measured exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from oculi.services.maps.geodesy import ruler_factors
from oculi.services.maps.graph import WalkGraph

SAMPLE_M = 8.0
_MARGIN = 1.01
"""Slack for the flat frame the tree uses (exact distances are taken on the ellipsoid)."""


@dataclass(frozen=True)
class Snap:
    """Where a position meets the network."""

    lat: float
    lon: float
    edge: int
    along_m: float
    """Metres from the edge's first point to the snapped point."""
    distance_m: float
    """From the position asked about to the snapped point."""


class Snapper:
    """Nearest-point-on-segment queries over one graph."""

    def __init__(self, graph: WalkGraph) -> None:
        self._graph = graph
        south, _, north, _ = graph.bounds()
        self._kx, self._ky = ruler_factors((south + north) / 2)
        last = graph.shape_start[1:] - 1
        is_segment = np.ones(len(graph.shape_lat), dtype=bool)
        is_segment[last] = False
        self._seg = np.flatnonzero(is_segment)
        """Segment i runs from shape point seg[i] to seg[i] + 1."""
        counts = np.diff(graph.shape_start) - 1
        self._seg_edge = np.repeat(np.arange(graph.edge_count), counts)
        a, b = self._seg, self._seg + 1
        length = graph.shape_along[b] - graph.shape_along[a]
        samples = np.ceil(length / SAMPLE_M).astype(np.int64) + 1
        owner = np.repeat(np.arange(len(a)), samples)
        first = np.concatenate([[0], np.cumsum(samples)[:-1]])
        fraction = (np.arange(samples.sum()) - first[owner]) / np.maximum(samples[owner] - 1, 1)
        lat0, lon0 = graph.shape_lat[a[owner]], graph.shape_lon[a[owner]]
        lat = lat0 + fraction * (graph.shape_lat[b[owner]] - lat0)
        lon = lon0 + fraction * (graph.shape_lon[b[owner]] - lon0)
        self._sample_seg = owner
        self._tree = cKDTree(np.column_stack([lon * self._kx, lat * self._ky]))

    def snap(self, lat: float, lon: float, edges: npt.NDArray[np.bool_] | None = None) -> Snap:
        """The nearest point on any edge (or on the edges marked True in `edges`)."""
        point = (lon * self._kx, lat * self._ky)
        total = len(self._sample_seg)
        k = 1
        while True:
            distances, index = self._tree.query(point, k=min(k, total))
            distances, index = np.atleast_1d(distances), np.atleast_1d(index)
            if edges is not None:
                keep = edges[self._seg_edge[self._sample_seg[index]]]
                distances = distances[keep]
            if len(distances) or k >= total:
                break
            k *= 8
        if not len(distances):
            raise ValueError("no edge is allowed")
        radius = float(distances.min()) * _MARGIN + SAMPLE_M / 2 + 0.5
        near = np.asarray(self._tree.query_ball_point(point, radius), dtype=np.int64)
        segments = np.unique(self._sample_seg[near])
        if edges is not None:
            segments = segments[edges[self._seg_edge[segments]]]
        return self._nearest(lat, lon, segments)

    def _nearest(self, lat: float, lon: float, segments: npt.NDArray[np.int64]) -> Snap:
        graph = self._graph
        a = self._seg[segments]
        kx, ky = ruler_factors(lat)
        ax = (graph.shape_lon[a] - lon) * kx
        ay = (graph.shape_lat[a] - lat) * ky
        dx = (graph.shape_lon[a + 1] - lon) * kx - ax
        dy = (graph.shape_lat[a + 1] - lat) * ky - ay
        length2 = dx * dx + dy * dy
        t = np.clip(-(ax * dx + ay * dy) / np.where(length2 > 0, length2, 1), 0.0, 1.0)
        distance = np.hypot(ax + t * dx, ay + t * dy)
        best = int(np.argmin(distance))
        i, fraction = int(a[best]), float(t[best])
        edge = int(self._seg_edge[segments[best]])
        lat_i, lon_i, along_i = graph.shape_lat[i], graph.shape_lon[i], graph.shape_along[i]
        return Snap(
            lat=float(lat_i + fraction * (graph.shape_lat[i + 1] - lat_i)),
            lon=float(lon_i + fraction * (graph.shape_lon[i + 1] - lon_i)),
            edge=edge,
            along_m=float(along_i + fraction * (graph.shape_along[i + 1] - along_i)),
            distance_m=float(distance[best]),
        )


def cut_shape(graph: WalkGraph, edge: int, from_m: float, to_m: float) -> list[tuple[float, float]]:
    """The part of an edge's shape between two distances along it (reversed when to < from)."""
    lat, lon = graph.edge_shape(edge)
    along = graph.shape_along[graph.shape_start[edge] : graph.shape_start[edge + 1]]
    low, high = min(from_m, to_m), max(from_m, to_m)
    points = [_at(lat, lon, along, low)]
    inside = np.flatnonzero((along > low) & (along < high))
    points.extend((float(lat[i]), float(lon[i])) for i in inside)
    points.append(_at(lat, lon, along, high))
    return points if to_m >= from_m else points[::-1]


def _at(
    lat: npt.NDArray[np.float64], lon: npt.NDArray[np.float64],
    along: npt.NDArray[np.float64], distance: float,
) -> tuple[float, float]:  # fmt: skip
    if distance <= along[0]:
        return float(lat[0]), float(lon[0])
    if distance >= along[-1]:
        return float(lat[-1]), float(lon[-1])
    i = int(np.searchsorted(along, distance, side="right")) - 1
    span = along[i + 1] - along[i]
    f = 0.0 if span <= 0 else (distance - along[i]) / span
    return float(lat[i] + f * (lat[i + 1] - lat[i])), float(lon[i] + f * (lon[i + 1] - lon[i]))
