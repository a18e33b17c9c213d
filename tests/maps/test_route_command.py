"""`oculi route`: JSON for programs, exit 2 with a clear message for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mapdata import at

from conftest import OsmWriter
from oculi.cli import main


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OCULI_CONFIG", "OCULI_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OCULI_DATA_DIR", str(tmp_path / "data"))


def _point(x: float, y: float) -> str:
    lat, lon = at(x, y)
    return f"{lat:.7f},{lon:.7f}"


@pytest.fixture
def street(osm_file: OsmWriter) -> Path:
    """Long Street, then steps up to Market Walk; a footpath round by the west avoids them."""
    cafe = {"name": "Café Oculi", "amenity": "cafe"}
    nodes = {1: (0, 0), 2: (200, 0), 3: (200, 200), 4: (400, 200, cafe), 5: (0, 250)}
    ways = [([1, 2], {"highway": "residential", "name": "Long Street"}),
            ([2, 3], {"highway": "steps"}), ([1, 5, 3], {"highway": "footway"}),
            ([3, 4], {"highway": "pedestrian", "name": "Market Walk"})]  # fmt: skip
    return osm_file(nodes, ways)


def test_json_has_the_promised_fields(street: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["route", "--map", str(street), "--from", _point(10, 0), "--to", _point(390, 200),
                 "--json"])  # fmt: skip
    body = json.loads(capsys.readouterr().out)
    assert code == 0
    assert body["distance_m"] == pytest.approx(190 + 200 + 190, abs=0.5)
    assert body["duration_s"] > body["distance_m"] / 1.5
    assert body["geometry"][0] == pytest.approx(list(at(10, 0)), abs=1e-6)
    assert all(set(s) >= {"instruction", "distance_m", "street"} for s in body["steps"])
    assert "Market Walk" in [s["street"] for s in body["steps"]]
    assert body["attribution"] == "© OpenStreetMap contributors"


def test_a_place_name_as_destination_and_a_png(
    street: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "out" / "route.png"
    code = main(["route", "--map", str(street), "--from", _point(10, 0), "--to", "cafe oculi",
                 "--png", str(png)])  # fmt: skip
    assert code == 0
    assert "Arrive at Café Oculi" in capsys.readouterr().out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_avoid_steps_and_via(street: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["route", "--map", str(street), "--from", _point(10, 0), "--to", _point(200, 190),
            "--json"]  # fmt: skip
    assert main(args) == 0
    stepped = json.loads(capsys.readouterr().out)
    assert main([*args, "--avoid-steps"]) == 0
    level = json.loads(capsys.readouterr().out)
    assert level["distance_m"] > stepped["distance_m"]
    assert "the steps" not in json.dumps(level["steps"])
    assert main([*args, "--via", _point(100, 0)]) == 0
    assert any(s["maneuver"] == "via" for s in json.loads(capsys.readouterr().out)["steps"])


def test_the_default_map_is_the_bundled_helsinki(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["route", "--from", "60.1699,24.9384", "--to", "60.1720,24.9450", "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["map"].endswith("Helsinki.osm.pbf")


@pytest.mark.parametrize(("args", "message"), [
    (["--to", "xyzzy"], "can't find 'xyzzy'"),
    (["--to", "48.85,2.35"], "outside the map"),
    (["--to", "91,2"], "not a latitude,longitude"),
])  # fmt: skip
def test_bad_destinations_exit_2(
    street: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["route", "--map", str(street), "--from", _point(10, 0), *args]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"", b"\x00\x01 not a pbf" * 50])
def test_an_unreadable_map_exits_2(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.osm.pbf"
    broken.write_bytes(content)
    assert main(["route", "--map", str(broken), "--from", "1,1", "--to", "1,2"]) == 2
    assert "broken.osm.pbf" in capsys.readouterr().err


def test_a_missing_map_and_no_route_exit_2(
    osm_file: OsmWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["route", "--map", "nowhere.osm.pbf", "--from", "1,1", "--to", "1,2"]) == 2
    assert "does not exist" in capsys.readouterr().err
    nodes = {1: (0, 0), 2: (100, 0), 3: (900, 0), 4: (1000, 0)}
    ways = [([1, 2], {"highway": "footway"}), ([3, 4], {"highway": "footway"})]
    islands = osm_file(nodes, ways)
    assert main(["route", "--map", str(islands), "--from", _point(10, 0),
                 "--to", _point(990, 0)]) == 2  # fmt: skip
    assert "can't find a walking route" in capsys.readouterr().err
