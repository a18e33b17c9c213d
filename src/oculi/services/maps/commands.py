"""`oculi route`: a walking route on an OpenStreetMap extract, as text, JSON or a picture."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from oculi.errors import MapError
from oculi.runtime.config import Config

if TYPE_CHECKING:
    from oculi.services.maps.walkmap import Stop

console = Console()


def add_commands(sub: Any) -> None:
    """Register `route` on the `oculi` command's subparsers."""
    route = sub.add_parser("route", help="a walking route on an OpenStreetMap extract")
    route.add_argument("--map", type=Path, help="OSM file, .osm.pbf (default: bundled Helsinki)")
    route.add_argument("--from", dest="start", required=True, metavar="LAT,LON",
                       help="where the walk starts")  # fmt: skip
    route.add_argument("--to", dest="end", required=True, metavar="LAT,LON|PLACE",
                       help="where it ends: coordinates or a place's name on the map")  # fmt: skip
    route.add_argument("--via", action="append", default=[], metavar="LAT,LON|PLACE",
                       help="a stop on the way (repeat for more, in order)")  # fmt: skip
    route.add_argument("--avoid-steps", action="store_true",
                       help="no stairs (stroller, wheelchair)")  # fmt: skip
    route.add_argument("--avoid-ferries", action="store_true", help="walk round, never by boat")
    route.add_argument("--json", action="store_true", help="print the route as JSON")
    route.add_argument("--png", type=Path, metavar="FILE", help="draw the route on the map's ways")
    route.add_argument("--cache-dir", type=Path,
                       help="compiled maps (default: <data_dir>/maps)")  # fmt: skip
    route.set_defaults(handler=run_route)


def run_route(args: argparse.Namespace, config: Config) -> int:
    """Route, then print it (table or JSON) and draw it; bad input raises MapError (exit 2)."""
    from oculi.services.maps.walkmap import load_map, parse_point

    start = parse_point(args.start)
    if start is None:
        raise MapError(f"--from {args.start!r}: expected LAT,LON, e.g. 60.1699,24.9384")
    walk_map = load_map(args.map, args.cache_dir or config.data_dir / "maps")
    via = [walk_map.resolve(text, near=start) for text in args.via]
    end = walk_map.resolve(args.end, near=start)
    route = walk_map.route(start, end, via, avoid_steps=args.avoid_steps,
                           avoid_ferries=args.avoid_ferries)  # fmt: skip
    if args.png:
        from oculi.services.maps.drawing import draw_route

        try:
            args.png.parent.mkdir(parents=True, exist_ok=True)
            args.png.write_bytes(draw_route(walk_map.graph, route))
        except OSError as err:
            raise MapError(f"cannot write {args.png}: {err.strerror}") from err
    if args.json:
        body = route.to_json()
        body["map"] = str(walk_map.path)
        body["to"] = {"lat": end.lat, "lon": end.lon, "name": end.label}
        print(json.dumps(body, ensure_ascii=False))
        return 0
    _print_route(route.to_json(), end)
    if args.png:
        console.print(f"saved {args.png}")
    return 0


def _print_route(body: dict[str, Any], end: Stop) -> None:
    from oculi.services.maps.guidance import ATTRIBUTION, show_distance

    title = f"Walk to {end.label}" if end.label else "Walk"
    minutes = body["duration_s"] / 60
    table = Table(title=f"{title}: {show_distance(body['distance_m'])}, {minutes:.0f} min")
    table.add_column("#", justify="right")
    table.add_column("instruction")
    table.add_column("then", justify="right")
    for i, step in enumerate(body["steps"], start=1):
        then = show_distance(step["distance_m"]) if step["distance_m"] else ""
        table.add_row(str(i), step["instruction"], then)
    console.print(table)
    console.print(ATTRIBUTION, style="dim")
