"""The ledger always balances; the audit chain shows any tampering. On SQLite and PostgreSQL."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from walletdb import driver_errors, raw, scalar, tamper

from oculi.errors import PaymentError
from oculi.services.wallet import ledger, store
from oculi.services.wallet.emvco import pix_code
from oculi.services.wallet.intents import Confirmation
from oculi.services.wallet.wallet import Wallet

VOICE = Confirmation("voice", own_voice=True)


def _random_history(wallet: Wallet, seed: int, n: int = 40) -> None:
    """Payments that end every possible way (declined too, once the money runs out)."""
    rng = random.Random(seed)
    for i in range(n):
        amount = f"{rng.randint(1, 9000) / 100:.2f}"
        code = pix_code(f"k{i}@x.com", merchant_name="SHOP", merchant_city="RIO", amount=amount)
        intent = wallet.create_payment(code, idempotency_key=f"p{i}")
        ending = rng.choice(("capture", "cancel-held", "cancel", "hold", "unconfirmed"))
        if ending == "cancel":
            wallet.cancel(intent.id, idempotency_key=f"x{i}")
            continue
        if ending == "unconfirmed":
            continue
        wallet.confirm(intent.id, idempotency_key=f"c{i}", confirmation=VOICE)
        if ending == "capture":
            wallet.capture(intent.id, idempotency_key=f"k{i}")
        elif ending == "cancel-held":
            wallet.cancel(intent.id, idempotency_key=f"x{i}")


def _sums(target: Path | str) -> tuple[list[tuple[int, int]], int]:
    with raw(target) as db:
        per_txn = [
            (int(txn), int(total))
            for txn, total in db.execute(
                "SELECT txn_id, SUM(amount_minor) FROM postings GROUP BY txn_id"
            ).fetchall()
        ]
    return per_txn, scalar(target, "SELECT COALESCE(SUM(amount_minor), 0) FROM postings")


def test_every_transaction_sums_to_zero(wallet: Wallet, target: Path | str) -> None:
    wallet.set_limits("BRL", per_payment_minor=10_000, per_day_minor=10_000_000)
    _random_history(wallet, seed=3)
    per_txn, total = _sums(target)
    assert len(per_txn) > 20
    assert all(s == 0 for _, s in per_txn) and total == 0
    b = wallet.balances("BRL")
    payments = wallet.payments(limit=100)
    held = sum(p.total_minor or 0 for p in payments if p.state == "authorised")
    paid = sum(p.total_minor or 0 for p in payments if p.state == "captured")
    assert (b.held_minor, b.paid_minor) == (held, paid)
    assert b.available_minor + b.held_minor + b.paid_minor == 100_000
    assert wallet.verify() == []


def test_unbalanced_postings_are_refused(target: Path | str) -> None:
    db = store.connect(target)
    with pytest.raises(PaymentError, match="do not sum to zero"), db.write():
        ledger.post(db, "bad", (ledger.Posting("available:BRL", 100),), at=0.0)
    with pytest.raises(PaymentError, match="non-zero"), db.write():
        ledger.post(db, "bad", ledger.transfer("funding:BRL", "available:BRL", 0), at=0.0)
    with pytest.raises(PaymentError, match="below zero"), db.write():
        ledger.post(db, "bad", ledger.transfer("available:BRL", "held:BRL", 1), at=0.0)
    assert db.row("SELECT count(*) FROM postings") == (0,)
    assert db.row("SELECT count(*) FROM ledger_transactions") == (0,)
    db.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "UPDATE postings SET amount_minor = 1 WHERE id = 1",
        "DELETE FROM ledger_transactions",
    ],
)
def test_append_only_tables_refuse_changes(
    wallet: Wallet, target: Path | str, statement: str
) -> None:
    before = scalar(target, "SELECT count(*) FROM audit_log")
    with raw(target) as db, pytest.raises(driver_errors(target), match="append-only"):
        db.execute(statement)
    assert scalar(target, "SELECT count(*) FROM audit_log") == before
    assert wallet.verify() == []


def test_postgres_refuses_truncating_the_ledger(pg_url: str) -> None:
    with Wallet(pg_url) as wallet:
        wallet.fund("BRL", 100_000, idempotency_key="fund")
        for table in store.APPEND_ONLY:
            with raw(pg_url) as db, pytest.raises(driver_errors(pg_url), match="append-only"):
                db.execute(f"TRUNCATE {table} CASCADE")
        assert wallet.balances("BRL").available_minor == 100_000
        assert wallet.verify() == []


@pytest.mark.parametrize(
    ("statements", "found"),
    [
        (["UPDATE audit_log SET detail = '{}' WHERE seq = 3"], "audit entry 3: content"),
        (["DELETE FROM audit_log WHERE seq = 2"], "audit entry 2: missing"),
        (
            ["UPDATE audit_log SET hash = 'f' || substr(hash, 2) WHERE seq = 2"],
            "audit entry 3: does not link",
        ),
        (["UPDATE postings SET amount_minor = amount_minor * 2 WHERE id = 3"], "sum to"),
        (["UPDATE payments SET state = 'cancelled' WHERE state = 'captured'"], "audit trail"),
        (["DELETE FROM postings WHERE account LIKE 'merchants:%'"], "merchants 0"),
        (["DELETE FROM payments"], "but no record"),
    ],
)
def test_verify_detects_tampering(
    wallet: Wallet, target: Path | str, cafe: str, statements: list[str], found: str
) -> None:
    intent = wallet.create_payment(cafe, idempotency_key="c")
    wallet.confirm(intent.id, idempotency_key="y", confirmation=VOICE)
    wallet.capture(intent.id, idempotency_key="k")
    assert wallet.verify() == []
    tamper(target, *statements)
    problems = wallet.verify()
    assert any(found in p for p in problems), problems


def test_audit_chain_links_every_entry(wallet: Wallet, cafe: str) -> None:
    wallet.create_payment(cafe, idempotency_key="c")
    entries = wallet.audit_entries()
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert len({e.hash for e in entries}) == len(entries)
