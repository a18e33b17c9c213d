"""Helpers for hand-written maps: positions on a metric grid and OSM XML files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from xml.sax.saxutils import quoteattr

from oculi.services.maps.geodesy import ruler_factors

MONACO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "osm" / "monaco.osm.pbf"
ORIGIN = (60.0, 25.0)
KX, KY = ruler_factors(ORIGIN[0])

Node = tuple[float, float] | tuple[float, float, Mapping[str, str]]
"""(x metres east, y metres north[, tags]) from ORIGIN."""
Way = tuple[Sequence[int], Mapping[str, str]]


def at(x: float, y: float) -> tuple[float, float]:
    """The (lat, lon) x metres east and y metres north of ORIGIN."""
    return ORIGIN[0] + y / KY, ORIGIN[1] + x / KX


def _tags(tags: Mapping[str, str]) -> str:
    return "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())


def write_osm(path: Path, nodes: Mapping[int, Node], ways: Sequence[Way]) -> Path:
    """Nodes and ways as an .osm XML file (ways numbered from 1000)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for node_id, node in nodes.items():
        lat, lon = at(node[0], node[1])
        tags = node[2] if len(node) == 3 else {}  # type: ignore[misc]
        lines.append(f'<node id="{node_id}" version="1" lat="{lat:.9f}" lon="{lon:.9f}">'
                     f"{_tags(tags)}</node>")  # fmt: skip
    for way_id, (refs, tags) in enumerate(ways, start=1000):
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(f'<way id="{way_id}" version="1">{nds}{_tags(tags)}</way>')
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
