"""Wallet fixtures: a wallet with a clock the test moves by hand, on SQLite and on PostgreSQL.

Tests that take `target` (or `wallet`) run twice: against a temporary SQLite file and against a
fresh database on the session's PostgreSQL server (`pg_url`, tests/conftest.py); the
PostgreSQL runs are skipped when pgserver (or psycopg) is missing or the server cannot start.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from oculi.services.wallet.emvco import pix_code
from oculi.services.wallet.wallet import Wallet

START = 1_750_000_000.0  # a fixed moment, 2025-06-15 15:06:40 UTC


class Clock:
    """Stands in for time.time so expiry and per-day limits are tested without waiting."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where the test's wallet lives: a SQLite file, then a `postgresql://` URL."""
    if request.param == "sqlite":
        return tmp_path / "wallet.sqlite3"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def wallet(target: Path | str, clock: Clock) -> Iterator[Wallet]:
    """A funded wallet: 1000.00 BRL, at most 200.00 a payment and 300.00 a day."""
    with Wallet(target, clock=clock) as w:
        w.fund("BRL", 100_000, idempotency_key="fund-1")
        w.set_limits("BRL", per_payment_minor=20_000, per_day_minor=30_000)
        yield w


@pytest.fixture
def cafe() -> str:
    """A PIX code that fixes the amount at 12.50 BRL."""
    return pix_code(
        "cafe@example.com", merchant_name="CAFE DO PONTO", merchant_city="SAO PAULO", amount="12.50"
    )


@pytest.fixture
def static_cafe() -> str:
    """A PIX code without an amount: the wearer says it."""
    return pix_code("cafe@example.com", merchant_name="CAFE DO PONTO", merchant_city="SAO PAULO")
