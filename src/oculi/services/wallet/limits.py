"""Spending limits per currency: per payment and per (UTC) day, in minor units.

A currency without limits cannot be spent: the wearer sets them first, so a misread code in an
unexpected currency is declined instead of paid.
"""

from __future__ import annotations

from dataclasses import dataclass

from oculi.errors import PaymentError
from oculi.services.wallet.money import currency as find_currency
from oculi.services.wallet.money import format_minor
from oculi.services.wallet.store import LEDGER_LOCK, Store

DAY_S = 86400.0


@dataclass(frozen=True)
class Limits:
    currency: str
    per_payment_minor: int
    per_day_minor: int


def set_limits(db: Store, limits: Limits) -> None:
    if limits.per_payment_minor <= 0 or limits.per_day_minor <= 0:
        raise PaymentError(f"{limits.currency} limits must be above zero")
    if limits.per_payment_minor > limits.per_day_minor:
        raise PaymentError(f"{limits.currency}: the per-payment limit is above the per-day limit")
    db.lock(LEDGER_LOCK)
    db.run(
        """INSERT INTO limits VALUES (?, ?, ?) ON CONFLICT (currency) DO UPDATE
           SET per_payment_minor = excluded.per_payment_minor,
               per_day_minor = excluded.per_day_minor""",
        (limits.currency, limits.per_payment_minor, limits.per_day_minor),
    )


def get_limits(db: Store, currency: str) -> Limits | None:
    row = db.row(
        "SELECT currency, per_payment_minor, per_day_minor FROM limits WHERE currency = ?",
        (currency,),
    )
    return Limits(row[0], int(row[1]), int(row[2])) if row else None


def spent_today(db: Store, currency: str, now: float) -> int:
    """Authorised and captured totals since midnight UTC."""
    row = db.row(
        """SELECT COALESCE(SUM(amount_minor + fee_minor), 0) FROM payments
           WHERE currency = ? AND state IN ('authorised', 'captured') AND authorised_at >= ?""",
        (currency, now - now % DAY_S),
    )
    return int(row[0]) if row else 0


def refusal(
    db: Store, currency: str, total_minor: int, now: float, *, daily: bool = True
) -> str | None:
    """Why a payment of `total_minor` may not go ahead now, or None."""
    find_currency(currency)
    db.lock(LEDGER_LOCK)  # limits and today's total must not change until this one commits
    limits = get_limits(db, currency)
    if limits is None:
        return f"no spending limit set for {currency}; set one with `oculi pay limit {currency}`"
    total, per_payment = _show(total_minor, currency), _show(limits.per_payment_minor, currency)
    if total_minor > limits.per_payment_minor:
        return f"per-payment limit: {total} is over the {per_payment} limit"
    if daily:
        spent = spent_today(db, currency, now)
        if spent + total_minor > limits.per_day_minor:
            return (
                f"per-day limit: {total} on top of {_show(spent, currency)} spent today is over"
                f" the {_show(limits.per_day_minor, currency)} limit"
            )
    return None


def _show(minor: int, currency: str) -> str:
    return f"{format_minor(minor, currency)} {currency}"
