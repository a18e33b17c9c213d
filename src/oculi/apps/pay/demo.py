"""The demo wallet: a prepaid balance and limits in reais, so the shipped look-and-pay scenario
can pay the PIX codes it draws. Only the demo and tests call this; a wearer funds their own."""

from __future__ import annotations

from pathlib import Path

from oculi.services.wallet import Wallet
from oculi.services.wallet.wallet import WALLET_FILE

DEMO_FUNDS = {"BRL": (200_00, 50_00, 150_00), "EUR": (100_00, 50_00, 100_00)}
"""currency → (balance, per-payment limit, per-day limit), in minor units."""


def prepare_demo_wallet(data_dir: Path) -> Path:
    """Fund the wallet in `data_dir` once (idempotent keys: running it again changes nothing)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / WALLET_FILE
    with Wallet(path) as wallet:
        for currency, (balance, per_payment, per_day) in DEMO_FUNDS.items():
            wallet.fund(currency, balance, idempotency_key=f"demo-fund-{currency}")
            wallet.set_limits(currency, per_payment_minor=per_payment, per_day_minor=per_day)
    return path
