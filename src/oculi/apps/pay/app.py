"""The pay app: look at a merchant's QR code, say "pay", confirm — and never pay twice.

The code in view is parsed (EMVCo: PIX, PromptPay, SGQR, QRIS …) into a payment in the wallet;
the wearer hears merchant, amount and currency and must say yes in their own voice before
anything is authorised. A static code (no amount) first asks how much. Each scan has one
idempotency key per step, so a repeated "pay" or a retried confirmation reuses the same payment.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from oculi.apps.sdk import ActionError, App, Context, Reply, action
from oculi.errors import PaymentError
from oculi.events import Card, CardRow
from oculi.services.wallet import (
    Confirmation,
    PaymentCodeError,
    PaymentIntent,
    UnsupportedSchemeError,
    Wallet,
    format_minor,
    parse_payload,
    to_minor,
)

_AMOUNT = re.compile(r"(\d+(?:[.,]\d{1,3})?)")
OWN_VOICE_MIN = 0.5


@dataclass
class _Scan:
    payload: str
    key: str
    """Idempotency key prefix of this scan: the same code paid again is a new scan."""
    payment_id: str | None = None


class PayApp(App):
    name = "pay"
    description = "Pay a merchant by looking at their QR code; always confirmed by the wearer."
    permissions = ("camera", "payment", "storage")
    intents_file = Path(__file__).with_name("intents.yaml")

    def __init__(self, wallet_path: Path | str) -> None:
        self._wallet_path = wallet_path
        self._wallet: Wallet | None = None
        self._scan: _Scan | None = None

    def wallet(self) -> Wallet:
        if self._wallet is None:
            self._wallet = Wallet(self._wallet_path)
        return self._wallet

    @action(risky=True, previews=True)
    def pay(self, ctx: Context, amount: str | None = None) -> Reply:
        """Pay the merchant whose QR code is in view.

        Args:
            amount: the amount to pay, for codes that do not carry one (e.g. "12.50")
        """
        try:
            if ctx.cancelled:
                return self._cancel(ctx)
            if ctx.confirmed:
                return self._confirm(ctx)
            return self._prepare(ctx, amount)
        except PaymentCodeError as err:
            self._scan = None
            raise ActionError(_code_problem(err, ctx)) from err
        except PaymentError as err:
            raise ActionError(ctx.say_in(f"The payment failed: {err}", f"付款失败：{err}")) from err

    def _prepare(self, ctx: Context, amount: str | None) -> Reply:
        seen = ctx.in_view
        payload = seen.payload if seen is not None else None
        if not payload:
            return ctx.reply(
                ctx.say_in(
                    "I don't see a payment code. Look at the merchant's QR code and say pay.",
                    "我没看到付款码。请看着商家的二维码再说付款。",
                ),
                "No payment code",
                "Look at the merchant's",
                "QR code and say: pay",
            )
        code = parse_payload(payload)
        if self._scan is None or self._scan.payload != payload:
            digest = hashlib.sha256(payload.encode()).hexdigest()[:16]
            self._scan = _Scan(payload, f"{digest}:{uuid.uuid4().hex[:12]}")
        scan = self._scan
        wallet = self.wallet()
        intent = wallet.create_payment(code, idempotency_key=f"{scan.key}:create")
        scan.payment_id = intent.id
        if intent.amount_minor is None or (amount and not intent.fixed_amount):
            if not amount:
                name = intent.merchant_name or "the merchant"
                return ctx.ask_for(
                    "amount",
                    ctx.say_in(f"How much do you want to pay {name}?", f"要付给{name}多少钱？"),
                )
            minor = _parse_amount(amount, intent.currency)
            intent = wallet.set_amount(
                intent.id, minor, idempotency_key=f"{scan.key}:amount:{minor}"
            )
        if intent.state != "awaiting_confirmation":
            return self._finished(ctx, intent)
        shown = _money(intent)
        name = intent.merchant_name or "the merchant"
        return ctx.confirm(
            ctx.say_in(
                f"Pay {_money(intent)} to {name}? Say confirm or cancel.",
                f"向{name}支付{shown}？请说确认或取消。",
            ),
            _card("Confirm payment", intent, "Say: confirm / cancel"),
        )

    def _confirm(self, ctx: Context) -> Reply:
        scan = self._scan
        if scan is None or scan.payment_id is None:
            raise ActionError(ctx.say_in("There is no payment to confirm.", "没有待确认的付款。"))
        own = None if ctx.own_voice is None else ctx.own_voice >= OWN_VOICE_MIN
        wallet = self.wallet()
        intent = wallet.confirm(
            scan.payment_id,
            idempotency_key=f"{scan.key}:confirm",
            confirmation=Confirmation("voice", own),
        )
        if intent.state == "authorised":
            intent = wallet.capture(intent.id, idempotency_key=f"{scan.key}:capture")
        self._scan = None
        return self._finished(ctx, intent)

    def _cancel(self, ctx: Context) -> Reply:
        scan, self._scan = self._scan, None
        if scan is not None and scan.payment_id is not None:
            intent = self.wallet().payment(scan.payment_id)
            if intent.state in ("created", "awaiting_confirmation", "authorised"):
                self.wallet().cancel(scan.payment_id, idempotency_key=f"{scan.key}:cancel")
        return ctx.reply(
            ctx.say_in("Payment cancelled. Nothing was paid.", "已取消付款，没有扣款。"),
            "Payment cancelled",
            "Nothing was paid",
        )

    def _finished(self, ctx: Context, intent: PaymentIntent) -> Reply:
        name = intent.merchant_name or "the merchant"
        data = {
            "payment_id": intent.id,
            "state": intent.state,
            "amount": _money(intent),
            "merchant": name,
        }
        if intent.state == "captured":
            return Reply(
                ctx.say_in(
                    f"Paid {_money(intent)} to {name}.", f"已向{name}支付{_money(intent)}。"
                ),
                _card("Paid", intent, f"Receipt {intent.id[:8]}"),
                data,
            )
        reason = intent.reason or intent.state
        return Reply(
            ctx.say_in(f"The payment was not made: {reason}.", f"付款没有完成：{reason}。"),
            _card("Not paid", intent, reason[:36]),
            data,
        )

    @action
    def history(self, ctx: Context) -> Reply:
        """The last payments made with the glasses."""
        recent = self.wallet().payments(limit=5)
        if not recent:
            return ctx.reply(ctx.say_in("No payments yet.", "还没有付款记录。"), "No payments")
        lines = [f"{(p.merchant_name or '?')[:18]} {_money(p)} {p.state}"[:36] for p in recent]
        return ctx.reply(
            ctx.say_in(f"{len(recent)} recent payments.", f"最近{len(recent)}笔付款。"),
            "Recent payments",
            *lines,
        )

    @action
    def balance(self, ctx: Context, currency: str = "EUR") -> Reply:
        """How much money is left in the wallet.

        Args:
            currency: ISO 4217 letter code, e.g. EUR, BRL, THB
        """
        try:
            held = self.wallet().balances(currency.upper())
        except PaymentError as err:
            raise ActionError(str(err)) from err
        shown = f"{format_minor(held.available_minor, held.currency)} {held.currency}"
        return ctx.reply(
            ctx.say_in(f"You have {shown} available.", f"可用余额{shown}。"),
            "Wallet",
            f"Available {shown}",
            f"Held {format_minor(held.held_minor, held.currency)}",
        )


def _parse_amount(text: str, currency: str) -> int:
    match = _AMOUNT.search(text)
    if match is None:
        raise ActionError(f"I didn't catch an amount in {text[:40]!r}; say it in digits.")
    try:
        return to_minor(match.group(1).replace(",", "."), currency)
    except PaymentError as err:
        raise ActionError(f"{match.group(1)} is not an amount in {currency}: {err}") from err


def _money(intent: PaymentIntent) -> str:
    if intent.amount_minor is None:
        return f"? {intent.currency}"
    return (
        f"{format_minor(intent.amount_minor + intent.fee_minor, intent.currency)} {intent.currency}"
    )


def _card(title: str, intent: PaymentIntent, footer: str) -> Card:
    rows = [
        CardRow(label=(intent.merchant_name or "Merchant")[:36], highlight=True),
        CardRow(label="Amount", value=_money(intent)),
    ]
    if intent.fee_minor:
        rows.append(
            CardRow(label="incl. fee", value=format_minor(intent.fee_minor, intent.currency))
        )
    rows.append(CardRow(label=f"{intent.scheme} · {intent.merchant_city or intent.country}"[:36]))
    return Card(layout="message", title=title, rows=tuple(rows), footer=footer)


def _code_problem(err: PaymentCodeError, ctx: Context) -> str:
    if isinstance(err, UnsupportedSchemeError):
        return ctx.say_in(
            f"That payment link ({err.scheme}) is not supported yet.",
            f"还不支持这种付款链接（{err.scheme}）。",
        )
    return ctx.say_in(
        f"That is not a valid payment code ({err}).", f"这不是有效的付款码（{err}）。"
    )
