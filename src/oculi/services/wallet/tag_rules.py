"""What each EMVCo tag may hold, and which tags a code must have.

Rules that protect the money (currency, amount, country, fees) refuse the code; rules about text
that only shows on the card (name and city length, a missing city) are warnings, because real
codes break them and a wallet that refused them would be useless.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from oculi.errors import PaymentError
from oculi.services.wallet.errors import PaymentCodeError
from oculi.services.wallet.money import COUNTRIES, CURRENCIES, to_minor

_UNICODE_TAGS = frozenset({"64", *(f"{i}" for i in range(80, 100))})
"""Only the language template (and the schemes' unreserved templates) may leave ASCII."""

_MANDATORY = {
    "52": "merchant category code",
    "53": "transaction currency",
    "58": "country code",
    "59": "merchant name",
}
_MAX_CHARS = {"54": 13, "56": 13, "57": 5}
_DISPLAY_MAX_CHARS = {"59": 25, "60": 15, "61": 10}
"""Text that only shows on the card: over-long or missing is a warning (real codes do it)."""
_AMOUNT = re.compile(r"[0-9]+(\.[0-9]*)?")
_PERCENT = re.compile(r"[0-9]{1,2}(\.[0-9]{1,2})?")


def check_field(
    tag: str,
    value: str,
    tags: Mapping[str, str],
    templates: Mapping[str, Mapping[str, str]],
    warnings: list[str],
) -> None:
    """Refuse a value that breaks its tag's rule; note display-only problems in `warnings`."""
    if tag not in _UNICODE_TAGS and not value.isascii():
        char = next(c for c in value if not c.isascii())
        raise PaymentCodeError(tag, f"character {char!r} is not allowed (only tag 64 leaves ASCII)")
    limit = _MAX_CHARS.get(tag)
    if limit is not None and len(value) > limit:
        raise PaymentCodeError(tag, f"{len(value)} characters; at most {limit} allowed")
    limit = _DISPLAY_MAX_CHARS.get(tag)
    if limit is not None and len(value) > limit:
        warnings.append(f"tag {tag}: {len(value)} characters; EMVCo allows {limit}")
    rule = _RULES.get(tag)
    if rule is not None:
        rule(tag, value, tags, templates)


def _check_initiation(tag: str, value: str, *_: Any) -> None:
    if value not in ("11", "12"):
        raise PaymentCodeError(tag, f"point of initiation {value!r} is neither 11 nor 12")


def _check_mcc(tag: str, value: str, *_: Any) -> None:
    if not re.fullmatch(r"[0-9]{4}", value):
        raise PaymentCodeError(tag, f"merchant category code {value!r} is not 4 digits")


def _check_currency(tag: str, value: str, *_: Any) -> None:
    if value not in CURRENCIES:
        raise PaymentCodeError(tag, f"currency {value!r} is not a known ISO 4217 numeric code")


def _check_amount(tag: str, value: str, tags: Mapping[str, str], *_: Any) -> None:
    if not _AMOUNT.fullmatch(value):
        raise PaymentCodeError(tag, f"amount {value!r} is not digits with an optional '.'")
    if tags.get("53") in CURRENCIES:
        try:
            to_minor(value, tags["53"])
        except PaymentError as err:
            raise PaymentCodeError(tag, str(err)) from err


def _check_tip(tag: str, value: str, tags: Mapping[str, str], *_: Any) -> None:
    if value not in ("01", "02", "03"):
        raise PaymentCodeError(tag, f"tip or convenience indicator {value!r} is not 01, 02 or 03")
    needed = {"02": "56", "03": "57"}.get(value)
    if needed is not None and needed not in tags:
        raise PaymentCodeError(needed, f"missing: tag 55 = {value} needs the fee in tag {needed}")


def _check_percentage(tag: str, value: str, *_: Any) -> None:
    if not _PERCENT.fullmatch(value) or not 0 < float(value) < 100:
        raise PaymentCodeError(tag, f"convenience fee {value!r} is not a percentage 00.01–99.99")


def _check_country(tag: str, value: str, *_: Any) -> None:
    if value not in COUNTRIES:
        raise PaymentCodeError(tag, f"country {value!r} is not an ISO 3166-1 alpha-2 code")


def _check_language(tag: str, value: str, _tags: Any, templates: Any) -> None:
    sub: Mapping[str, str] = templates.get(tag, {})
    if not re.fullmatch(r"[A-Za-z]{2}", sub.get("00", "")):
        raise PaymentCodeError(f"{tag}.00", "language preference must be 2 letters (ISO 639-1)")
    if "01" not in sub:
        raise PaymentCodeError(f"{tag}.01", "missing: the alternate merchant name is mandatory")
    for sub_tag, limit in (("01", 25), ("02", 15)):
        if len(sub.get(sub_tag, "")) > limit:
            raise PaymentCodeError(f"{tag}.{sub_tag}", f"at most {limit} characters allowed")


_RULES = {
    "01": _check_initiation,
    "52": _check_mcc,
    "53": _check_currency,
    "54": _check_amount,
    "55": _check_tip,
    "56": _check_amount,
    "57": _check_percentage,
    "58": _check_country,
    "64": _check_language,
}


def check_mandatory(tags: Mapping[str, str], schemes: tuple[str, ...], warnings: list[str]) -> None:
    required = dict(_MANDATORY)
    if "promptpay" in schemes and "29" in tags:
        # PromptPay person-to-person codes carry no merchant category, name or city
        for tag in ("52", "59"):
            required.pop(tag)
    for tag, what in required.items():
        if tag not in tags:
            raise PaymentCodeError(tag, f"missing: the {what} is mandatory")
    if "60" not in tags and "59" in required:
        warnings.append("tag 60: missing merchant city (mandatory in EMVCo, shown as unknown)")
    if not any("02" <= tag <= "51" for tag in tags):
        raise PaymentCodeError("02-51", "missing: a code needs at least one merchant account")
