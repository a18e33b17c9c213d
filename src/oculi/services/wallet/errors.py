"""The wallet's errors: each names what was refused so the wearer or developer can act on it."""

from __future__ import annotations

from oculi.errors import PaymentError


class PaymentCodeError(PaymentError):
    """A scanned payment code is not a valid merchant code; names the tag and the rule."""

    def __init__(self, tag: str | None, rule: str) -> None:
        self.tag = tag
        self.rule = rule
        super().__init__(f"tag {tag}: {rule}" if tag else rule)


class UnsupportedSchemeError(PaymentCodeError):
    """A payment link we recognise but cannot pay yet (UPI, WeChat, Lightning …)."""

    def __init__(self, scheme: str, rule: str) -> None:
        self.scheme = scheme
        super().__init__(None, rule)


class PaymentStateError(PaymentError):
    """The payment is not in a state that allows the operation (a second confirm, say)."""


class IdempotencyConflictError(PaymentError):
    """An idempotency key was reused for a different request."""


class WalletStoreError(PaymentError):
    """The wallet database could not be opened or written; nothing was written."""


class DeviceAuthError(PaymentError):
    """The wallet server refused a device request (unsigned, stale, replayed, unknown device, bad
    signature, no pairing); `rule` names which, so the device knows whether retrying can help."""

    def __init__(self, rule: str, detail: str) -> None:
        self.rule = rule
        self.detail = detail
        super().__init__(f"request refused ({rule}): {detail}")


class WalletUnreachableError(PaymentError):
    """The wallet server did not answer; the request may or may not have run, so retry it with
    the same idempotency key."""
