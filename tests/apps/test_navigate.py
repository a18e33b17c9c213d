"""The navigate app through the agent, on the bundled Helsinki map."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from oculi.agent.dialogue import Agent
from oculi.agent.parser import IntentParser
from oculi.apps.navigate.app import NavigateApp
from oculi.apps.sdk import App, Position
from oculi.apps.system.app import SystemApp
from oculi.events import Answer, ErrorEvent, Intent

START = Position(60.1699, 24.9384)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("maps")


@pytest.fixture
def agent(cache: Path) -> Agent:
    apps: list[App] = [NavigateApp(None, cache), SystemApp()]
    return Agent(apps, IntentParser([a.intents_file for a in apps if a.intents_file]))


def _say(agent: Agent, text: str) -> tuple[Intent, str, list[str]]:
    events = asyncio.run(agent.handle(text))
    intent = next(e for e in events if isinstance(e, Intent))
    answer = [e for e in events if isinstance(e, Answer)][-1].speech
    return intent, answer, [e.message for e in events if isinstance(e, ErrorEvent)]


def test_directions_need_a_position(agent: Agent) -> None:
    intent, said, errors = _say(agent, "take me to Kiasma")
    assert (intent.app, intent.action, intent.args) == ("navigate", "go", {"destination": "Kiasma"})
    assert "GPS" in said and errors


def test_walk_prompts_on_the_way_and_arrives(agent: Agent) -> None:
    asyncio.run(agent.moved(START, 0.0))
    _, said, _ = _say(agent, "take me to Kiasma")
    assert said.startswith("Walking to Kiasma")
    metres = float(said.split(": ")[1].split(" metres")[0])
    assert 300 < metres < 500
    _, far, _ = _say(agent, "how far is it")
    assert "metres to Kiasma" in far
    kiasma = Position(60.17199, 24.93644)
    events = asyncio.run(agent.moved(kiasma, 400.0))
    assert any("arrived" in e.speech for e in events if isinstance(e, Answer))
    assert "not navigating" in _say(agent, "how far is it")[1]


def test_unknown_place_and_missing_destination(agent: Agent) -> None:
    asyncio.run(agent.moved(START, 0.0))
    _, said, errors = _say(agent, "take me to Xyzzyplatz Qwerty")
    assert errors and said
    _, asked, _ = _say(agent, "take me to")
    assert asked == "Where to?"
    _, went, _ = _say(agent, "Oodi")
    assert went.startswith("Walking to")
    assert _say(agent, "stop navigation")[1] == "Navigation stopped."
