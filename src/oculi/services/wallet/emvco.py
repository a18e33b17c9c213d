"""EMVCo merchant-presented QR codes: the TLV text behind PIX, PromptPay, SGQR, QRIS and kin.

A code is refused unless every rule holds, because a misread code could pay the wrong person:
ids and lengths are two digits and lengths count characters (not bytes); "00" = "01" comes first;
the CRC (tag 63, CRC-16/CCITT-FALSE over the UTF-8 bytes up to and including "6304") comes last;
mandatory tags are present, none twice; amounts, currencies and countries are well formed.
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from oculi.errors import PaymentError
from oculi.services.wallet.errors import PaymentCodeError, UnsupportedSchemeError
from oculi.services.wallet.money import CURRENCIES, to_minor
from oculi.services.wallet.money import currency as find_currency
from oculi.services.wallet.schemes import SCHEME_NAMES, detect_schemes, payee, recognise_link
from oculi.services.wallet.tag_rules import check_field, check_mandatory

MAX_PAYLOAD_CHARS = 512
"""EMVCo caps a merchant code at 512 characters; anything longer is junk or an attack."""

TEMPLATE_TAGS = frozenset(f"{i:02d}" for i in (*range(26, 52), 62, 64, *range(80, 100)))
_ACCOUNT_TEMPLATES = frozenset(f"{i}" for i in range(26, 52))
_STRICT_TEMPLATES = _ACCOUNT_TEMPLATES | {"62", "64"}
"""Who gets paid and how: must parse. 80–99 are anyone's and a bad one is only a warning."""
_TWO_DIGITS = re.compile(r"[0-9]{2}")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection (binascii's CRC-CCITT)."""
    return binascii.crc_hqx(data, 0xFFFF)


@dataclass(frozen=True)
class MerchantCode:
    """A merchant code that passed every check: what the pay card shows and the wallet charges."""

    payload: str
    tags: Mapping[str, str]
    """Top-level id → raw value, in payload order."""
    templates: Mapping[str, Mapping[str, str]]
    """Template id → its sub-tags, for the templates that parse as TLV."""
    scheme: str
    """The scheme to pay with ('pix', 'promptpay', … or 'emvco' when none is recognised)."""
    schemes: tuple[str, ...]
    initiation: str
    """'static' (reusable, the wearer says the amount) or 'dynamic' (one payment, amount set)."""
    country: str
    currency: str
    """ISO 4217 alphabetic code, e.g. 'BRL'."""
    merchant_name: str | None = None
    merchant_city: str | None = None
    amount: str | None = None
    """As written in the code ('10.00'); None for a static code without an amount."""
    amount_minor: int | None = None
    payee: str | None = None
    """The scheme's account identifier: a PIX key or URL, a PromptPay phone number, …"""
    warnings: tuple[str, ...] = field(default=())

    @property
    def scheme_name(self) -> str:
        return SCHEME_NAMES.get(self.scheme, self.scheme)

    def convenience_fee_minor(self, amount_minor: int) -> int:
        """The fee the code adds on top (tag 55 = 02 fixed, 03 percentage, rounded half up)."""
        indicator = self.tags.get("55")
        if indicator == "02":
            return to_minor(self.tags["56"], self.currency)
        if indicator == "03":
            hundredths = round(float(self.tags["57"]) * 100)
            return (amount_minor * hundredths + 5000) // 10000
        return 0

    def flat_tags(self) -> dict[str, str]:
        return _flat_tags(self.tags, self.templates)

    def summary(self) -> dict[str, Any]:
        """The `oculi pay parse --json` object."""
        return {
            "valid": True,
            "error": None,
            "scheme": self.scheme,
            "merchant_name": self.merchant_name,
            "merchant_city": self.merchant_city,
            "country": self.country,
            "currency": self.currency,
            "amount": self.amount,
            "initiation": self.initiation,
            "tags": self.flat_tags(),
        }


class _Reading:
    """What has been read so far, so that a refused code can still be described."""

    def __init__(self) -> None:
        self.tags: dict[str, str] = {}
        self.templates: dict[str, dict[str, str]] = {}
        self.warnings: list[str] = []


def parse_payload(payload: str | bytes) -> MerchantCode:
    """Read and check a scanned code; raises PaymentCodeError naming the tag and rule."""
    return _parse(payload, _Reading())


def describe_payload(payload: str | bytes) -> dict[str, Any]:
    """The `oculi pay parse --json` object for any input: never raises for a bad code."""
    reading = _Reading()
    try:
        return _parse(payload, reading).summary()
    except UnsupportedSchemeError as err:
        return _summary(reading, str(err), err.scheme)
    except PaymentCodeError as err:
        _read_templates(reading, lenient=True)
        return _summary(reading, str(err), None)


def _parse(payload: str | bytes, r: _Reading) -> MerchantCode:
    text = _as_text(payload)
    link = recognise_link(text)
    if link is not None:
        scheme, what = link
        raise UnsupportedSchemeError(
            scheme, f"{what}: scheme not supported yet (only EMVCo merchant codes can be paid)"
        )
    _check_characters(text)
    if not text.startswith("00"):
        raise PaymentCodeError("00", "missing: a code starts with the payload format indicator")
    _split(text, r.tags, parent=None)
    if r.tags["00"] != "01":
        raise PaymentCodeError("00", f"payload format indicator is {r.tags['00']!r}, not '01'")
    _check_crc(text, r.tags)
    _read_templates(r, lenient=False)
    for tag, value in r.tags.items():
        check_field(tag, value, r.tags, r.templates, r.warnings)
    schemes = detect_schemes(r.tags, r.templates)
    check_mandatory(r.tags, schemes, r.warnings)
    currency = CURRENCIES[r.tags["53"]].alpha
    amount = r.tags.get("54")
    return MerchantCode(
        payload=text,
        tags=dict(r.tags),
        templates={t: dict(sub) for t, sub in r.templates.items()},
        scheme=schemes[0],
        schemes=schemes,
        initiation=_initiation(r.tags, r.templates) or "static",
        country=r.tags["58"],
        currency=currency,
        merchant_name=r.tags.get("59"),
        merchant_city=r.tags.get("60"),
        amount=amount,
        amount_minor=to_minor(amount, currency) if amount is not None else None,
        payee=payee(schemes[0], r.tags, r.templates),
        warnings=tuple(r.warnings),
    )


def _as_text(payload: str | bytes) -> str:
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError as err:
            raise PaymentCodeError(None, f"not UTF-8 text (byte {err.start} is invalid)") from err
    text = payload.strip()
    if not text:
        raise PaymentCodeError(None, "empty payload")
    if len(text) > MAX_PAYLOAD_CHARS:
        raise PaymentCodeError(
            None, f"payload has {len(text)} characters; EMVCo codes hold at most 512"
        )
    return text


def _check_characters(text: str) -> None:
    for pos, char in enumerate(text):
        if unicodedata.category(char).startswith("C"):
            raise PaymentCodeError(
                None, f"character U+{ord(char):04X} at position {pos} is not printable text"
            )


def _split(text: str, out: dict[str, str], parent: str | None) -> None:
    """TLV fields into `out` (kept on failure); lengths count characters, ids appear once."""
    where = f" of tag {parent}" if parent else ""
    pos = 0
    while pos < len(text):
        tag, length = text[pos : pos + 2], text[pos + 2 : pos + 4]
        name = f"{parent}.{tag}" if parent else tag
        if not _TWO_DIGITS.fullmatch(tag):
            after = f" (after tag {list(out)[-1]}: is its length right?)" if out else ""
            raise PaymentCodeError(
                parent, f"{tag!r} at character {pos}{where} is not a 2-digit id{after}"
            )
        if not _TWO_DIGITS.fullmatch(length):
            raise PaymentCodeError(name, f"truncated or bad length {length!r} (2 digits needed)")
        size = int(length)
        value = text[pos + 4 : pos + 4 + size]
        if size == 0:
            raise PaymentCodeError(name, "length 00: empty values are not allowed")
        if len(value) < size:
            raise PaymentCodeError(
                name, f"length {size} runs past the end ({len(value)} characters left)"
            )
        if tag in out:
            raise PaymentCodeError(name, "appears twice; each id may appear once")
        out[tag] = value
        pos += 4 + size


def _check_crc(text: str, tags: Mapping[str, str]) -> None:
    if "63" not in tags:
        raise PaymentCodeError("63", "missing: the CRC must be the last field")
    if list(tags)[-1] != "63":
        raise PaymentCodeError("63", "not last: the CRC must be the last field")
    value = tags["63"]
    if len(value) != 4 or not _HEX4.fullmatch(value):
        raise PaymentCodeError("63", f"CRC {value!r} is not 4 hex digits")
    computed = f"{crc16(text[:-4].encode('utf-8')):04X}"
    if value.upper() != computed:
        raise PaymentCodeError(
            "63", f"CRC mismatch: the code says {value}, its content gives {computed}"
        )


def _read_templates(r: _Reading, *, lenient: bool) -> None:
    for tag, value in r.tags.items():
        if tag not in TEMPLATE_TAGS or tag in r.templates:
            continue
        sub: dict[str, str] = {}
        try:
            _split(value, sub, parent=tag)
        except PaymentCodeError as err:
            if tag in _STRICT_TEMPLATES and not lenient:
                raise
            r.warnings.append(f"{err}; kept as raw text")
            continue
        r.templates[tag] = sub
        if tag in _ACCOUNT_TEMPLATES and "00" not in sub and not lenient:
            raise PaymentCodeError(f"{tag}.00", "missing: an account template names its scheme")


def _initiation(tags: Mapping[str, str], templates: Mapping[str, Mapping[str, str]]) -> str | None:
    """Tag 01 when present; a PIX code without it is dynamic when it points to a payload URL."""
    method = tags.get("01")
    if method is not None:
        return {"11": "static", "12": "dynamic"}.get(method)
    pix = next(
        (sub for sub in templates.values() if sub.get("00", "").upper() == "BR.GOV.BCB.PIX"), {}
    )
    return "dynamic" if "25" in pix else "static"


def _flat_tags(
    tags: Mapping[str, str], templates: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    flat: dict[str, str] = {}
    for tag, value in tags.items():
        flat[tag] = value
        for sub_tag, sub_value in templates.get(tag, {}).items():
            flat[f"{tag}.{sub_tag}"] = sub_value
    return flat


def _summary(r: _Reading, error: str, scheme: str | None) -> dict[str, Any]:
    numeric = r.tags.get("53")
    known = CURRENCIES.get(numeric or "")
    if scheme is None and r.tags:
        scheme = detect_schemes(r.tags, r.templates)[0]
    return {
        "valid": False,
        "error": error,
        "scheme": scheme,
        "merchant_name": r.tags.get("59"),
        "merchant_city": r.tags.get("60"),
        "country": r.tags.get("58"),
        "currency": known.alpha if known else numeric,
        "amount": r.tags.get("54"),
        "initiation": _initiation(r.tags, r.templates) if r.tags else None,
        "tags": _flat_tags(r.tags, r.templates),
    }


# --- writing codes: for tests and the demo's merchants -------------------------------------


def tlv(tag: str, value: str) -> str:
    """One field; the length counts characters."""
    if not _TWO_DIGITS.fullmatch(tag) or not 0 < len(value) <= 99:
        raise PaymentCodeError(tag, f"cannot encode {len(value)} characters under id {tag!r}")
    return f"{tag}{len(value):02d}{value}"


def with_crc(body: str, *, lowercase: bool = False) -> str:
    """Append tag 63 and the CRC of everything before it; nothing else is checked."""
    crc = f"{crc16((body + '6304').encode('utf-8')):04X}"
    return f"{body}6304{crc.lower() if lowercase else crc}"


def encode_fields(fields: Iterable[tuple[str, str | Mapping[str, str]]]) -> str:
    """Fields in the order given (templates as sub-tag mappings), CRC appended, not validated."""
    parts = []
    for tag, value in fields:
        if not isinstance(value, str):
            value = "".join(tlv(sub_tag, sub) for sub_tag, sub in value.items())
        parts.append(tlv(tag, value))
    return with_crc("".join(parts))


def build_payload(
    *,
    accounts: Mapping[str, str | Mapping[str, str]],
    merchant_name: str,
    merchant_city: str,
    country: str,
    currency: str,
    amount: str | None = None,
    mcc: str = "0000",
    dynamic: bool | None = None,
    extra: Mapping[str, str | Mapping[str, str]] | None = None,
) -> str:
    """A valid code in EMVCo's tag order; raises PaymentCodeError if the inputs make a bad one.

    `accounts` maps merchant account ids (02–51) to a value or template; `extra` adds any other
    top-level tag (62 additional data, 64 language, 55–57 fees, 80–99 …). `dynamic` None leaves
    out tag 01.
    """
    try:
        numeric = find_currency(currency).numeric
    except PaymentError as err:
        raise PaymentCodeError("53", str(err)) from err
    fields: dict[str, str | Mapping[str, str]] = {**accounts, **(extra or {})}
    fields.update({"52": mcc, "53": numeric, "58": country, "59": merchant_name})
    fields["60"] = merchant_city
    if amount is not None:
        fields["54"] = amount
    if dynamic is not None:
        fields["01"] = "12" if dynamic else "11"
    payload = encode_fields([("00", "01"), *sorted(fields.items())])
    parse_payload(payload)
    return payload


def pix_code(
    key: str,
    *,
    merchant_name: str,
    merchant_city: str,
    amount: str | None = None,
    txid: str = "***",
    description: str | None = None,
) -> str:
    """A static PIX code (Brazil) paying `key`, the way the BCB manual lays it out."""
    account = {"00": "br.gov.bcb.pix", "01": key}
    if description:
        account["02"] = description
    return build_payload(
        accounts={"26": account},
        merchant_name=merchant_name,
        merchant_city=merchant_city,
        country="BR",
        currency="BRL",
        amount=amount,
        extra={"62": {"05": txid}},
    )


def promptpay_code(target: str, *, amount: str | None = None) -> str:
    """A PromptPay credit-transfer code (Thailand) to a phone, national id or e-wallet id.

    Same field order as the widely used `promptpay-qr` generator, so codes compare equal.
    """
    digits = re.sub(r"[^0-9]", "", target)
    if len(digits) >= 13:
        sub_tag = "02" if len(digits) == 13 else "03"
        proxy = digits
    else:
        sub_tag = "01"
        proxy = ("66" + digits[1:] if digits.startswith("0") else digits).rjust(13, "0")
    fields: list[tuple[str, str | Mapping[str, str]]] = [
        ("00", "01"),
        ("01", "12" if amount else "11"),
        ("29", {"00": "A000000677010111", sub_tag: proxy}),
        ("58", "TH"),
        ("53", "764"),
    ]
    if amount:
        fields.append(("54", amount))
    payload = encode_fields(fields)
    parse_payload(payload)
    return payload
