"""Racing requests, each thread with its own connection: nothing is ever charged twice.

On SQLite the file's write lock queues them; on PostgreSQL the idempotency key's advisory lock,
the payment row's `FOR UPDATE` and the ledger lock do (see conftest: every test runs on both)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from oculi.errors import PaymentError
from oculi.services.wallet.emvco import pix_code
from oculi.services.wallet.errors import PaymentStateError
from oculi.services.wallet.intents import Confirmation, PaymentIntent
from oculi.services.wallet.wallet import Wallet

T = TypeVar("T")
VOICE = Confirmation("voice", own_voice=True)


def _race(
    target: Path | str, clock: Callable[[], float], n: int, work: Callable[[Wallet, int], T]
) -> list[T | Exception]:
    """Run `work` in n threads released together, each with its own Wallet (connection)."""
    start = threading.Barrier(n)
    results: list[T | Exception] = [RuntimeError("did not run")] * n

    def run(i: int) -> None:
        try:
            with Wallet(target, clock=clock) as wallet:
                start.wait(timeout=60)
                try:
                    results[i] = work(wallet, i)
                except PaymentError as err:
                    results[i] = err
        except Exception as err:  # this thread could not open its wallet, or another could not
            start.abort()
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_fifty_concurrent_confirms_authorise_once(
    wallet: Wallet, target: Path | str, clock: Callable[[], float], cafe: str
) -> None:
    intent = wallet.create_payment(cafe, idempotency_key="create")
    results = _race(
        target,
        clock,
        50,
        lambda w, i: w.confirm(intent.id, idempotency_key=f"confirm-{i}", confirmation=VOICE),
    )
    authorised = [r for r in results if isinstance(r, PaymentIntent)]
    refused = [r for r in results if isinstance(r, PaymentStateError)]
    assert len(authorised) == 1 and len(refused) == 49
    # each saw the state the one before it left (a row lock), none raced it to the update
    assert all("already confirmed" in str(r) for r in refused), {str(r) for r in refused}
    captures = _race(
        target, clock, 50, lambda w, i: w.capture(intent.id, idempotency_key=f"capture-{i}")
    )
    assert sum(isinstance(r, PaymentIntent) for r in captures) == 1
    assert wallet.balances("BRL").paid_minor == 1250
    assert wallet.balances("BRL").available_minor == 100_000 - 1250
    assert wallet.verify() == []


def test_concurrent_requests_with_one_key_run_once(
    wallet: Wallet, target: Path | str, clock: Callable[[], float], cafe: str
) -> None:
    created = _race(target, clock, 20, lambda w, i: w.create_payment(cafe, idempotency_key="one"))
    assert all(isinstance(r, PaymentIntent) for r in created)
    assert len({r.id for r in created if isinstance(r, PaymentIntent)}) == 1
    assert len(wallet.payments()) == 1
    intent = wallet.payments()[0]
    confirmed = _race(
        target,
        clock,
        20,
        lambda w, i: w.confirm(intent.id, idempotency_key="yes", confirmation=VOICE),
    )
    assert all(isinstance(r, PaymentIntent) and r.state == "authorised" for r in confirmed)
    assert len({r for r in confirmed if isinstance(r, PaymentIntent)}) == 1
    assert wallet.balances("BRL").held_minor == 1250
    assert [e.action for e in wallet.audit_entries(intent.id)] == ["created", "authorised"]


def test_concurrent_payments_respect_the_daily_limit(
    wallet: Wallet, target: Path | str, clock: Callable[[], float]
) -> None:
    code = pix_code("k@x.com", merchant_name="SHOP", merchant_city="RIO", amount="100.00")
    intents = [wallet.create_payment(code, idempotency_key=f"p{i}") for i in range(10)]
    results = _race(
        target,
        clock,
        10,
        lambda w, i: w.confirm(intents[i].id, idempotency_key=f"c{i}", confirmation=VOICE),
    )
    states = sorted(r.state for r in results if isinstance(r, PaymentIntent))
    assert states == ["authorised"] * 3 + ["declined"] * 7  # 300.00 BRL a day
    assert wallet.balances("BRL").held_minor == 30_000
    assert wallet.verify() == []


def test_concurrent_payments_never_overdraw(
    wallet: Wallet, target: Path | str, clock: Callable[[], float]
) -> None:
    code = pix_code("k@x.com", merchant_name="SHOP", merchant_city="RIO", amount="200.00")
    wallet.set_limits("BRL", per_payment_minor=20_000, per_day_minor=10_000_000)
    intents = [wallet.create_payment(code, idempotency_key=f"p{i}") for i in range(8)]
    results = _race(
        target,
        clock,
        8,
        lambda w, i: w.confirm(intents[i].id, idempotency_key=f"c{i}", confirmation=VOICE),
    )
    states = sorted(r.state for r in results if isinstance(r, PaymentIntent))
    assert states == ["authorised"] * 5 + ["declined"] * 3  # 1000.00 BRL in the wallet
    balances = wallet.balances("BRL")
    assert (balances.available_minor, balances.held_minor) == (0, 100_000)
    assert wallet.verify() == []


def test_first_opens_race_to_create_the_tables(
    target: Path | str, clock: Callable[[], float]
) -> None:
    results = _race(target, clock, 8, lambda w, i: w.fund("BRL", 100, idempotency_key=f"f{i}"))
    assert all(not isinstance(r, Exception) for r in results), results
    with Wallet(target) as wallet:
        assert wallet.balances("BRL").available_minor == 800
        assert wallet.verify() == []
