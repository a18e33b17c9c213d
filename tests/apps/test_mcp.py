"""Third-party apps over MCP: real server processes, reached through the agent's LLM tier.

The example weather app (examples/weather_app) and a misbehaving server (fixtures/) run as real
MCP servers over stdio; the agent talks to a local HTTP server that speaks chat-completions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oculi.agent.dialogue import Agent
from oculi.agent.llm import ChatClient, LlmSettings
from oculi.agent.parser import IntentParser
from oculi.apps.mcp import AppUnavailable, McpApp, mcp_apps
from oculi.apps.mcp.convert import action_schema
from oculi.apps.sdk import ActionError, ActionSpec, ArgumentError, Context, Reply, validate_args
from oculi.apps.system.app import SystemApp
from oculi.events import Answer, ErrorEvent, Event, Intent
from oculi.runtime.config import load_config

sys.path.insert(0, str(Path(__file__).parents[1] / "agent"))
from llm_server import FakeLlm, Recorded, fake_llm  # the agent tests' fake LLM server

ROOT = Path(__file__).resolve().parents[2]
WEATHER = ROOT / "examples" / "weather_app" / "server.py"
FIXTURES = Path(__file__).with_name("fixtures")
BROKEN = FIXTURES / "broken_server.py"
SILENT = FIXTURES / "silent_server.py"


@pytest.fixture(scope="module")
def broken() -> Iterator[McpApp]:
    """The misbehaving server, for tests that leave it running (hangs, errors, odd schemas)."""
    app = _broken(call_timeout_s=1.0)
    yield app
    app.close()


@pytest.fixture(scope="module")
def weather() -> Iterator[McpApp]:
    app = McpApp("weather", {"command": [sys.executable, str(WEATHER)]}, call_timeout_s=5.0)
    app.start()
    yield app
    app.close()


def _broken(call_timeout_s: float = 2.0, **server: Any) -> McpApp:
    return McpApp(
        "broken",
        {"command": [sys.executable, str(BROKEN)], **server},
        start_timeout_s=5.0,
        call_timeout_s=call_timeout_s,
    ).start()


def _call(app: McpApp, action: str, language: str = "en", **args: Any) -> Reply:
    """What the agent does with a call: check the arguments, then run the action."""
    spec = app.actions()[action]
    ctx = Context(app=app.name, permissions=frozenset(app.permissions), language=language)
    result = spec.func(ctx, **validate_args(spec, args))
    assert not isinstance(result, Reply)
    return asyncio.run(asyncio.wait_for(result, 10))


def _tool_call(name: str, arguments: dict[str, Any], call_id: str = "call_1") -> Recorded:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
        ],
    }
    return Recorded({"choices": [{"index": 0, "message": message}]})


def _text(content: str) -> Recorded:
    return Recorded(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    )


def _agent(llm: FakeLlm, *apps: McpApp) -> Agent:
    system = SystemApp(lambda: [(a.name, a.description) for a in apps])
    assert system.intents_file is not None
    client = ChatClient(LlmSettings(llm.url, "qwen-plus", timeout_s=5.0))
    return Agent([*apps, system], IntentParser([system.intents_file]), llm=client)


def _of(events: list[Event], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def _fits_the_lens(reply: Reply) -> None:
    assert reply.card is not None
    assert len(reply.card.title) <= 28 and len(reply.card.rows) <= 5
    assert all(len(f"{r.label} {r.value}".strip()) <= 36 for r in reply.card.rows)


# --- the example app --------------------------------------------------------------------------


def test_example_tools_become_actions_with_their_schemas(weather: McpApp) -> None:
    actions = weather.actions()
    assert set(actions) == {"forecast", "convert_temperature", "set_home_city"}
    forecast = actions["forecast"]
    assert forecast.tool_name == "weather__forecast"
    assert forecast.description.startswith("The weather forecast for a city")
    props = forecast.parameters["properties"]
    assert props["city"]["type"] == "string" and "home city" in props["city"]["description"]
    assert props["day"]["enum"] == ["today", "tomorrow"]
    assert "required" not in forecast.parameters
    convert = actions["convert_temperature"]
    assert convert.parameters["required"] == ["value", "to_unit"]
    assert convert.parameters["properties"]["value"]["type"] == "number"
    assert not forecast.risky and not convert.risky
    assert actions["set_home_city"].risky, "a destructive tool needs the wearer's yes"


def test_a_tool_call_answers_with_speech_card_and_data(weather: McpApp) -> None:
    reply = _call(weather, "forecast", city="london", day="tomorrow")
    assert "London" in reply.speech and "tomorrow" in reply.speech
    assert reply.data["city"] == "London" and isinstance(reply.data["high_c"], int | float)
    _fits_the_lens(reply)
    converted = _call(weather, "convert_temperature", value="20", to_unit="F")
    assert "68" in converted.speech
    _fits_the_lens(converted)


def test_the_llm_tier_reaches_an_mcp_tool_end_to_end(weather: McpApp) -> None:
    with fake_llm() as llm:
        llm.replies.extend(
            [
                _tool_call("weather__forecast", {"city": "Shanghai"}),
                _text("Showers in Shanghai today."),
                _tool_call("weather__convert_temperature", {"value": 100, "to_unit": "C"}),
                _text("That is about 38 degrees."),
            ]
        )
        agent = _agent(llm, weather)
        first = asyncio.run(agent.handle("do I need an umbrella in shanghai"))
        # a second request on a new event loop, as each CLI command has
        second = asyncio.run(agent.handle("a hundred fahrenheit in celsius please"))
    tools = {t["function"]["name"]: t["function"] for t in llm.requests[0]["body"]["tools"]}
    assert tools["weather__forecast"]["parameters"]["properties"]["day"]["enum"]
    intent = _of(first, Intent)[0]
    assert (intent.app, intent.action, intent.path) == ("weather", "forecast", "llm")
    assert not _of(first, ErrorEvent)
    fed_back = json.loads(llm.requests[1]["body"]["messages"][-1]["content"])
    assert fed_back["data"]["city"] == "Shanghai" and "Shanghai" in fed_back["said"]
    assert _of(first, Answer)[-1].speech == "Showers in Shanghai today."
    assert _of(second, Intent)[0].args == {"value": 100.0, "to_unit": "C"}
    assert "37.8" in json.loads(llm.requests[3]["body"]["messages"][-1]["content"])["said"]


def test_invalid_arguments_are_refused_before_the_server_is_called(weather: McpApp) -> None:
    convert = weather.actions()["convert_temperature"]
    for bad in ({"value": "warm", "to_unit": "F"}, {"value": 1, "to_unit": "K"}, {"value": 1},
                {"value": 1, "to_unit": "F", "extra": 1}):  # fmt: skip
        with pytest.raises(ArgumentError):
            validate_args(convert, bad)
    with fake_llm() as llm:
        llm.replies.extend(
            [
                _tool_call("weather__convert_temperature", {"value": 1, "to_unit": "kelvin"}),
                _text("Sorry."),
            ]
        )
        events = asyncio.run(_agent(llm, weather).handle("convert one degree to kelvin"))
    assert not [i for i in _of(events, Intent) if i.app == "weather"], "nothing ran"
    assert any("refused" in e.message for e in _of(events, ErrorEvent))


def test_a_destructive_tool_waits_for_the_wearers_yes(weather: McpApp) -> None:
    with fake_llm() as llm:
        llm.replies.append(_tool_call("weather__set_home_city", {"city": "Paris"}))
        agent = _agent(llm, weather)
        asked = asyncio.run(agent.handle("make paris my home city"))
        assert "yes" in _of(asked, Answer)[-1].speech.lower()
        done = asyncio.run(agent.handle("yes"))
    assert "Paris" in _of(done, Answer)[-1].speech
    assert _call(weather, "forecast").data["city"] == "Paris"


def test_a_tool_error_is_said_without_sdk_noise(weather: McpApp) -> None:
    with pytest.raises(ActionError) as caught:
        _call(weather, "forecast", city="Atlantis")
    message = str(caught.value)
    assert "weather app" in message and "Atlantis" in message
    assert "Error executing tool" not in message
    with pytest.raises(ActionError, match=r"天气|weather"):
        _call(weather, "forecast", language="zh", city="Atlantis")


def test_the_example_also_serves_streamable_http() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, str(WEATHER), "--http", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app = McpApp("weather", {"url": f"http://127.0.0.1:{port}/mcp"}, call_timeout_s=5.0)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        app.start()
        assert "Tokyo" in _call(app, "forecast", city="tokyo").speech
        server.kill()
        server.wait()
        with pytest.raises(ActionError, match=r"stopped working|not available"):
            _call(app, "forecast", city="tokyo")
    finally:
        app.close()
        server.kill()
        server.wait()


# --- configuration ------------------------------------------------------------------------------


def test_configured_servers_start_and_broken_ones_are_left_out(tmp_path: Path) -> None:
    python = json.dumps(sys.executable)
    (tmp_path / "oculi.toml").write_text(
        f"""
