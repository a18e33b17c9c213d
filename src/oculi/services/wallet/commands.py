"""`oculi pay …` and `oculi wallet …`: read merchant codes, make and check payments by hand.

Exit codes: 0 success, 1 the payment ended declined or expired (or `verify` found a problem),
2 bad input (an invalid code, a refused operation) with a message naming what failed.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from oculi.runtime.config import Config
from oculi.services.wallet.emvco import describe_payload, parse_payload, pix_code, promptpay_code
from oculi.services.wallet.intents import Confirmation, PaymentIntent
from oculi.services.wallet.money import format_minor, to_minor
from oculi.services.wallet.store import is_postgres
from oculi.services.wallet.wallet import Wallet, wallet_target

console = Console()
err_console = Console(stderr=True)


def add_commands(sub: Any) -> None:
    """Add `pay` and `wallet` to the `oculi` subcommands (argparse's subparsers object)."""
    pay = sub.add_parser("pay", help="merchant payment codes and payments")
    pay_sub = pay.add_subparsers(required=True, metavar="ACTION")

    parse = pay_sub.add_parser("parse", help="read and check an EMVCo merchant code")
    parse.add_argument("payload", help="the text of the QR code")
    parse.add_argument("--json", action="store_true", help="print the result as JSON")
    parse.set_defaults(handler=_parse)

    code = pay_sub.add_parser("code", help="write a demo merchant code")
    code.add_argument("--scheme", choices=("pix", "promptpay"), default="pix")
    code.add_argument("--key", default="demo@oculi.dev", help="PIX key or PromptPay phone/id")
    code.add_argument("--name", default="OCULI DEMO CAFE", help="merchant name (PIX)")
    code.add_argument("--city", default="SAO PAULO", help="merchant city (PIX)")
    code.add_argument("--amount", help="e.g. 12.50; leave out for a static code")
    code.set_defaults(handler=_code)

    limit = pay_sub.add_parser("limit", help="set the spending limits for a currency")
    limit.add_argument("currency", help="ISO 4217 code, e.g. BRL or 986")
    limit.add_argument("--per-payment", required=True, help="e.g. 200.00")
    limit.add_argument("--per-day", required=True, help="e.g. 500.00")
    _wallet_option(limit)
    limit.set_defaults(handler=_limit)

    create = pay_sub.add_parser("create", help="start a payment for a merchant code")
    create.add_argument("payload")
    create.add_argument("--amount", help="for a static code, e.g. 12.50")
    _payment_options(create, _create)

    amount = pay_sub.add_parser("amount", help="set the amount of a static-code payment")
    amount.add_argument("payment_id")
    amount.add_argument("amount", help="e.g. 12.50")
    _payment_options(amount, _amount)

    for name, handler, what in (
        ("confirm", _confirm, "confirm a payment (authorise it)"),
        ("capture", _capture, "record that the merchant was paid"),
        ("cancel", _cancel, "cancel a payment, releasing any hold"),
    ):
        action = pay_sub.add_parser(name, help=what)
        action.add_argument("payment_id")
        _payment_options(action, handler)

    show = pay_sub.add_parser("list", help="recent payments")
    show.add_argument("--limit", type=int, default=20)
    _wallet_option(show)
    show.set_defaults(handler=_list)

    wallet = sub.add_parser("wallet", help="the wallet: funds, balances, integrity")
    wallet_sub = wallet.add_subparsers(required=True, metavar="ACTION")
    fund = wallet_sub.add_parser("fund", help="put money into the wallet")
    fund.add_argument("currency")
    fund.add_argument("amount", help="e.g. 100.00")
    fund.add_argument("--key", help="idempotency key (default: a new one)")
    _wallet_option(fund)
    fund.set_defaults(handler=_fund)
    balance = wallet_sub.add_parser("balance", help="available, held and paid amounts")
    balance.add_argument("currency")
    _wallet_option(balance)
    balance.set_defaults(handler=_balance)
    verify = wallet_sub.add_parser("verify", help="check the audit chain and the ledger")
    _wallet_option(verify)
    verify.set_defaults(handler=_verify)
    expire = wallet_sub.add_parser("expire", help="expire payments past their deadline")
    _wallet_option(expire)
    expire.set_defaults(handler=_expire)
    serve = wallet_sub.add_parser(
        "serve", help="HTTP API for enrolled glasses (signed requests; see docs/payments.md)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8747, help="port (0: any free one)")
    _wallet_option(serve)
    serve.set_defaults(handler=_serve)


def _wallet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        help="wallet file or postgresql:// URL (default: config wallet.path, else"
        " <data_dir>/wallet.sqlite3)",
    )


def _payment_options(parser: argparse.ArgumentParser, handler: Any) -> None:
    parser.add_argument("--key", help="idempotency key; reuse it to retry safely")
    parser.add_argument("--json", action="store_true", help="print the payment as JSON")
    _wallet_option(parser)
    parser.set_defaults(handler=handler)


def _target(args: argparse.Namespace, config: Config) -> Path | str:
    """`--db` (a file or a `postgresql://` URL), else the configured wallet."""
    if not args.db:
        return wallet_target(config)
    return str(args.db) if is_postgres(args.db) else Path(args.db)


def _open(args: argparse.Namespace, config: Config) -> Wallet:
    return Wallet(_target(args, config))


def _key(args: argparse.Namespace) -> str:
    return str(args.key or f"cli-{uuid.uuid4().hex}")


# --- pay parse / code ---------------------------------------------------------------------------


def _parse(args: argparse.Namespace, config: Config) -> int:
    summary = describe_payload(args.payload)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0 if summary["valid"] else 2
    if not summary["valid"]:
        err_console.print(f"[bold red]invalid code:[/] {summary['error']}", highlight=False)
        if not summary["tags"]:
            return 2
    else:
        code = parse_payload(args.payload)
        console.print(f"[green]valid[/] {code.scheme_name} code ({code.initiation})")
        for warning in code.warnings:
            console.print(f"warning: {warning}", style="yellow", highlight=False)
    amount = summary["amount"] or "(the payer says it)"
    console.print(f"merchant: {summary['merchant_name'] or '?'}, {summary['merchant_city'] or '?'}"
                  f" ({summary['country'] or '?'})", highlight=False)  # fmt: skip
    console.print(f"amount: {amount} {summary['currency'] or ''}", highlight=False)
    table = Table(title="tags")
    table.add_column("id")
    table.add_column("value")
    for tag, value in summary["tags"].items():
        table.add_row(tag, value)
    console.print(table)
    return 0 if summary["valid"] else 2


def _code(args: argparse.Namespace, config: Config) -> int:
    if args.scheme == "promptpay":
        print(promptpay_code(args.key, amount=args.amount))
    else:
        print(pix_code(args.key, merchant_name=args.name, merchant_city=args.city,
                       amount=args.amount))  # fmt: skip
    return 0


# --- payments ---------------------------------------------------------------------------------


def _limit(args: argparse.Namespace, config: Config) -> int:
    with _open(args, config) as wallet:
        limits = wallet.set_limits(
            args.currency,
            per_payment_minor=to_minor(args.per_payment, args.currency),
            per_day_minor=to_minor(args.per_day, args.currency),
        )
    per_payment = format_minor(limits.per_payment_minor, limits.currency)
    per_day = format_minor(limits.per_day_minor, limits.currency)
    console.print(f"{limits.currency}: at most {per_payment} a payment, {per_day} a day")
    return 0


def _create(args: argparse.Namespace, config: Config) -> int:
    code = parse_payload(args.payload)
    amount = to_minor(args.amount, code.currency) if args.amount else None
    with _open(args, config) as wallet:
        intent = wallet.create_payment(code, idempotency_key=_key(args), amount_minor=amount)
    return _report(intent, args)


def _amount(args: argparse.Namespace, config: Config) -> int:
    with _open(args, config) as wallet:
        currency = wallet.payment(args.payment_id).currency
        intent = wallet.set_amount(
            args.payment_id, to_minor(args.amount, currency), idempotency_key=_key(args)
        )
    return _report(intent, args)


def _confirm(args: argparse.Namespace, config: Config) -> int:
    with _open(args, config) as wallet:
        intent = wallet.confirm(
            args.payment_id, idempotency_key=_key(args), confirmation=Confirmation("cli")
        )
    return _report(intent, args)


def _capture(args: argparse.Namespace, config: Config) -> int:
    with _open(args, config) as wallet:
        intent = wallet.capture(args.payment_id, idempotency_key=_key(args))
    return _report(intent, args)


def _cancel(args: argparse.Namespace, config: Config) -> int:
    with _open(args, config) as wallet:
        intent = wallet.cancel(args.payment_id, idempotency_key=_key(args))
    return _report(intent, args)


def _report(intent: PaymentIntent, args: argparse.Namespace) -> int:
    failed = intent.state in ("declined", "expired")
    if args.json:
        print(json.dumps(intent.to_dict(), ensure_ascii=False, indent=2))
        return 1 if failed else 0
    total = f"{intent.total} {intent.currency}" if intent.total else "amount not set"
    style = "red" if failed else "green"
    console.print(f"{intent.id}: [{style}]{intent.state}[/] · {total} to "
                  f"{intent.merchant_name or intent.payee or '?'} ({intent.scheme})")  # fmt: skip
    if intent.reason:
        console.print(f"reason: {intent.reason}", highlight=False)
    return 1 if failed else 0


def _list(args: argparse.Namespace, config: Config) -> int:
    with _open(args, config) as wallet:
        payments = wallet.payments(args.limit)
    table = Table(title="payments")
    for column in ("id", "state", "amount", "merchant", "scheme"):
        table.add_column(column)
    for p in payments:
        amount = f"{p.total} {p.currency}" if p.total else "-"
        table.add_row(p.id, p.state, amount, p.merchant_name or p.payee or "?", p.scheme)
    console.print(table)
    return 0


# --- wallet -----------------------------------------------------------------------------------


def _fund(args: argparse.Namespace, config: Config) -> int:
    with _open(args, config) as wallet:
        minor = to_minor(args.amount, args.currency)
        balances = wallet.fund(args.currency, minor, idempotency_key=_key(args))
    available = format_minor(balances.available_minor, balances.currency)
    console.print(f"{balances.currency}: {available} available")
    return 0


def _balance(args: argparse.Namespace, config: Config) -> int:
    with _open(args, config) as wallet:
        b = wallet.balances(args.currency)
    show = {
        "available": b.available_minor,
        "held": b.held_minor,
        "paid": b.paid_minor,
    }
    console.print(" · ".join(f"{k} {format_minor(v, b.currency)}" for k, v in show.items())
                  + f" {b.currency}")  # fmt: skip
    return 0


def _verify(args: argparse.Namespace, config: Config) -> int:
    with _open(args, config) as wallet:
        problems = wallet.verify()
        entries = len(wallet.audit_entries())
    for problem in problems:
        err_console.print(f"[red]problem:[/] {problem}", highlight=False)
    if problems:
        return 1
    console.print(f"[green]intact[/]: {entries} audit entries chained, ledger balanced")
    return 0


def _expire(args: argparse.Namespace, config: Config) -> int:
    with _open(args, config) as wallet:
        expired = wallet.expire_due()
    console.print(f"{len(expired)} payment(s) expired")
    return 0


def _serve(args: argparse.Namespace, config: Config) -> int:
    # starlette, uvicorn and cryptography load only here: the other commands stay light
    from oculi.services.wallet.server import ADMIN_TOKEN_ENV, serve

    path = _target(args, config)
    token = os.environ.get(ADMIN_TOKEN_ENV) or None
    serve(path, host=args.host, port=args.port, admin_token=token, out=_say)
    return 0


def _say(line: str) -> None:
    print(line, flush=True)
