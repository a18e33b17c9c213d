"""End to end: shipped scenarios replayed through a real session, on both profiles."""

from __future__ import annotations

import asyncio
import json
import wave
from pathlib import Path

import pytest
from PIL import Image

from oculi.apps.pay.demo import prepare_demo_wallet
from oculi.demo import shipped_scenarios
from oculi.devices.replay import replay
from oculi.devices.scenario import load_scenario
from oculi.events import Answer, CardShown, SpeechOut, event_from_json
from oculi.runtime.config import Config
from oculi.runtime.session import Session
from oculi.services.demo_catalog import DEMO_PRODUCTS

SCENARIOS = {p.stem: p for p in shipped_scenarios()}


def _replay(config: Config, name: str, profile: str, out: Path) -> tuple[object, Session]:
    prepare_demo_wallet(config.data_dir)
    session = Session(config.with_overrides(profile=profile))
    try:
        result = asyncio.run(replay(load_scenario(SCENARIOS[name]), session, out))
    finally:
        session.close()
    return result, session


def _cheapest(gtin: str) -> tuple[str, int]:
    """The best offer, worked out from the demo data rather than from the catalog code."""
    product = next(p for p in DEMO_PRODUCTS if p.gtin == gtin)
    store, cents = min(((s, c) for s, c in product.prices if c is not None), key=lambda x: x[1])
    names = {"freshmart": "FreshMart", "quickshop": "QuickShop", "greengrocer": "Green Grocer",
             "depot": "Online Depot"}  # fmt: skip
    return names[store], cents


@pytest.mark.parametrize("profile", ["s1", "g1"])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_shipped_scenario_passes(config: Config, tmp_path: Path, name: str, profile: str) -> None:
    result, _ = _replay(config, name, profile, tmp_path / "out")
    failed = [c for c in result.checks if not c.passed]  # type: ignore[attr-defined]
    assert not failed, failed


def test_s1_price_card_shows_the_product_and_its_cheapest_offer(
    config: Config, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    _replay(config, "price_check", "s1", out)
    events = [event_from_json(json.loads(line)) for line in (out / "events.jsonl").open()]
    cards = [e for e in events if isinstance(e, CardShown)]
    assert len(cards) == 3
    oat = DEMO_PRODUCTS[0]
    store, cents = _cheapest(oat.gtin)
    first = cards[0].card
    assert first.title == oat.name
    best = [r for r in first.rows if r.highlight]
    assert len(best) == 1
    assert best[0].label == store
    assert best[0].value == f"€{cents // 100}.{cents % 100:02d}"
    png = Image.open(out / "cards" / sorted(p.name for p in (out / "cards").iterdir())[0])
    assert png.size == (640, 480)
    assert png.convert("RGB").getpixel((2, 2)) == (0, 0, 0), "the lens background must be black"


def test_g1_run_speaks_but_shows_no_card(config: Config, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _replay(config, "price_check", "g1", out)
    events = [event_from_json(json.loads(line)) for line in (out / "events.jsonl").open()]
    assert not [e for e in events if isinstance(e, CardShown)]
    speech = [e for e in events if isinstance(e, SpeechOut)]
    assert len(speech) == 3
    assert not list((out / "cards").iterdir())
    wavs = sorted((out / "speech").iterdir())
    assert len(wavs) == 3
    with wave.open(str(wavs[0])) as wav:
        assert wav.getnframes() / wav.getframerate() > 1.0
    store, _ = _cheapest(DEMO_PRODUCTS[0].gtin)
    assert store in speech[0].text


def test_a_question_in_chinese_is_answered_in_chinese(config: Config, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _replay(config, "price_check", "g1", out)
    events = [event_from_json(json.loads(line)) for line in (out / "events.jsonl").open()]
    answers = [e for e in events if isinstance(e, Answer)]
    assert [a.language for a in answers] == ["en", "en", "zh"]
    assert "欧元" in answers[2].speech
    speech = [e for e in events if isinstance(e, SpeechOut)]
    assert speech[2].duration_s > 1.0


def test_replay_writes_a_result_summary(config: Config, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _replay(config, "unknowns_and_errors", "s1", out)
    summary = json.loads((out / "result.json").read_text())
    assert summary["passed"] is True
    assert summary["profile"] == "s1"
    assert [s["number"] for s in summary["steps"]] == [1, 2, 3]
    assert any("could not be decoded" in e for e in summary["steps"][2]["errors"])
