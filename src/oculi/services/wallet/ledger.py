"""Double-entry ledger: money only moves between accounts, every transaction sums to zero.

Accounts per currency: `funding:` (outside money coming in; the only one that may go negative),
`available:` (the wearer's spendable balance), `held:` (authorised, not yet captured) and
`merchants:` (paid out). Amounts are integer minor units; rows are never updated or deleted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from oculi.errors import PaymentError
from oculi.services.wallet.store import LEDGER_LOCK, Store

ROLES = ("funding", "available", "held", "merchants")
_MAY_OVERDRAW = frozenset({"funding"})


@dataclass(frozen=True)
class Posting:
    account: str
    """`role:CURRENCY`, e.g. `held:BRL`."""
    amount_minor: int
    """Positive credits the account's balance, negative debits it."""


def account(role: str, currency: str) -> str:
    if role not in ROLES:
        raise PaymentError(f"unknown ledger account role {role!r}; known: {', '.join(ROLES)}")
    return f"{role}:{currency}"


def transfer(source: str, destination: str, amount_minor: int) -> tuple[Posting, Posting]:
    """The two postings that move `amount_minor` from one account to another."""
    return Posting(source, -amount_minor), Posting(destination, amount_minor)


def post(
    db: Store,
    kind: str,
    postings: tuple[Posting, ...],
    *,
    at: float,
    payment_id: str | None = None,
) -> int:
    """Record one balanced transaction inside the caller's write transaction; returns its id."""
    sums: dict[str, int] = defaultdict(int)
    for p in postings:
        if p.amount_minor == 0 or not isinstance(p.amount_minor, int):
            raise PaymentError(f"ledger {kind}: posting to {p.account} must be a non-zero integer")
        sums[_currency(p.account)] += p.amount_minor
    unbalanced = {cur: total for cur, total in sums.items() if total}
    if not postings or unbalanced:
        raise PaymentError(f"ledger {kind}: postings do not sum to zero ({unbalanced})")
    db.lock(LEDGER_LOCK)
    for p in postings:
        role, currency = p.account.split(":")
        db.run(
            "INSERT INTO accounts VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
            (p.account, currency, int(role in _MAY_OVERDRAW)),
        )
    inserted = db.row(
        "INSERT INTO ledger_transactions (at, kind, payment_id) VALUES (?, ?, ?) RETURNING id",
        (at, kind, payment_id),
    )
    if inserted is None:
        raise PaymentError(f"ledger {kind}: the database gave the transaction no id")
    txn_id = int(inserted[0])
    db.run_many(
        "INSERT INTO postings (txn_id, account, currency, amount_minor) VALUES (?, ?, ?, ?)",
        [(txn_id, p.account, _currency(p.account), p.amount_minor) for p in postings],
    )
    for p in postings:
        may_overdraw = p.account.split(":")[0] in _MAY_OVERDRAW
        if p.amount_minor < 0 and not may_overdraw and balance(db, p.account) < 0:
            raise PaymentError(f"ledger {kind}: {p.account} would go below zero")
    return txn_id


def balance(db: Store, name: str) -> int:
    """Inside a write transaction, read under the ledger lock (a decision is made on it)."""
    db.lock(LEDGER_LOCK)
    row = db.row("SELECT COALESCE(SUM(amount_minor), 0) FROM postings WHERE account = ?", (name,))
    return int(row[0]) if row else 0


def payment_balance(db: Store, payment_id: str, name: str) -> int:
    """Net movement of one payment on one account (held while authorised, merchants once paid)."""
    row = db.row(
        """SELECT COALESCE(SUM(p.amount_minor), 0) FROM postings p
           JOIN ledger_transactions t ON t.id = p.txn_id
           WHERE t.payment_id = ? AND p.account = ?""",
        (payment_id, name),
    )
    return int(row[0]) if row else 0


def check_ledger(db: Store) -> list[str]:
    """Problems found: unbalanced transactions, overdrawn accounts, postings without a txn."""
    problems = [
        f"ledger transaction {txn}: {currency} postings sum to {int(total)}, not zero"
        for txn, currency, total in db.rows(
            """SELECT txn_id, currency, SUM(amount_minor) FROM postings
               GROUP BY txn_id, currency HAVING SUM(amount_minor) != 0"""
        )
    ]
    problems += [
        f"account {name} is overdrawn ({int(total)})"
        for name, total in db.rows(
            """SELECT p.account, SUM(p.amount_minor) FROM postings p
               JOIN accounts a ON a.name = p.account
               WHERE a.may_overdraw = 0 GROUP BY p.account HAVING SUM(p.amount_minor) < 0"""
        )
    ]
    problems += [
        f"ledger transaction {txn} has no postings"
        for (txn,) in db.rows(
            """SELECT id FROM ledger_transactions
               WHERE id NOT IN (SELECT DISTINCT txn_id FROM postings)"""
        )
    ]
    return problems


def _currency(name: str) -> str:
    role, _, currency = name.partition(":")
    if role not in ROLES or not currency:
        raise PaymentError(f"ledger account {name!r} is not role:CURRENCY")
    return currency
