"""The `oculi` command: exit codes and messages a person can act on."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from oculi.cli import main
from oculi.demo import shipped_scenarios


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OCULI_CONFIG", "OCULI_PROFILE", "OCULI_CATALOG__PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OCULI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_run_passing_scenario_exits_zero_and_writes_outputs(tmp_path: Path) -> None:
    price_check = next(p for p in shipped_scenarios() if p.stem == "price_check")
    assert main(["run", str(price_check), "--profile", "s1", "--out", str(tmp_path / "o")]) == 0
    assert len(list((tmp_path / "o" / "cards").glob("*.png"))) == 3
    assert len(list((tmp_path / "o" / "speech").glob("*.wav"))) == 3
    assert (tmp_path / "o" / "events.jsonl").stat().st_size > 0


def test_failed_expectation_exits_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _scenario(tmp_path, "steps:\n  - say: play jazz\n    expect: {app: shop}\n")
    assert main(["run", str(path), "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["passed"] is False
    assert summary["steps"][0]["checks"][0]["detail"] == "answered by ['music']"


def test_bad_scenario_exits_two_naming_file_step_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _scenario(tmp_path, "steps:\n  - say: hi\n  - gaze: [2, 0.5]\n")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "s.yaml" in err and "step 2" in err and "gaze" in err


def test_config_error_names_key_and_allowed_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OCULI_SPEECH__ENGINE", "festival")
    path = _scenario(tmp_path, "steps:\n  - say: hi\n")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "speech.engine" in err and "espeak" in err and "piper" in err


def test_catalog_init_creates_demo_catalog_and_refuses_to_overwrite(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite3"
    assert main(["catalog", "init", "--db", str(db)]) == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM products").fetchone()[0] == 12
    assert main(["catalog", "init", "--db", str(db)]) == 2
    assert main(["catalog", "init", "--db", str(db), "--force"]) == 0


def test_catalog_price_accepts_upc_style_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "price", "2042000000015"]) == 0
    assert "Online Depot" in capsys.readouterr().out
    assert main(["catalog", "price", "2042000000016"]) == 2


def test_demo_writes_a_page_with_every_replay(tmp_path: Path) -> None:
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    page = (tmp_path / "demo" / "index.html").read_text(encoding="utf-8")
    assert page.count("<section>") == 2 * len(shipped_scenarios())
    for src in page.split("src='")[1:]:
        assert (tmp_path / "demo" / src.split("'")[0]).is_file()
