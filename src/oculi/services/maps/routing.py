"""Shortest walks: A* over the graph's arrays, from a point on one way to a point on another.

Start and end are snapped points part-way along edges, so the first and last edges count only
their partial lengths. Costs are seconds at walking speed (slower on loose ground); the
heuristic is the straight-line distance, scaled so that it never overestimates on the ellipsoid.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from oculi.errors import MapError
from oculi.services.maps.geodesy import ruler_factors
from oculi.services.maps.graph import BACKWARD, FERRY, FORWARD, STEPS, WalkGraph
from oculi.services.maps.snap import Snap

WALKING_SPEED_MPS = 5 / 3.6
"""5 km/h, the pace OSRM's foot profile and most walking planners assume."""
SIGNAL_PENALTY_S = 2.0
"""Seconds added for each traffic light walked through, as in OSRM's foot profile: of two
walks of nearly the same length, the one with fewer lights."""

_SOURCE = -2
_UNSEEN = -1


@dataclass(frozen=True)
class Piece:
    """Part of an edge walked in one go: from one distance along it to another."""

    edge: int
    from_m: float
    to_m: float

    @property
    def forward(self) -> bool:
        return self.to_m >= self.from_m

    @property
    def length_m(self) -> float:
        return abs(self.to_m - self.from_m)


@dataclass(frozen=True)
class Leg:
    """The walk between two consecutive stops."""

    start: Snap
    end: Snap
    pieces: tuple[Piece, ...]
    duration_s: float

    @property
    def distance_m(self) -> float:
        return sum(p.length_m for p in self.pieces)


