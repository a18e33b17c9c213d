"""The shop app through the agent: by barcode, and by the pack's text when no code is in view."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from oculi.agent.dialogue import Agent
from oculi.agent.parser import IntentParser
from oculi.apps.sdk import App
from oculi.apps.shop.app import ShopApp
from oculi.apps.system.app import SystemApp
from oculi.events import Answer, Card
from oculi.services.catalog import Catalog, open_catalog
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.vision.samples import pack_front, text_frame
from oculi.vision.synthetic import to_jpeg


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return open_catalog(tmp_path / "catalog.sqlite3")


@pytest.fixture
def agent(catalog: Catalog) -> Agent:
    apps: list[App] = [ShopApp(catalog), SystemApp()]
    return Agent(apps, IntentParser([a.intents_file for a in apps if a.intents_file]))


def _ask(agent: Agent, text: str) -> Answer:
    return [e for e in asyncio.run(agent.handle(text)) if isinstance(e, Answer)][-1]


def _card_text(card: Card | None) -> str:
    assert card is not None
    return " ".join([card.title, card.subtitle, *(f"{r.label} {r.value}" for r in card.rows)])


def test_barcode_in_view_gives_the_cheapest_offer(agent: Agent) -> None:
    product = DEMO_PRODUCTS[0]
    agent.see(gtin=product.gtin)
    answer = _ask(agent, "how much is this")
    assert product.name in answer.speech
    assert _card_text(answer.card).count("€") >= 2
    assert "Cheapest" in _ask(agent, "which store is cheapest").card.title  # type: ignore[union-attr]


def test_pack_text_without_a_code_finds_the_product(agent: Agent) -> None:
    product = DEMO_PRODUCTS[1]
    frame = text_frame([pack_front(product.brand, product.name, product.quantity)], seed=3)
    agent.see(image=to_jpeg(frame))
    named = _ask(agent, "what is this")
    assert product.name in named.speech
    priced = _ask(agent, "how much is this")
    assert product.name in priced.speech


def test_nothing_known_is_said_honestly_with_what_was_read(agent: Agent) -> None:
    frame = text_frame([pack_front("Zyxwv", "Quantum Noodles", "3 kg")], seed=5)
    agent.see(image=to_jpeg(frame))
    answer = _ask(agent, "what is this")
    assert "don't know" in answer.speech
    assert "Quantum" in _card_text(answer.card) or "Zyxwv" in _card_text(answer.card)


def test_unreadable_frame_gives_a_clear_reply(agent: Agent) -> None:
    agent.see(image=b"\xff\xd8\xff not really a jpeg")
    assert "couldn't see" in _ask(agent, "how much is this").speech
