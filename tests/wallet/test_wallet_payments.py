"""Payments: the state machine, limits, idempotency keys and all-or-nothing writes.

Every test that takes `wallet` or `target` runs on SQLite and on PostgreSQL (see conftest)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from walletdb import counts, raw

from oculi.errors import PaymentError
from oculi.services.wallet import audit, store
from oculi.services.wallet.emvco import pix_code, promptpay_code
from oculi.services.wallet.errors import (
    IdempotencyConflictError,
    PaymentCodeError,
    PaymentStateError,
    WalletStoreError,
)
from oculi.services.wallet.intents import Confirmation
from oculi.services.wallet.wallet import CONFIRM_WINDOW_S, Wallet

VOICE = Confirmation("voice", own_voice=True)


def test_fixed_amount_code_goes_to_captured(wallet: Wallet, cafe: str) -> None:
    intent = wallet.create_payment(cafe, idempotency_key="create")
    assert (intent.state, intent.amount_minor, intent.fixed_amount) == (
        "awaiting_confirmation",
        1250,
        True,
    )
    assert (intent.scheme, intent.payee, intent.merchant_name) == (
        "pix",
        "cafe@example.com",
        "CAFE DO PONTO",
    )
    authorised = wallet.confirm(intent.id, idempotency_key="confirm", confirmation=VOICE)
    assert authorised.state == "authorised" and authorised.confirmed_by == "voice"
    assert wallet.balances("BRL").held_minor == 1250
    captured = wallet.capture(intent.id, idempotency_key="capture")
    assert captured.state == "captured"
    balances = wallet.balances("BRL")
    assert (balances.available_minor, balances.held_minor, balances.paid_minor) == (98750, 0, 1250)
    actions = [e.action for e in wallet.audit_entries(intent.id)]
    assert actions == ["created", "authorised", "captured"]
    assert wallet.verify() == []


def test_static_code_waits_for_the_spoken_amount(wallet: Wallet, static_cafe: str) -> None:
    intent = wallet.create_payment(static_cafe, idempotency_key="create")
    assert intent.state == "created" and intent.amount_minor is None
    with pytest.raises(PaymentStateError, match="no amount yet"):
        wallet.confirm(intent.id, idempotency_key="early", confirmation=VOICE)
    intent = wallet.set_amount(intent.id, 2500, idempotency_key="amount")
    assert intent.state == "awaiting_confirmation" and intent.total == "25.00"
    corrected = wallet.set_amount(intent.id, 2000, idempotency_key="amount-2")
    assert corrected.amount_minor == 2000
    assert wallet.confirm(intent.id, idempotency_key="c", confirmation=VOICE).state == "authorised"


def test_code_amount_cannot_be_changed(wallet: Wallet, cafe: str) -> None:
    with pytest.raises(PaymentError, match="fixes the amount"):
        wallet.create_payment(cafe, idempotency_key="k", amount_minor=100)
    intent = wallet.create_payment(cafe, idempotency_key="k2")
    with pytest.raises(PaymentError, match="fixes the amount"):
        wallet.set_amount(intent.id, 100, idempotency_key="k3")


def test_second_confirm_with_a_new_key_is_refused_and_audited(wallet: Wallet, cafe: str) -> None:
    intent = wallet.create_payment(cafe, idempotency_key="create")
    wallet.confirm(intent.id, idempotency_key="first", confirmation=VOICE)
    before = wallet.balances("BRL")
    with pytest.raises(PaymentStateError, match="already confirmed"):
        wallet.confirm(intent.id, idempotency_key="second", confirmation=VOICE)
    wallet.capture(intent.id, idempotency_key="capture")
    with pytest.raises(PaymentStateError, match="already paid"):
        wallet.confirm(intent.id, idempotency_key="third", confirmation=VOICE)
    assert wallet.balances("BRL").available_minor == before.available_minor
    refused = [e for e in wallet.audit_entries(intent.id) if e.action == "refused"]
    assert len(refused) == 2 and refused[0].detail["idempotency_key"] == "second"


@pytest.mark.parametrize("channel", ["camera", "ocr", "text", ""])
def test_confirmation_never_comes_from_the_camera(wallet: Wallet, cafe: str, channel: str) -> None:
    intent = wallet.create_payment(cafe, idempotency_key="create")
    with pytest.raises(PaymentError, match="confirmed by the wearer"):
        wallet.confirm(intent.id, idempotency_key="c", confirmation=Confirmation(channel))
    assert wallet.payment(intent.id).state == "awaiting_confirmation"


def test_someone_elses_voice_cannot_confirm(wallet: Wallet, cafe: str) -> None:
    intent = wallet.create_payment(cafe, idempotency_key="create")
    with pytest.raises(PaymentError, match="not spoken by the wearer"):
        wallet.confirm(intent.id, idempotency_key="c", confirmation=Confirmation("voice", False))
    unknown = Confirmation("voice", own_voice=None)
    assert wallet.confirm(intent.id, idempotency_key="c2", confirmation=unknown).state == (
        "authorised"
    )


def test_cancel_before_and_after_authorisation(wallet: Wallet, cafe: str) -> None:
    first = wallet.create_payment(cafe, idempotency_key="a")
    assert wallet.cancel(first.id, idempotency_key="ca").state == "cancelled"
    second = wallet.create_payment(cafe, idempotency_key="b")
    wallet.confirm(second.id, idempotency_key="cb", confirmation=VOICE)
    assert wallet.balances("BRL").held_minor == 1250
    cancelled = wallet.cancel(second.id, idempotency_key="xb")
    assert cancelled.state == "cancelled" and cancelled.reason == "cancelled by the wearer"
    assert wallet.balances("BRL").held_minor == 0
    assert wallet.balances("BRL").available_minor == 100_000
    with pytest.raises(PaymentStateError, match="already cancelled"):
        wallet.cancel(second.id, idempotency_key="xb2")
    with pytest.raises(PaymentStateError):
        wallet.capture(second.id, idempotency_key="cap")
    assert wallet.verify() == []


def test_unconfirmed_payment_expires(wallet: Wallet, cafe: str, clock: Any) -> None:
    intent = wallet.create_payment(cafe, idempotency_key="create")
    clock.now += CONFIRM_WINDOW_S + 1
    late = wallet.confirm(intent.id, idempotency_key="late", confirmation=VOICE)
    assert late.state == "expired" and late.reason == "no confirmation in time"
    assert wallet.balances("BRL").held_minor == 0
    with pytest.raises(PaymentStateError):
        wallet.confirm(intent.id, idempotency_key="later", confirmation=VOICE)


def test_uncaptured_hold_expires_and_is_released(wallet: Wallet, cafe: str, clock: Any) -> None:
    intent = wallet.create_payment(cafe, idempotency_key="create")
    wallet.confirm(intent.id, idempotency_key="c", confirmation=VOICE)
    clock.now += 8 * 86400
    expired = wallet.expire_due()
    assert [p.id for p in expired] == [intent.id]
    assert wallet.payment(intent.id).state == "expired"
    assert wallet.balances("BRL").held_minor == 0
    assert wallet.balances("BRL").available_minor == 100_000
    assert wallet.verify() == []


# --- limits -----------------------------------------------------------------------------------


def _code(amount: str) -> str:
    return pix_code("shop@example.com", merchant_name="SHOP", merchant_city="RIO", amount=amount)


def test_over_the_per_payment_limit_is_declined_without_ledger_write(
    wallet: Wallet, target: Path | str
) -> None:
    before = counts(target)
    intent = wallet.create_payment(_code("200.01"), idempotency_key="big")
    assert intent.state == "declined"
    assert intent.reason == "per-payment limit: 200.01 BRL is over the 200.00 BRL limit"
    after = counts(target)
    assert after["postings"] == before["postings"]
    assert [e.action for e in wallet.audit_entries(intent.id)] == ["created", "declined"]
    with pytest.raises(PaymentStateError):
        wallet.confirm(intent.id, idempotency_key="c", confirmation=VOICE)


def test_per_day_limit_counts_todays_payments(wallet: Wallet, clock: Any) -> None:
    for i, amount in enumerate(("150.00", "100.00")):
        intent = wallet.create_payment(_code(amount), idempotency_key=f"p{i}")
        wallet.confirm(intent.id, idempotency_key=f"c{i}", confirmation=VOICE)
    third = wallet.create_payment(_code("50.01"), idempotency_key="p3")
    declined = wallet.confirm(third.id, idempotency_key="c3", confirmation=VOICE)
    assert declined.state == "declined" and "per-day limit" in (declined.reason or "")
    assert "250.00 BRL spent today" in (declined.reason or "")
    clock.now += 86400  # the next UTC day
    fourth = wallet.create_payment(_code("50.01"), idempotency_key="p4")
    assert wallet.confirm(fourth.id, idempotency_key="c4", confirmation=VOICE).state == (
        "authorised"
    )


def test_cancelled_payments_do_not_count_towards_the_day(wallet: Wallet) -> None:
    first = wallet.create_payment(_code("200.00"), idempotency_key="p1")
    wallet.confirm(first.id, idempotency_key="c1", confirmation=VOICE)
    wallet.cancel(first.id, idempotency_key="x1")
    second = wallet.create_payment(_code("200.00"), idempotency_key="p2")
    assert wallet.confirm(second.id, idempotency_key="c2", confirmation=VOICE).state == (
        "authorised"
    )


def test_limits_are_per_currency(wallet: Wallet) -> None:
    payload = promptpay_code("081-234-5678", amount="100.00")
    declined = wallet.create_payment(payload, idempotency_key="thb")
    assert declined.state == "declined" and "no spending limit set for THB" in (
        declined.reason or ""
    )
    wallet.set_limits("THB", per_payment_minor=50_000, per_day_minor=100_000)
    wallet.fund("THB", 20_000, idempotency_key="fund-thb")
    intent = wallet.create_payment(payload, idempotency_key="thb-2")
    assert wallet.confirm(intent.id, idempotency_key="c", confirmation=VOICE).state == (
        "authorised"
    )
    assert wallet.balances("THB").held_minor == 10_000
    assert wallet.balances("BRL").held_minor == 0


def test_not_enough_money_is_declined(wallet: Wallet) -> None:
    wallet.set_limits("BRL", per_payment_minor=500_000, per_day_minor=500_000)
    intent = wallet.create_payment(_code("1000.01"), idempotency_key="p")
    declined = wallet.confirm(intent.id, idempotency_key="c", confirmation=VOICE)
    assert declined.state == "declined" and "not enough money" in (declined.reason or "")
    assert wallet.balances("BRL").available_minor == 100_000


def test_bad_limits_are_refused(wallet: Wallet) -> None:
    with pytest.raises(PaymentError):
        wallet.set_limits("BRL", per_payment_minor=0, per_day_minor=10)
    with pytest.raises(PaymentError, match="above the per-day"):
        wallet.set_limits("BRL", per_payment_minor=20, per_day_minor=10)
    with pytest.raises(PaymentError, match="ISO 4217"):
        wallet.set_limits("XYZ", per_payment_minor=1, per_day_minor=1)


# --- idempotency ------------------------------------------------------------------------------


def test_same_key_same_request_returns_the_stored_result(
    wallet: Wallet, cafe: str, target: Path | str
) -> None:
    first = wallet.create_payment(cafe, idempotency_key="same")
    before = counts(target)
    again = wallet.create_payment(cafe, idempotency_key="same")
    assert again == first
    assert counts(target) == before
    confirmed = wallet.confirm(first.id, idempotency_key="yes", confirmation=VOICE)
    wallet.capture(first.id, idempotency_key="cap")
    # the retry of a confirm that got lost in transit: the same answer, no second charge
    assert wallet.confirm(first.id, idempotency_key="yes", confirmation=VOICE) == confirmed
    assert wallet.balances("BRL").paid_minor == 1250


def test_same_key_different_request_is_a_conflict(wallet: Wallet, cafe: str) -> None:
    first = wallet.create_payment(cafe, idempotency_key="key")
    with pytest.raises(IdempotencyConflictError, match="different request"):
        wallet.create_payment(_code("1.00"), idempotency_key="key")
    with pytest.raises(IdempotencyConflictError):
        wallet.confirm(first.id, idempotency_key="key", confirmation=VOICE)
    assert len(wallet.payments()) == 1


def test_a_refused_request_does_not_use_up_its_key(wallet: Wallet, static_cafe: str) -> None:
    intent = wallet.create_payment(static_cafe, idempotency_key="create")
    with pytest.raises(PaymentStateError):
        wallet.confirm(intent.id, idempotency_key="retry-me", confirmation=VOICE)
    wallet.set_amount(intent.id, 500, idempotency_key="amount")
    assert wallet.confirm(intent.id, idempotency_key="retry-me", confirmation=VOICE).state == (
        "authorised"
    )


def test_keys_are_forgotten_after_a_day(wallet: Wallet, cafe: str, clock: Any) -> None:
    first = wallet.create_payment(cafe, idempotency_key="old")
    clock.now += 3600
    assert wallet.prune_keys() == 0
    clock.now += 86400
    assert wallet.prune_keys() >= 1
    assert wallet.create_payment(cafe, idempotency_key="old").id != first.id


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_bad_idempotency_keys(wallet: Wallet, cafe: str, key: str) -> None:
    with pytest.raises(PaymentError, match="idempotency key"):
        wallet.create_payment(cafe, idempotency_key=key)


# --- bad input, nothing written -----------------------------------------------------------------


@pytest.mark.parametrize("payload", ["upi://pay?pa=x@y", "000201", "", "0" * 10_000])
def test_bad_code_writes_nothing_but_an_audit_entry(
    wallet: Wallet, target: Path | str, payload: str
) -> None:
    before = counts(target)
    with pytest.raises(PaymentCodeError):
        wallet.create_payment(payload, idempotency_key="bad")
    after = counts(target)
    assert after == {**before, "audit_log": before["audit_log"] + 1}
    assert wallet.audit_entries()[-1].action == "refused"


@pytest.mark.parametrize("amount", [0, -5, True, 12.5])
def test_bad_amounts_are_refused(wallet: Wallet, static_cafe: str, amount: int) -> None:
    intent = wallet.create_payment(static_cafe, idempotency_key="create")
    with pytest.raises(PaymentError, match="above 0"):
        wallet.set_amount(intent.id, amount, idempotency_key="amount")
    assert wallet.payment(intent.id).state == "created"


def test_failure_mid_confirm_leaves_no_partial_write(
    wallet: Wallet, cafe: str, target: Path | str, monkeypatch: pytest.MonkeyPatch
) -> None:
    intent = wallet.create_payment(cafe, idempotency_key="create")
    before = counts(target)
    real_append = audit.append

    def failing_append(db: store.Store, action: str, **kwargs: Any) -> audit.AuditEntry:
        if action == "authorised":  # after the ledger postings and the state change
            raise db.errors[0]("disk I/O error")  # what the driver raises when a write fails
        return real_append(db, action, **kwargs)

    monkeypatch.setattr(audit, "append", failing_append)
    with pytest.raises(WalletStoreError, match="nothing written"):
        wallet.confirm(intent.id, idempotency_key="confirm", confirmation=VOICE)
    monkeypatch.setattr(audit, "append", real_append)
    after = counts(target)
    assert {k: after[k] for k in ("postings", "ledger_transactions", "idempotency_keys")} == {
        k: before[k] for k in ("postings", "ledger_transactions", "idempotency_keys")
    }
    assert wallet.payment(intent.id).state == "awaiting_confirmation"
    retried = wallet.confirm(intent.id, idempotency_key="confirm", confirmation=VOICE)
    assert retried.state == "authorised" and wallet.verify() == []


def test_unknown_payment(wallet: Wallet) -> None:
    with pytest.raises(PaymentStateError, match="no payment"):
        wallet.confirm("pay_nope", idempotency_key="k", confirmation=VOICE)


def test_acknowledged_payment_survives_reopening(target: Path | str, cafe: str) -> None:
    with Wallet(target) as w:
        w.fund("BRL", 5000, idempotency_key="f")
        w.set_limits("BRL", per_payment_minor=5000, per_day_minor=5000)
        intent = w.create_payment(cafe, idempotency_key="c")
        w.confirm(intent.id, idempotency_key="y", confirmation=Confirmation("touch"))
    with Wallet(target) as w:
        assert w.kind == ("postgresql" if store.is_postgres(target) else "sqlite")
        assert w.payment(intent.id).state == "authorised"
        assert w.balances("BRL").held_minor == 1250
        assert w.verify() == []


def test_without_psycopg_a_postgres_url_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails
    with pytest.raises(WalletStoreError, match="psycopg") as caught:
        Wallet("postgresql://wallet:s3cret@localhost/oculi")
    assert "postgres` extra" in str(caught.value) and "s3cret" not in str(caught.value)


def test_an_unreachable_postgres_server_is_a_store_error(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://wallet:s3cret@/oculi?host={tmp_path}&connect_timeout=2"
    with pytest.raises(WalletStoreError, match="cannot connect") as caught:
        Wallet(url)
    assert "s3cret" not in str(caught.value) and "***" in str(caught.value)
    with pytest.raises(WalletStoreError, match="cannot connect"):
        Wallet(Path(url))  # a URL that went through Path (its // folded) is still a URL


def _drop_connections(url: str) -> None:
    """What a PostgreSQL restart or failover does to the wallet's open connection."""
    with raw(url) as db:
        db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_a_dropped_postgres_connection_is_replaced(pg_url: str, cafe: str) -> None:
    with Wallet(pg_url) as w:
        w.fund("BRL", 5000, idempotency_key="f")
        w.set_limits("BRL", per_payment_minor=5000, per_day_minor=5000)
        intent = w.create_payment(cafe, idempotency_key="c")
        _drop_connections(pg_url)
        assert w.payment(intent.id).state == "awaiting_confirmation"  # a read reconnects
        _drop_connections(pg_url)
        assert w.confirm(intent.id, idempotency_key="y", confirmation=VOICE).state == "authorised"
        _drop_connections(pg_url)
        assert w.balances("BRL").held_minor == 1250
        assert w.verify() == []