class Router:
    """Point-to-point shortest walks over one graph; cheap to keep, one per map."""

    def __init__(self, graph: WalkGraph, speed_mps: float = WALKING_SPEED_MPS) -> None:
        self.graph = graph
        self.speed_mps = speed_mps
        edge = graph.arc_edge
        self._edge_seconds = (graph.edge_length / (speed_mps * graph.edge_factor)).tolist()
        self._arc_start = graph.arc_start.tolist()
        targets = graph.arc_targets()
        lights = graph.edge_signals[edge] + graph.vertex_signal[targets]
        self.arc_seconds = (graph.edge_length[edge] / (speed_mps * graph.edge_factor[edge])
                            + SIGNAL_PENALTY_S * lights)  # fmt: skip
        """Cost of walking each arc: time at walking pace plus the traffic lights passed."""
        self._arc_target = targets.tolist()
        self._arc_seconds = self.arc_seconds.tolist()
        self._arc_flags = graph.edge_flags[edge].tolist()
        south, _, north, _ = graph.bounds()
        farthest = max(abs(south), abs(north))
        nearest = 0.0 if south <= 0 <= north else min(abs(south), abs(north))
        self._kx = ruler_factors(farthest)[0] * 0.999
        self._ky = ruler_factors(nearest)[1] * 0.999
        self._x = (graph.vertex_lon * self._kx).tolist()
        self._y = (graph.vertex_lat * self._ky).tolist()

    def leg(self, start: Snap, end: Snap, avoid: int = 0) -> Leg:
        """The quickest walk from one snapped point to another, on no edge with a flag in
        `avoid` (STEPS, FERRY); MapError when there is none."""
        found = self._search(start, end, avoid)
        if found is None:
            without = [w for flag, w in ((STEPS, "steps"), (FERRY, "ferries")) if avoid & flag]
            raise MapError("I can't find a walking route between these points"
                           + (f" without {' or '.join(without)}" if without else ""))  # fmt: skip
        return found

    def _search(self, start: Snap, end: Snap, avoid: int) -> Leg | None:
        graph = self.graph
        seconds = self._edge_seconds
        s_edge, t_edge = start.edge, end.edge
        s_rate = seconds[s_edge] / max(float(graph.edge_length[s_edge]), 1e-9)
        t_rate = seconds[t_edge] / max(float(graph.edge_length[t_edge]), 1e-9)
        s_len, t_len = float(graph.edge_length[s_edge]), float(graph.edge_length[t_edge])
        s_flags, t_flags = int(graph.edge_flags[s_edge]), int(graph.edge_flags[t_edge])

        best = math.inf
        best_vertex = _UNSEEN
        if s_edge == t_edge:
            ahead = end.along_m >= start.along_m
            if s_flags & (FORWARD if ahead else BACKWARD):
                best = abs(end.along_m - start.along_m) * s_rate
                best_vertex = _SOURCE

        sources: list[tuple[int, float]] = []
        if s_flags & BACKWARD:
            sources.append((int(graph.edge_u[s_edge]), start.along_m * s_rate))
        if s_flags & FORWARD:
            sources.append((int(graph.edge_v[s_edge]), (s_len - start.along_m) * s_rate))
        into_end: dict[int, float] = {}
        if t_flags & FORWARD:
            into_end[int(graph.edge_u[t_edge])] = end.along_m * t_rate
        if t_flags & BACKWARD:
            v = int(graph.edge_v[t_edge])
            into_end[v] = min(into_end.get(v, math.inf), (t_len - end.along_m) * t_rate)

        count = graph.vertex_count
        cost = [math.inf] * count
        via_arc = [_UNSEEN] * count
        x, y = self._x, self._y
        tx, ty = end.lon * self._kx, end.lat * self._ky
        inv_speed = 1 / self.speed_mps
        heap: list[tuple[float, float, int]] = []
        for vertex, c in sources:
            if c < cost[vertex]:
                cost[vertex] = c
                via_arc[vertex] = _SOURCE
                h = math.hypot(x[vertex] - tx, y[vertex] - ty) * inv_speed
                heapq.heappush(heap, (c + h, c, vertex))

        arc_start, arc_target = self._arc_start, self._arc_target
        arc_seconds, arc_flags = self._arc_seconds, self._arc_flags
        push, pop, hypot = heapq.heappush, heapq.heappop, math.hypot
        while heap:
            f, c, vertex = pop(heap)
            if f >= best:
                break
            if c > cost[vertex]:
                continue
            extra = into_end.get(vertex)
            if extra is not None and c + extra < best:
                best = c + extra
                best_vertex = vertex
            for arc in range(arc_start[vertex], arc_start[vertex + 1]):
                if arc_flags[arc] & avoid:
                    continue
                target = arc_target[arc]
                nc = c + arc_seconds[arc]
                if nc < cost[target]:
                    cost[target] = nc
                    via_arc[target] = arc
                    push(heap, (nc + hypot(x[target] - tx, y[target] - ty) * inv_speed, nc, target))
        if best_vertex == _UNSEEN:
            return None
        if best_vertex == _SOURCE:
            return Leg(start, end, (Piece(s_edge, start.along_m, end.along_m),), best)
        return Leg(start, end, self._pieces(start, end, best_vertex, via_arc), best)

    def _pieces(self, start: Snap, end: Snap, last: int, via_arc: list[int]) -> tuple[Piece, ...]:
        graph = self.graph
        middle: list[Piece] = []
        vertex = last
        while via_arc[vertex] != _SOURCE:
            arc = via_arc[vertex]
            edge = int(graph.arc_edge[arc])
            length = float(graph.edge_length[edge])
            forward = bool(graph.arc_forward[arc])
            middle.append(Piece(edge, 0.0, length) if forward else Piece(edge, length, 0.0))
            vertex = int(graph.edge_u[edge] if forward else graph.edge_v[edge])
        first_vertex = vertex
        s_edge, t_edge = start.edge, end.edge
        s_len = float(graph.edge_length[s_edge])
        head_to = 0.0 if first_vertex == graph.edge_u[s_edge] else s_len
        if first_vertex == graph.edge_u[s_edge] and first_vertex == graph.edge_v[s_edge]:
            head_to = 0.0 if start.along_m <= s_len / 2 else s_len
        head = Piece(s_edge, start.along_m, head_to)
        t_len = float(graph.edge_length[t_edge])
        tail_from = 0.0 if last == graph.edge_u[t_edge] else t_len
        if last == graph.edge_u[t_edge] and last == graph.edge_v[t_edge]:
            tail_from = 0.0 if end.along_m <= t_len / 2 else t_len
        tail = Piece(t_edge, tail_from, end.along_m)
        pieces = [head, *reversed(middle), tail]
        return tuple(p for p in pieces if p.length_m > 1e-6)
