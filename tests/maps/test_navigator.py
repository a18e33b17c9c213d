"""Following a walk from GPS fixes: prompts before turns, off-route detection and rerouting."""

from __future__ import annotations

from mapdata import at

from conftest import OsmWriter
from oculi.events import GpsFix
from oculi.services.maps.navigator import Arrived, NavEvent, OffRoute, Prompt, Rerouted
from oculi.services.maps.walkmap import WalkMap, load_map


def _grid(osm_file: OsmWriter) -> WalkMap:
    """Two parallel streets 100 m apart, joined by a footpath in the middle and by East Road,
    which leads on north."""
    nodes = {1: (0, 0), 2: (200, 0), 3: (400, 0), 4: (0, 100), 5: (200, 100), 6: (400, 100),
             7: (400, 300)}  # fmt: skip
    ways = [([1, 2, 3], {"highway": "residential", "name": "South Road"}),
            ([4, 5, 6], {"highway": "residential", "name": "North Road"}),
            ([1, 4], {"highway": "footway"}), ([2, 5], {"highway": "footway"}),
            ([3, 6, 7], {"highway": "residential", "name": "East Road"})]  # fmt: skip
    return load_map(osm_file(nodes, ways))


def _walk(walk_map: WalkMap, track: list[tuple[float, float]]) -> list[NavEvent]:
    """Feed one fix a second; the track is (x, y) metres."""
    navigator = walk_map.navigator(walk_map.route(at(10, 0), at(400, 50)))
    events: list[NavEvent] = []
    for second, (x, y) in enumerate(track):
        lat, lon = at(x, y)
        events.extend(navigator.feed(GpsFix(lat=lat, lon=lon, t=1000.0 + second)))
    return events


def _straight(a: tuple[float, float], b: tuple[float, float], step: float = 1.5
              ) -> list[tuple[float, float]]:  # fmt: skip
    length = ((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5
    count = max(1, int(length / step))
    return [(a[0] + (b[0] - a[0]) * i / count, a[1] + (b[1] - a[1]) * i / count)
            for i in range(count + 1)]  # fmt: skip


def test_prompts_come_before_the_turn_and_at_it(osm_file: OsmWriter) -> None:
    track = _straight((10, 0), (400, 0)) + _straight((400, 0), (400, 50))
    events = _walk(_grid(osm_file), track)
    prompts = [e for e in events if isinstance(e, Prompt)]
    assert prompts[0].stage == "depart" and prompts[0].speech.startswith("Head east on South Road")
    turn = [p for p in prompts if "East Road" in p.speech]
    assert [p.stage for p in turn] == ["prepare", "now"]
    assert turn[0].speech == "In 50 metres, turn left onto East Road."
    assert turn[0].card is not None and turn[0].card.layout == "turn"
    assert turn[0].card.rows[0].label == "←"
    assert isinstance(events[-1], Arrived)
    assert not any(isinstance(e, OffRoute) for e in events)


def test_leaving_the_route_for_a_few_seconds_reroutes(osm_file: OsmWriter) -> None:
    walk_map = _grid(osm_file)
    track = _straight((10, 0), (200, 0)) + _straight((200, 0), (200, 100))
    track += _straight((200, 100), (400, 100)) + _straight((400, 100), (400, 50))
    events = _walk(walk_map, track)
    kinds = [e.kind for e in events]
    assert "off_route" in kinds and "rerouted" in kinds
    routes = [e.route for e in events if isinstance(e, Rerouted) and e.route is not None]
    assert routes, "no new route"
    assert "North Road" in [s.street for s in routes[-1].steps], "the last reroute follows them"
    off = kinds.index("off_route")
    assert isinstance(events[off], OffRoute) and events[off].distance_m > 25
    assert kinds[-1] == "arrived"


def test_a_short_stray_within_gps_noise_does_not_reroute(osm_file: OsmWriter) -> None:
    track = _straight((10, 0), (100, 0))
    track += [(100, 30), (101, 31), (102, 30)]
    track += _straight((103, 0), (400, 0)) + _straight((400, 0), (400, 50))
    kinds = [e.kind for e in _walk(_grid(osm_file), track)]
    assert "off_route" not in kinds and kinds[-1] == "arrived"
