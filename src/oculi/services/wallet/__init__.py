"""Look and pay: EMVCo merchant codes (PIX, PromptPay, SGQR, QRIS …) and a wallet that charges
each payment at most once. The pay app needs only what is exported here."""

from __future__ import annotations

from oculi.services.wallet.emvco import (
    MerchantCode,
    build_payload,
    describe_payload,
    parse_payload,
    pix_code,
    promptpay_code,
)
from oculi.services.wallet.errors import (
    DeviceAuthError,
    IdempotencyConflictError,
    PaymentCodeError,
    PaymentStateError,
    UnsupportedSchemeError,
    WalletStoreError,
    WalletUnreachableError,
)
from oculi.services.wallet.intents import Confirmation, PaymentIntent
from oculi.services.wallet.limits import Limits
from oculi.services.wallet.money import format_minor, to_minor
from oculi.services.wallet.wallet import Balances, Wallet, open_wallet

__all__ = [
    "Balances",
    "Confirmation",
    "DeviceAuthError",
    "IdempotencyConflictError",
    "Limits",
    "MerchantCode",
    "PaymentCodeError",
    "PaymentIntent",
    "PaymentStateError",
    "UnsupportedSchemeError",
    "Wallet",
    "WalletStoreError",
    "WalletUnreachableError",
    "build_payload",
    "describe_payload",
    "format_minor",
    "open_wallet",
    "parse_payload",
    "pix_code",
    "promptpay_code",
    "to_minor",
]