[apps.mcp.weather]
command = [{python}, {json.dumps(str(WEATHER))}]
permissions = ["payment"]
description = "Forecasts"
[apps.mcp.silent]
command = [{python}, {json.dumps(str(SILENT))}]
[apps.mcp.pay]
command = [{python}, {json.dumps(str(WEATHER))}]
[apps.mcp.nowhere]
command = ["/no/such/program"]
[apps.mcp.remote]
url = "https://weather.example.com/mcp"
[apps.mcp.nosy]
command = [{python}, {json.dumps(str(WEATHER))}]
permissions = ["mind-reading"]
""",
        encoding="utf-8",
    )
    config = load_config(tmp_path / "oculi.toml", env={"OCULI_DATA_DIR": str(tmp_path / "data")})
    errors: list[str] = []
    began = time.monotonic()
    apps = mcp_apps(config, timeout_s=3.0, errors=errors)
    try:
        assert time.monotonic() - began < 12
        assert [a.name for a in apps] == ["weather"]
        weather = apps[0]
        assert weather.description == "Forecasts" and weather.permissions == ("payment",)
        assert all(spec.risky for spec in weather.actions().values()), "payment: always confirm"
        said = "\n".join(errors)
        assert "silent app did not start: no answer within 3 s" in said
        assert "'pay'" in said and "built-in" in said
        assert "nowhere app did not start: program not found" in said
        assert "'network'" in said and "mind-reading" in said
        assert (tmp_path / "data" / "logs" / "mcp-weather.log").exists()
        with fake_llm() as llm:
            events = asyncio.run(_agent(llm, *apps).handle("what can you do"))
        assert "weather" in _of(events, Answer)[-1].speech, "the session keeps working"
    finally:
        for app in apps:
            app.close()


def test_a_server_that_hangs_on_start_is_a_clear_error() -> None:
    app = McpApp("silent", {"command": [sys.executable, str(SILENT)]}, start_timeout_s=0.5)
    with pytest.raises(AppUnavailable, match=r"silent app did not start: no answer within 0\.5 s"):
        app.start()
    assert not app.available and app.actions() == {}


# --- servers that misbehave ---------------------------------------------------------------------


def test_a_server_that_crashes_mid_call_is_restarted_once_on_the_next_call() -> None:
    app = _broken()
    try:
        with pytest.raises(ActionError, match="broken app stopped working"):
            _call(app, "crash")
        assert not app.available
        assert _call(app, "echo", text="back again").speech == "back again"
        assert app.available
    finally:
        app.close()


def test_a_server_that_stays_down_is_unavailable_without_waiting(tmp_path: Path) -> None:
    app = _broken(env={"BROKEN_MARKER": str(tmp_path / "down")})
    try:
        with pytest.raises(ActionError, match="stopped working"):
            _call(app, "crash", stay_down=True)
        with pytest.raises(ActionError, match="broken app is not available"):
            _call(app, "echo", text="hello")  # the one restart, which fails
        began = time.monotonic()
        with pytest.raises(ActionError, match="broken app is not available"):
            _call(app, "echo", text="hello")
        assert time.monotonic() - began < 1.0, "no second restart"
    finally:
        app.close()
    with pytest.raises(ActionError, match="not running"):
        _call(app, "echo", text="after close")


def test_a_hanging_call_times_out_and_the_session_carries_on(broken: McpApp) -> None:
    with fake_llm() as llm:
        llm.replies.extend(
            [
                _tool_call("broken__hang", {}),
                _text("It did not answer."),
                _tool_call("broken__fail", {}),
                _text("It failed."),
                _tool_call("broken__echo", {"text": "still here"}),
                _text("still here"),
            ]
        )
        agent = _agent(llm, broken)
        began = time.monotonic()
        hung = asyncio.run(agent.handle("wait for the broken thing"))
        assert time.monotonic() - began < 4
        failed = asyncio.run(agent.handle("try the failing thing"))
        fine = asyncio.run(agent.handle("echo still here"))
    assert any("broken app did not answer" in e.message for e in _of(hung, ErrorEvent))
    told = json.loads(llm.requests[1]["body"]["messages"][-1]["content"])
    assert told["said"] == "The broken app did not answer.", "the model hears it too"
    assert any("sensor is unplugged" in e.message for e in _of(failed, ErrorEvent))
    echoed = json.loads(llm.requests[5]["body"]["messages"][-1]["content"])
    assert echoed["said"] == "still here" and not _of(fine, ErrorEvent)


def test_arguments_the_agent_cannot_check_are_passed_through(broken: McpApp) -> None:
    picky = broken.actions()["picky"]
    assert picky.parameters["properties"]["size"]["type"] == "integer"
    assert validate_args(picky, {"size": "3", "shape": {"w": 1}}) == {"size": 3, "shape": {"w": 1}}
    with pytest.raises(ArgumentError):
        validate_args(picky, {"size": "big"})
    assert _call(broken, "picky", size="3", shape={"w": 1}).speech == "size 3, shape {'w': 1}"


# --- schemas the agent must survive -------------------------------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        None,
        "not a schema",
        {"type": "object"},
        {"type": "object", "additionalProperties": True},
        {"type": "object", "properties": {"tags": {"type": "array"}}},
        {"type": "object", "properties": {"n": {"type": "integer", "enum": "1,2"}}},
        {"type": "object", "properties": {"n": True, "m": False}, "required": ["n", "gone", 3]},
        {"type": "object", "properties": {"x": {"type": ["string", "null"]}}},
        {"type": "object", "properties": {"x": {"oneOf": [{"type": "string"}, {"type": "int"}]}}},
        {"type": "object", "properties": {"x": {"$ref": "#/$defs/X"}}, "$defs": {"X": {}}},
    ],
)
def test_any_input_schema_gives_one_validate_args_can_use(schema: Any) -> None:
    parameters, _ = action_schema(schema)
    spec = ActionSpec("t", "a", "", parameters, False, lambda ctx: Reply(""))
    for args in ({}, {"tags": ["a", 1]}, {"n": 2}, {"x": "y"}, {"x": {"deep": [1]}}, {"zz": 1}):
        # refused with a message is fine; anything else would take the session down
        with contextlib.suppress(ArgumentError):
            validate_args(spec, args)


def test_checkable_parts_of_a_schema_are_kept() -> None:
    parameters, complete = action_schema(
        {
            "type": "object",
            "properties": {
                "city": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
                "n": {"type": "integer", "minimum": 1, "title": "N"},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
                "where": {"type": "object", "properties": {"lat": {"type": "number"}}},
            },
            "required": ["n"],
        },
        {"city": "the city"},
    )
    props = parameters["properties"]
    assert props["city"] == {"type": "string", "description": "the city"}
    assert props["n"] == {"type": "integer"}
    assert props["tags"] == {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
    assert props["where"]["type"] == "object", "shown as declared, passed through"
    assert parameters["required"] == ["n"] and parameters["additionalProperties"] is False
    assert not complete


def test_a_session_offers_configured_mcp_apps_and_closes_them(tmp_path: Path) -> None:
    from oculi.runtime.session import Session

    (tmp_path / "oculi.toml").write_text(
        f"[apps.mcp.weather]\ncommand = [{json.dumps(sys.executable)}, "
        f'{json.dumps(str(WEATHER))}]\n[apps.mcp.broken]\ncommand = ["/no/such/program"]\n',
        encoding="utf-8",
    )
    config = load_config(tmp_path / "oculi.toml", env={"OCULI_DATA_DIR": str(tmp_path / "data")})
    session = Session(config)
    try:
        weather = next(a for a in session.apps if a.name == "weather")
        assert any(name.startswith("weather__") for name in session.agent.actions)
        assert any("broken" in problem for problem in session.start_errors)
    finally:
        session.close()
    assert isinstance(weather, McpApp)
