"""Payment intents and the only ways their state may change.

created → awaiting_confirmation → authorised → captured, with declined, cancelled and expired as
the other ends. A state never goes back, so a second confirm can never charge twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from oculi.services.wallet.errors import PaymentStateError
from oculi.services.wallet.money import format_minor
from oculi.services.wallet.store import LEDGER_LOCK, Store

TERMINAL = frozenset({"captured", "declined", "cancelled", "expired"})
NEXT_STATES: dict[str, frozenset[str]] = {
    "created": frozenset({"awaiting_confirmation", "declined", "cancelled", "expired"}),
    "awaiting_confirmation": frozenset(
        {"awaiting_confirmation", "authorised", "declined", "cancelled", "expired"}
    ),
    "authorised": frozenset({"captured", "cancelled", "expired"}),
}
CONFIRM_CHANNELS = ("voice", "touch", "cli")
"""How a wearer may say yes. Text the camera read is never one of them."""


@dataclass(frozen=True)
class Confirmation:
    """The wearer's yes, as the pay app heard it."""

    channel: str
    """'voice', 'touch' or 'cli'; anything else is refused."""
    own_voice: bool | None = None
    """From the audio front end: False (someone else spoke) is refused, None means unknown."""


@dataclass(frozen=True)
class PaymentIntent:
    """One payment the wearer was asked about, from the scanned code to its end state."""

    id: str
    state: str
    scheme: str
    merchant_name: str | None
    merchant_city: str | None
    country: str
    payee: str | None
    currency: str
    amount_minor: int | None
    """The price; None until the wearer says it for a static code."""
    fee_minor: int
    """Convenience fee the code adds (tags 55–57)."""
    fixed_amount: bool
    """The code set the amount; the wearer cannot change it."""
    created_at: float
    updated_at: float
    expires_at: float
    """Confirm before this (or capture, once authorised), else the payment expires."""
    authorised_at: float | None
    confirmed_by: str | None
    reason: str | None
    """Why it was declined, cancelled or expired."""

    @property
    def total_minor(self) -> int | None:
        return None if self.amount_minor is None else self.amount_minor + self.fee_minor

    @property
    def total(self) -> str | None:
        """'12.50' in the payment's currency, for cards and receipts."""
        total = self.total_minor
        return None if total is None else format_minor(total, self.currency)

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PaymentIntent:
        return cls(**data)


_COLUMNS = (
    "id, state, scheme, merchant_name, merchant_city, country, payee, currency, amount_minor,"
    " fee_minor, fixed_amount, created_at, updated_at, expires_at, authorised_at, confirmed_by,"
    " reason"
)


def load(db: Store, payment_id: str, *, for_update: bool = False) -> PaymentIntent:
    """The payment; `for_update` (inside a write) locks its row until the commit, so a racing
    operation on it waits and then sees the state this one leaves."""
    lock = db.for_update if for_update else ""
    row = db.row(f"SELECT {_COLUMNS} FROM payments WHERE id = ?{lock}", (payment_id,))
    if row is None:
        raise PaymentStateError(f"no payment {payment_id!r} in this wallet")
    return _from_row(row)


def recent(db: Store, limit: int) -> list[PaymentIntent]:
    """The newest `limit` payments; all of them when `limit` is negative."""
    query = f"SELECT {_COLUMNS} FROM payments ORDER BY created_at DESC, id"
    rows = db.rows(query + " LIMIT ?", (limit,)) if limit >= 0 else db.rows(query)
    return [_from_row(row) for row in rows]


def due(db: Store, now: float) -> list[PaymentIntent]:
    """Unfinished payments past their deadline, their rows locked (in id order) for the sweep."""
    rows = db.rows(
        f"""SELECT {_COLUMNS} FROM payments
            WHERE state IN ('created', 'awaiting_confirmation', 'authorised') AND expires_at < ?
            ORDER BY id{db.for_update}""",
        (now,),
    )
    return [_from_row(row) for row in rows]


def insert(db: Store, intent: PaymentIntent, payload: str) -> None:
    values = {**intent.to_dict(), "fixed_amount": int(intent.fixed_amount)}
    db.run(
        f"INSERT INTO payments ({_COLUMNS}, payload) VALUES ({', '.join('?' * 18)})",
        (*(values[c.strip()] for c in _COLUMNS.split(",")), payload),
    )


def payload_of(db: Store, payment_id: str) -> str:
    row = db.row("SELECT payload FROM payments WHERE id = ?", (payment_id,))
    if row is None:
        raise PaymentStateError(f"no payment {payment_id!r} in this wallet")
    return str(row[0])


def move(db: Store, intent: PaymentIntent, state: str, now: float, **changes: Any) -> PaymentIntent:
    """Save `intent` in `state` (with other fields changed); refuses a transition not allowed."""
    if state not in NEXT_STATES.get(intent.state, frozenset()):
        raise PaymentStateError(
            f"payment {intent.id} is {intent.state.replace('_', ' ')}; it cannot become {state}"
        )
    updated = PaymentIntent(**{**intent.to_dict(), **changes, "state": state, "updated_at": now})
    values = {**updated.to_dict(), "fixed_amount": int(updated.fixed_amount)}
    columns = [c.strip() for c in _COLUMNS.split(",") if c.strip() != "id"]
    db.lock(LEDGER_LOCK)  # other payments' states feed the daily limit
    changed = db.run(
        f"UPDATE payments SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ? AND state = ?",
        (*(values[c] for c in columns), intent.id, intent.state),
    )
    if changed != 1:
        raise PaymentStateError(f"payment {intent.id} changed while being updated; try again")
    return updated


def _from_row(row: tuple[Any, ...]) -> PaymentIntent:
    values = dict(zip((c.strip() for c in _COLUMNS.split(",")), row, strict=True))
    values["fixed_amount"] = bool(values["fixed_amount"])
    return PaymentIntent(**values)
