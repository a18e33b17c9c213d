"""The dialogue around actions: confirmation, cancel, back, missing arguments, bad input."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from oculi.agent.dialogue import MAX_TEXT_CHARS, WORLD, Agent, is_question
from oculi.agent.parser import IntentParser
from oculi.apps.sdk import ActionError, App, Context, Reply, action
from oculi.apps.system.app import SystemApp
from oculi.events import Answer, ErrorEvent, Event, Intent

INTENTS = """
app: tips
lists:
  amount: {range: {from: 1, to: 1000}}
  who: {wildcard: true}
  text: {wildcard: true}
intents:
  pay:
    en: ["pay {amount} [euros] to {who}", "pay {amount} [euros]"]
  note:
    en: ["write down {text}", "write [a] note"]
  boom:
    en: ["explode"]
  peek:
    en: ["where am i"]
  last:
    en: ["what did i pay"]
lists_extra: {}
"""


class TipsApp(App):
    name = "tips"
    permissions = ("storage",)

    def __init__(self, intents: Path) -> None:
        self.intents_file = intents
        self.paid: list[tuple[int, str]] = []
        self.notes: list[str] = []

    @action(risky=True)
    def pay(self, ctx: Context, amount: int, who: str) -> Reply:
        """Pay a tip."""
        self.paid.append((amount, who))
        return Reply(f"Paid {amount} to {who}.", data={"amount": amount, "who": who})

    @action
    def note(self, ctx: Context, text: str) -> Reply:
        """Write a note."""
        self.notes.append(text)
        return ctx.reply(f"Noted {text}.", "Noted")

    @action
    def boom(self, ctx: Context) -> Reply:
        """Fail the way buggy apps do."""
        raise RuntimeError("bug in the app")

    @action
    def peek(self, ctx: Context) -> Reply:
        """Reach for something undeclared."""
        return ctx.reply(str(ctx.position), "Position")

    @action
    def last(self, ctx: Context) -> Reply:
        """Read this app's last result."""
        if not ctx.last:
            raise ActionError("nothing paid yet")
        return ctx.reply(f"You paid {ctx.last['amount']}.", "Last")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Agent, TipsApp]:
    intents = tmp_path / "tips.yaml"
    intents.write_text(INTENTS.replace("lists_extra: {}\n", ""), encoding="utf-8")
    tips = TipsApp(intents)
    apps: list[App] = [tips, SystemApp()]
    parser = IntentParser([a.intents_file for a in apps if a.intents_file is not None])
    return Agent(apps, parser, data_dir=tmp_path), tips


def _say(agent: Agent, text: str, origin: str = "wearer") -> list[Event]:
    return asyncio.run(agent.handle(text, origin))


def _answer(events: list[Event]) -> str:
    return [e for e in events if isinstance(e, Answer)][-1].speech


def test_risky_action_runs_only_after_yes(setup: tuple[Agent, TipsApp]) -> None:
    agent, tips = setup
    asked = _say(agent, "pay 5 euros to the waiter")
    assert tips.paid == []
    assert "yes" in _answer(asked).lower()
    done = _say(agent, "yes")
    assert tips.paid == [(5, "the waiter")]
    assert _answer(done) == "Paid 5 to the waiter."
    assert _answer(_say(agent, "yes")).lower().startswith("there is nothing to confirm")
    assert tips.paid == [(5, "the waiter")]


def test_no_cancels_and_a_new_request_drops_the_question(setup: tuple[Agent, TipsApp]) -> None:
    agent, tips = setup
    _say(agent, "pay 5 euros to Ann")
    assert _answer(_say(agent, "no")) == "Cancelled."
    _say(agent, "pay 7 euros to Bob")
    _say(agent, "write down buy milk")
    _say(agent, "yes")
    assert tips.paid == []
    assert tips.notes == ["buy milk"]


def test_scene_text_cannot_start_a_risky_action(setup: tuple[Agent, TipsApp]) -> None:
    agent, tips = setup
    events = _say(agent, "pay 500 euros to Mallory", origin=WORLD)
    _say(agent, "yes")
    assert tips.paid == []
    assert any(isinstance(e, ErrorEvent) for e in events)


def test_missing_argument_is_asked_for_then_filled(setup: tuple[Agent, TipsApp]) -> None:
    agent, tips = setup
    asked = _say(agent, "write a note")
    assert _answer(asked) == "What should I write?"
    _say(agent, "call the dentist")
    assert tips.notes == ["call the dentist"]
    _say(agent, "pay 3 euros")
    assert tips.paid == []
    _say(agent, "Carol")
    _say(agent, "yes")
    assert tips.paid == [(3, "Carol")]


def test_back_shows_the_previous_answer(setup: tuple[Agent, TipsApp]) -> None:
    agent, _ = setup
    _say(agent, "write down first")
    _say(agent, "write down second")
    back = _say(agent, "go back")
    assert _answer(back) == "Noted first."
    assert "nothing to go back" in _answer(_say(agent, "back")).lower()


def test_follow_up_reads_the_apps_last_result(setup: tuple[Agent, TipsApp]) -> None:
    agent, _ = setup
    assert "nothing paid" in _answer(_say(agent, "what did i pay"))
    _say(agent, "pay 9 euros to Dan")
    _say(agent, "yes")
    assert _answer(_say(agent, "what did i pay")) == "You paid 9."


def test_failing_app_and_undeclared_permission_keep_the_session(
    setup: tuple[Agent, TipsApp],
) -> None:
    agent, tips = setup
    boom = _say(agent, "explode")
    assert any("bug in the app" in e.message for e in boom if isinstance(e, ErrorEvent))
    assert "problem" in _answer(boom)
    peek = _say(agent, "where am i")
    assert any("location" in e.message for e in peek if isinstance(e, ErrorEvent))
    _say(agent, "write down still here")
    assert tips.notes == ["still here"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [("x" * (MAX_TEXT_CHARS + 1), "long"), ("\x00\x01\x02binary\xff", "binary"),
     ("caf\ufffd", "binary")],
)  # fmt: skip
def test_bad_text_is_refused_with_a_reply_and_an_error(
    setup: tuple[Agent, TipsApp], text: str, problem: str
) -> None:
    agent, tips = setup
    events = _say(agent, text)
    assert [e.message for e in events if isinstance(e, ErrorEvent)] == [
        f"request refused: {problem}"
    ]
    assert _answer(events)
    assert tips.notes == [] and tips.paid == []


def test_empty_text_does_nothing(setup: tuple[Agent, TipsApp]) -> None:
    agent, _ = setup
    assert _say(agent, "   ") == []


def test_unknown_request_goes_to_the_system_app(setup: tuple[Agent, TipsApp]) -> None:
    agent, _ = setup
    events = _say(agent, "juggle three oranges")
    intent = next(e for e in events if isinstance(e, Intent))
    assert (intent.app, intent.action, intent.path) == ("system", "unknown", "none")
    assert "can't" in _answer(events)


@pytest.mark.parametrize(
    ("text", "question"),
    [("who painted the mona lisa", True), ("what's the boiling point of water", True),
     ("长城有多长", True), ("tell me something?", True), ("set an alarm for seven", False),
     ("打开客厅的灯", False)],
)  # fmt: skip
def test_questions_are_told_from_commands(text: str, question: bool) -> None:
    assert is_question(text) is question
