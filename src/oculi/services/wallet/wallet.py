"""The wallet the pay app talks to: payments from scanned codes, charged at most once.

Every operation that changes money runs in one write transaction together with its idempotency
record, ledger postings and audit entries: all of it lands or none of it does. The wallet is a
SQLite file (WAL) or, given a `postgresql://` URL, a PostgreSQL database (see `store` for how
each keeps racing requests apart).
Business outcomes (declined, expired) come back as the payment in that state; refusals (a second
confirm, a bad code, a reused key) raise and leave an audit entry, nothing else.
One `Wallet` per thread or process: each holds its own database connection.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oculi.errors import PaymentError
from oculi.services.wallet import audit, idempotency, intents, ledger, limits, store
from oculi.services.wallet.emvco import MerchantCode, parse_payload
from oculi.services.wallet.errors import IdempotencyConflictError, PaymentStateError
from oculi.services.wallet.integrity import check_wallet
from oculi.services.wallet.intents import CONFIRM_CHANNELS, Confirmation, PaymentIntent
from oculi.services.wallet.limits import Limits
from oculi.services.wallet.money import currency as find_currency
from oculi.services.wallet.money import format_minor

if TYPE_CHECKING:
    from oculi.runtime.config import Config

CONFIRM_WINDOW_S = 300.0
"""A scanned payment not confirmed within five minutes expires."""
HOLD_WINDOW_S = 7 * 86400.0
"""An authorisation not captured within a week expires and the hold is released."""


WALLET_FILE = "wallet.sqlite3"


def open_wallet(where: Path | str, **options: Any) -> Wallet:
    """The wearer's wallet: `wallet.sqlite3` in Oculi's data folder (`config.data_dir`), or the
    PostgreSQL database when `where` is a `postgresql://` URL."""
    return Wallet(where if store.is_postgres(where) else Path(where) / WALLET_FILE, **options)


def wallet_target(config: Config) -> Path | str:
    """Where the configured wallet lives: `wallet.path` (a file or a `postgresql://` URL) when
    the configuration has that key and it is set, else `<data_dir>/wallet.sqlite3`."""
    configured = config.values.get("wallet.path")
    if configured:
        return str(configured) if store.is_postgres(configured) else Path(configured)
    return config.data_dir / WALLET_FILE


@dataclass(frozen=True)
class Balances:
    currency: str
    available_minor: int
    held_minor: int
    paid_minor: int


class Wallet:
    """One wearer's wallet: a SQLite file (WAL) or a PostgreSQL database named by URL."""

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Callable[[], float] = time.time,
        confirm_window_s: float = CONFIRM_WINDOW_S,
        hold_window_s: float = HOLD_WINDOW_S,
        busy_timeout_s: float = 30.0,
    ) -> None:
        self.path = path
        """The file, or the `postgresql://` URL."""
        self._clock = clock
        self._confirm_window_s = confirm_window_s
        self._hold_window_s = hold_window_s
        self._db = store.connect(path, busy_timeout_s=busy_timeout_s)
        self.kind = self._db.kind
        """'sqlite' or 'postgresql'."""

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Wallet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- payments -------------------------------------------------------------------------

    def create_payment(
        self,
        code: str | MerchantCode,
        *,
        idempotency_key: str,
        amount_minor: int | None = None,
    ) -> PaymentIntent:
        """A payment for a scanned code: awaiting confirmation once the amount is known."""
        payload = code.payload if isinstance(code, MerchantCode) else code
        params = {"payload": payload, "amount_minor": amount_minor}
        return self._run("create", params, idempotency_key, lambda now: self._create(params, now))

    def set_amount(
        self, payment_id: str, amount_minor: int, *, idempotency_key: str
    ) -> PaymentIntent:
        """The amount the wearer said for a static code (or a correction before confirming)."""
        params = {"payment_id": payment_id, "amount_minor": amount_minor}
        return self._run(
            "set_amount", params, idempotency_key, lambda now: self._set_amount(params, now)
        )

    def confirm(
        self, payment_id: str, *, idempotency_key: str, confirmation: Confirmation
    ) -> PaymentIntent:
        """The wearer said yes: authorised (funds held) or declined with the reason."""
        params = {
            "payment_id": payment_id,
            "channel": confirmation.channel,
            "own_voice": confirmation.own_voice,
        }
        return self._run("confirm", params, idempotency_key, lambda now: self._confirm(params, now))

    def capture(self, payment_id: str, *, idempotency_key: str) -> PaymentIntent:
        """The scheme paid the merchant: the held money leaves the wallet."""
        params = {"payment_id": payment_id}
        return self._run("capture", params, idempotency_key, lambda now: self._capture(params, now))

    def cancel(
        self, payment_id: str, *, idempotency_key: str, reason: str = "cancelled by the wearer"
    ) -> PaymentIntent:
        """The wearer said no (or the confirmation timed out): any hold is released."""
        params = {"payment_id": payment_id, "reason": reason}
        return self._run("cancel", params, idempotency_key, lambda now: self._cancel(params, now))

    def expire_due(self) -> list[PaymentIntent]:
        """Expire every unfinished payment past its deadline, releasing holds."""
        with self._db.write():
            now = self._clock()
            return [self._expire(intent, now) for intent in intents.due(self._db, now)]

    def payment(self, payment_id: str) -> PaymentIntent:
        return intents.load(self._db, payment_id)

    def payments(self, limit: int = 50) -> list[PaymentIntent]:
        return intents.recent(self._db, limit)

    # --- money in, limits, balances ---------------------------------------------------------

    def fund(self, currency: str, amount_minor: int, *, idempotency_key: str) -> Balances:
        """Money put into the wallet from outside (a top-up)."""
        code = find_currency(currency).alpha
        params = {"currency": code, "amount_minor": amount_minor}

        def top_up(now: float) -> dict[str, Any]:
            _check_amount(amount_minor)
            source, target = ledger.account("funding", code), ledger.account("available", code)
            ledger.post(self._db, "fund", ledger.transfer(source, target, amount_minor), at=now)
            audit.append(self._db, "funded", at=now, detail=params)
            return {"currency": code}

        self._run_raw("fund", params, idempotency_key, top_up)
        return self.balances(code)

    def set_limits(self, currency: str, *, per_payment_minor: int, per_day_minor: int) -> Limits:
        new = Limits(find_currency(currency).alpha, per_payment_minor, per_day_minor)
        with self._db.write():
            limits.set_limits(self._db, new)
            audit.append(self._db, "limits", at=self._clock(), detail=asdict(new))
        return new

    def limits(self, currency: str) -> Limits | None:
        return limits.get_limits(self._db, find_currency(currency).alpha)

    def balances(self, currency: str) -> Balances:
        code = find_currency(currency).alpha
        with self._db.read():
            amounts = [
                ledger.balance(self._db, ledger.account(role, code))
                for role in ("available", "held", "merchants")
            ]
        return Balances(code, *amounts)

    def prune_keys(self, retention_s: float = idempotency.RETENTION_S) -> int:
        """Forget idempotency keys older than the retention window (a day, as Stripe)."""
        with self._db.write():
            return idempotency.prune(self._db, self._clock(), retention_s)

    def audit_entries(self, payment_id: str | None = None) -> list[audit.AuditEntry]:
        return audit.entries(self._db, payment_id)

    def verify(self) -> list[str]:
        """Every problem found: broken audit chain, unbalanced ledger, payments that disagree
        with their postings or their last audit entry. Empty means the wallet is intact."""
        with self._db.read():
            return check_wallet(self._db)

    # --- the operations, each inside one write transaction -------------------------------------

    def _create(self, params: Mapping[str, Any], now: float) -> PaymentIntent:
        code = parse_payload(str(params["payload"]))
        asked = params["amount_minor"]
        fixed = bool(code.amount_minor)
        if fixed and asked is not None and asked != code.amount_minor:
            raise PaymentError(f"the code fixes the amount at {code.amount} {code.currency}")
        amount = code.amount_minor if fixed else asked
        if amount is not None:
            _check_amount(amount)
        intent = PaymentIntent(
            id="pay_" + secrets.token_hex(8),
            state="awaiting_confirmation" if amount else "created",
            scheme=code.scheme,
            merchant_name=code.merchant_name,
            merchant_city=code.merchant_city,
            country=code.country,
            payee=code.payee,
            currency=code.currency,
            amount_minor=amount,
            fee_minor=code.convenience_fee_minor(amount) if amount else 0,
            fixed_amount=fixed,
            created_at=now,
            updated_at=now,
            expires_at=now + self._confirm_window_s,
            authorised_at=None,
            confirmed_by=None,
            reason=None,
        )
        intents.insert(self._db, intent, code.payload)
        self._audit(intent, "created", now)
        return self._check_limits(intent, now, daily=False)

    def _set_amount(self, params: Mapping[str, Any], now: float) -> PaymentIntent:
        intent, expired = self._live(str(params["payment_id"]), now)
        if expired:
            return intent
        if intent.fixed_amount:
            raise PaymentError(f"payment {intent.id}: the code fixes the amount")
        _check_amount(params["amount_minor"])
        amount = int(params["amount_minor"])
        code = parse_payload(intents.payload_of(self._db, intent.id))
        fee = code.convenience_fee_minor(amount)
        intent = intents.move(
            self._db, intent, "awaiting_confirmation", now, amount_minor=amount, fee_minor=fee
        )
        self._audit(intent, "amount_set", now)
        return self._check_limits(intent, now, daily=False)

    def _confirm(self, params: Mapping[str, Any], now: float) -> PaymentIntent:
        if params["channel"] not in CONFIRM_CHANNELS:
            raise PaymentError(
                f"a payment is confirmed by the wearer ({', '.join(CONFIRM_CHANNELS)}),"
                f" never by {params['channel']!r}"
            )
        if params["own_voice"] is False:
            raise PaymentError("the confirmation was not spoken by the wearer")
        intent, expired = self._live(str(params["payment_id"]), now)
        if expired:
            return intent
        if intent.state != "awaiting_confirmation":
            what = {
                "created": "has no amount yet",
                "authorised": "was already confirmed",
                "captured": "was already paid",
            }.get(intent.state, f"is {intent.state}")
            raise PaymentStateError(f"payment {intent.id} {what}; nothing was charged")
        intent = self._check_limits(intent, now, daily=True)
        if intent.finished:
            return intent
        total = intent.total_minor or 0
        available = ledger.account("available", intent.currency)
        funds = ledger.balance(self._db, available)
        if funds < total:
            have, need = (format_minor(m, intent.currency) for m in (funds, total))
            return self._decline(
                intent, now, f"not enough money: {have} {intent.currency} in the wallet, {need} due"
            )
        held = ledger.account("held", intent.currency)
        ledger.post(
            self._db, "authorise", ledger.transfer(available, held, total), at=now,
            payment_id=intent.id,
        )  # fmt: skip
        intent = intents.move(
            self._db, intent, "authorised", now, authorised_at=now,
            confirmed_by=str(params["channel"]), expires_at=now + self._hold_window_s,
        )  # fmt: skip
        self._audit(intent, "authorised", now)
        return intent

    def _capture(self, params: Mapping[str, Any], now: float) -> PaymentIntent:
        intent, expired = self._live(str(params["payment_id"]), now)
        if expired:
            return intent
        if intent.state != "authorised":
            raise PaymentStateError(
                f"payment {intent.id} is {intent.state.replace('_', ' ')}; only an authorised"
                " payment can be captured"
            )
        held, paid = (ledger.account(r, intent.currency) for r in ("held", "merchants"))
        ledger.post(
            self._db, "capture", ledger.transfer(held, paid, intent.total_minor or 0), at=now,
            payment_id=intent.id,
        )  # fmt: skip
        intent = intents.move(self._db, intent, "captured", now)
        self._audit(intent, "captured", now)
        return intent

    def _cancel(self, params: Mapping[str, Any], now: float) -> PaymentIntent:
        intent = intents.load(self._db, str(params["payment_id"]), for_update=True)
        if intent.finished:
            raise PaymentStateError(f"payment {intent.id} is already {intent.state}")
        self._release(intent, now, "cancel")
        intent = intents.move(self._db, intent, "cancelled", now, reason=str(params["reason"]))
        self._audit(intent, "cancelled", now)
        return intent

    def _live(self, payment_id: str, now: float) -> tuple[PaymentIntent, bool]:
        """The payment, and whether it expired just now because its deadline had passed."""
        intent = intents.load(self._db, payment_id, for_update=True)
        if not intent.finished and now > intent.expires_at:
            return self._expire(intent, now), True
        return intent, False

    def _expire(self, intent: PaymentIntent, now: float) -> PaymentIntent:
        self._release(intent, now, "expire")
        what = "capture" if intent.state == "authorised" else "confirmation"
        intent = intents.move(self._db, intent, "expired", now, reason=f"no {what} in time")
        self._audit(intent, "expired", now)
        return intent

    def _release(self, intent: PaymentIntent, now: float, why: str) -> None:
        if intent.state != "authorised":
            return
        held, available = (ledger.account(r, intent.currency) for r in ("held", "available"))
        ledger.post(
            self._db, f"release:{why}", ledger.transfer(held, available, intent.total_minor or 0),
            at=now, payment_id=intent.id,
        )  # fmt: skip

    def _check_limits(self, intent: PaymentIntent, now: float, *, daily: bool) -> PaymentIntent:
        total = intent.total_minor
        if total is None:
            return intent
        reason = limits.refusal(self._db, intent.currency, total, now, daily=daily)
        return intent if reason is None else self._decline(intent, now, reason)

    def _decline(self, intent: PaymentIntent, now: float, reason: str) -> PaymentIntent:
        intent = intents.move(self._db, intent, "declined", now, reason=reason)
        self._audit(intent, "declined", now)
        return intent

    def _audit(self, intent: PaymentIntent, action: str, now: float) -> None:
        detail = {
            "state": intent.state,
            "amount_minor": intent.amount_minor,
            "fee_minor": intent.fee_minor,
            "currency": intent.currency,
            "scheme": intent.scheme,
            "payee": intent.payee,
            "merchant_name": intent.merchant_name,
            "reason": intent.reason,
        }
        audit.append(self._db, action, at=now, payment_id=intent.id, detail=detail)

    # --- idempotent runner ------------------------------------------------------------------------

    def _run(
        self,
        operation: str,
        params: Mapping[str, Any],
        key: str,
        action: Callable[[float], PaymentIntent],
    ) -> PaymentIntent:
        response = self._run_raw(operation, params, key, lambda now: action(now).to_dict())
        return PaymentIntent.from_dict(response)

    def _run_raw(
        self,
        operation: str,
        params: Mapping[str, Any],
        key: str,
        action: Callable[[float], dict[str, Any]],
    ) -> dict[str, Any]:
        """Run `action` once per idempotency key, in one transaction with its stored result."""
        try:
            idempotency.check_key(key)
            digest = idempotency.request_hash(operation, params)
            with self._db.write():
                stored = idempotency.claim(self._db, key)
                if stored is not None:
                    if (stored.operation, stored.request_hash) != (operation, digest):
                        raise IdempotencyConflictError(
                            f"idempotency key {key!r} was used for a different request"
                            f" ({stored.operation}); use a new key for a new request"
                        )
                    return stored.response
                now = self._clock()
                response = action(now)
                idempotency.remember(self._db, key, operation, digest, response, now)
                return response
        except PaymentError as err:
            self._refused(operation, params, key, err)
            raise

    def _refused(
        self, operation: str, params: Mapping[str, Any], key: str, err: PaymentError
    ) -> None:
        detail = {"operation": operation, "error": str(err), "idempotency_key": key[:255]}
        detail |= {k: v for k, v in params.items() if k != "payload"}
        payment_id = params.get("payment_id")
        try:
            with self._db.write():
                audit.append(
                    self._db, "refused", at=self._clock(),
                    payment_id=str(payment_id) if payment_id else None, detail=detail,
                )  # fmt: skip
        except PaymentError:
            pass  # the refusal still reaches the caller; a store that cannot write says so there


def _check_amount(amount_minor: Any) -> None:
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
        raise PaymentError(f"amount {amount_minor!r} must be a whole number of minor units above 0")
