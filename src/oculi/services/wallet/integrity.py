"""`oculi wallet verify`: does the wallet still tell one consistent story?

The audit chain must be unbroken, every ledger transaction balanced, and each payment's postings
and last audit entry must agree with its state, so a row edited behind the wallet's back shows.
"""

from __future__ import annotations

from oculi.services.wallet import audit, intents, ledger
from oculi.services.wallet.intents import PaymentIntent
from oculi.services.wallet.store import Store


def check_wallet(db: Store) -> list[str]:
    """Every problem found; empty means intact."""
    problems = audit.check_chain(db) + ledger.check_ledger(db)
    for intent in intents.recent(db, limit=-1):
        problems += _check_payment(db, intent)
    missing = db.rows(
        """SELECT payment_id FROM ledger_transactions WHERE payment_id IS NOT NULL
           UNION SELECT payment_id FROM audit_log WHERE payment_id IS NOT NULL
                 AND action NOT IN ('refused')
           EXCEPT SELECT id FROM payments"""
    )
    problems += [f"payment {pid} has postings or audit entries but no record" for (pid,) in missing]
    return problems


def _check_payment(db: Store, intent: PaymentIntent) -> list[str]:
    """A payment's postings and last audit entry must agree with its state."""
    problems = []
    total = intent.total_minor or 0
    want = {
        "held": total if intent.state == "authorised" else 0,
        "merchants": total if intent.state == "captured" else 0,
    }
    for role, expected in want.items():
        got = ledger.payment_balance(db, intent.id, ledger.account(role, intent.currency))
        if got != expected:
            problems.append(f"payment {intent.id} ({intent.state}): {role} {got}, not {expected}")
    states = [e.detail.get("state") for e in audit.entries(db, intent.id) if "state" in e.detail]
    if not states or states[-1] != intent.state:
        last = states[-1] if states else "nothing"
        problems.append(f"payment {intent.id} is {intent.state} but its audit trail says {last}")
    return problems
