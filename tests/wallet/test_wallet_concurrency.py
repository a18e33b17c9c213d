"""Racing requests, each thread with its own connection: nothing is ever charged twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from oculi.errors import PaymentError
from oculi.services.wallet.errors import PaymentStateError
from oculi.services.wallet.intents import Confirmation, PaymentIntent
from oculi.services.wallet.wallet import Wallet

T = TypeVar("T")
VOICE = Confirmation("voice", own_voice=True)


def _race(
    path: Path, clock: Callable[[], float], n: int, work: Callable[[Wallet, int], T]
) -> list[T | Exception]:
    """Run `work` in n threads released together, each with its own Wallet (connection)."""
    start = threading.Barrier(n)
    results: list[T | Exception] = [RuntimeError("did not run")] * n

    def run(i: int) -> None:
        with Wallet(path, clock=clock) as wallet:
            start.wait()
            try:
                results[i] = work(wallet, i)
            except PaymentError as err:
                results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_fifty_concurrent_confirms_authorise_once(
    wallet: Wallet, wallet_path: Path, clock: Callable[[], float], cafe: str
) -> None:
    intent = wallet.create_payment(cafe, idempotency_key="create")
    results = _race(
        wallet_path,
        clock,
        50,
        lambda w, i: w.confirm(intent.id, idempotency_key=f"confirm-{i}", confirmation=VOICE),
    )
    authorised = [r for r in results if isinstance(r, PaymentIntent)]
    refused = [r for r in results if isinstance(r, PaymentStateError)]
    assert len(authorised) == 1 and len(refused) == 49
    captures = _race(
        wallet_path, clock, 50, lambda w, i: w.capture(intent.id, idempotency_key=f"capture-{i}")
    )
    assert sum(isinstance(r, PaymentIntent) for r in captures) == 1
    assert wallet.balances("BRL").paid_minor == 1250
    assert wallet.balances("BRL").available_minor == 100_000 - 1250
    assert wallet.verify() == []


def test_concurrent_requests_with_one_key_run_once(
    wallet: Wallet, wallet_path: Path, clock: Callable[[], float], cafe: str
) -> None:
    created = _race(
        wallet_path, clock, 20, lambda w, i: w.create_payment(cafe, idempotency_key="one")
    )
    assert all(isinstance(r, PaymentIntent) for r in created)
    assert len({r.id for r in created if isinstance(r, PaymentIntent)}) == 1
    assert len(wallet.payments()) == 1
    intent = wallet.payments()[0]
    confirmed = _race(
        wallet_path,
        clock,
        20,
        lambda w, i: w.confirm(intent.id, idempotency_key="yes", confirmation=VOICE),
    )
    assert all(isinstance(r, PaymentIntent) and r.state == "authorised" for r in confirmed)
    assert len({r for r in confirmed if isinstance(r, PaymentIntent)}) == 1
    assert wallet.balances("BRL").held_minor == 1250
    assert [e.action for e in wallet.audit_entries(intent.id)] == ["created", "authorised"]


def test_concurrent_payments_respect_the_daily_limit(
    wallet: Wallet, wallet_path: Path, clock: Callable[[], float]
) -> None:
    from oculi.services.wallet.emvco import pix_code

    code = pix_code("k@x.com", merchant_name="SHOP", merchant_city="RIO", amount="100.00")
    intents = [wallet.create_payment(code, idempotency_key=f"p{i}") for i in range(10)]
    results = _race(
        wallet_path,
        clock,
        10,
        lambda w, i: w.confirm(intents[i].id, idempotency_key=f"c{i}", confirmation=VOICE),
    )
    states = sorted(r.state for r in results if isinstance(r, PaymentIntent))
    assert states == ["authorised"] * 3 + ["declined"] * 7  # 300.00 BRL a day
    assert wallet.balances("BRL").held_minor == 30_000
    assert wallet.verify() == []
