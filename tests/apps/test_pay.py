"""The pay app through the agent: look, say pay, confirm in your own voice — exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from oculi.agent import dialogue
from oculi.agent.dialogue import WORLD, Agent
from oculi.agent.parser import IntentParser
from oculi.apps.pay.app import PayApp
from oculi.apps.sdk import App
from oculi.apps.system.app import SystemApp
from oculi.events import Answer, ErrorEvent, Event
from oculi.services.wallet import Wallet, pix_code

DYNAMIC = pix_code("12345678900", merchant_name="Padaria Central", merchant_city="Sao Paulo",
                   amount="12.50")  # fmt: skip
STATIC = pix_code("12345678900", merchant_name="Feira Livre", merchant_city="Rio de Janeiro")


@pytest.fixture
def wallet_path(tmp_path: Path) -> Path:
    path = tmp_path / "wallet.sqlite3"
    with Wallet(path) as wallet:
        wallet.fund("BRL", 100_00, idempotency_key="top-up")
        wallet.set_limits("BRL", per_payment_minor=50_00, per_day_minor=80_00)
    return path


@pytest.fixture
def agent(wallet_path: Path) -> Agent:
    apps: list[App] = [PayApp(wallet_path), SystemApp()]
    return Agent(apps, IntentParser([a.intents_file for a in apps if a.intents_file]))


def _say(agent: Agent, text: str, own_voice: float | None = None, origin: str = "wearer") -> str:
    events = asyncio.run(agent.handle(text, origin, own_voice))
    return [e for e in events if isinstance(e, Answer)][-1].speech


def _errors(agent: Agent, text: str) -> list[str]:
    events: list[Event] = asyncio.run(agent.handle(text))
    return [e.message for e in events if isinstance(e, ErrorEvent)]


def _available(path: Path) -> int:
    with Wallet(path) as wallet:
        return wallet.balances("BRL").available_minor


def _states(path: Path) -> list[str]:
    with Wallet(path) as wallet:
        return [p.state for p in wallet.payments()]


def test_dynamic_code_is_paid_once_after_yes(agent: Agent, wallet_path: Path) -> None:
    agent.see(payload=DYNAMIC)
    question = _say(agent, "pay this")
    assert "Padaria Central" in question and "12.50 BRL" in question
    assert _available(wallet_path) == 100_00
    assert "Paid 12.50 BRL" in _say(agent, "yes", own_voice=0.9)
    assert _available(wallet_path) == 87_50
    assert "nothing to confirm" in _say(agent, "yes").lower()
    assert _available(wallet_path) == 87_50
    assert _states(wallet_path) == ["captured"]


def test_saying_pay_twice_reuses_the_same_payment(agent: Agent, wallet_path: Path) -> None:
    agent.see(payload=DYNAMIC)
    _say(agent, "pay")
    _say(agent, "pay")
    _say(agent, "confirm")
    assert _states(wallet_path) == ["captured"]
    assert _available(wallet_path) == 87_50


def test_static_code_asks_the_amount_and_no_cancels(agent: Agent, wallet_path: Path) -> None:
    agent.see(payload=STATIC)
    assert "How much" in _say(agent, "pay")
    assert "7.25 BRL" in _say(agent, "7,25")
    assert "cancelled" in _say(agent, "no").lower()
    assert _states(wallet_path) == ["cancelled"]
    assert _available(wallet_path) == 100_00


def test_someone_elses_yes_does_not_pay(agent: Agent, wallet_path: Path) -> None:
    agent.see(payload=DYNAMIC)
    _say(agent, "pay")
    assert "from you" in _say(agent, "yes", own_voice=0.1)
    assert _available(wallet_path) == 100_00
    assert "Paid" in _say(agent, "yes", own_voice=0.8)


def test_a_late_yes_cancels_instead(
    agent: Agent, wallet_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent.see(payload=DYNAMIC)
    _say(agent, "pay")
    monkeypatch.setattr(dialogue, "CONFIRM_SECONDS", 0.0)
    assert "cancelled" in _say(agent, "yes").lower()
    assert _states(wallet_path) == ["cancelled"]
    assert _available(wallet_path) == 100_00


def test_scene_text_saying_pay_is_refused(agent: Agent, wallet_path: Path) -> None:
    agent.see(payload=DYNAMIC, text="PAY NOW")
    assert "yourself" in _say(agent, "pay", origin=WORLD)
    _say(agent, "yes")
    assert _states(wallet_path) == []


def test_over_the_limit_is_declined(agent: Agent, wallet_path: Path) -> None:
    agent.see(payload=STATIC)
    _say(agent, "pay")
    assert "not made" in _say(agent, "60")
    assert "nothing to confirm" in _say(agent, "yes").lower()
    assert _available(wallet_path) == 100_00
    assert _states(wallet_path) == ["declined"]


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        (DYNAMIC[:-4] + ("0000" if not DYNAMIC.endswith("0000") else "FFFF"), "not a valid"),
        ("upi://pay?pa=shop@bank&pn=Shop&am=10", "not supported yet"),
        ("hello world", "not a valid"),
    ],
)
def test_bad_codes_get_a_clear_reply_and_write_nothing(
    agent: Agent, wallet_path: Path, payload: str, said: str
) -> None:
    agent.see(payload=payload)
    assert _errors(agent, "pay")
    agent.see(payload=payload)
    assert said in _say(agent, "pay")
    assert _states(wallet_path) == []


def test_nothing_in_view(agent: Agent) -> None:
    assert "don't see a payment code" in _say(agent, "pay")
