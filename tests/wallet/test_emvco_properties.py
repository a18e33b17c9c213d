"""Property tests of the merchant-code parser: what holds for every code, not just the samples.

Generated codes round-trip, no input crashes the parser, and a single changed character (or two
swapped neighbours) is always caught, by the CRC when the structure still reads. Example counts
are modest so the whole wallet suite stays quick; failures print the example to reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from oculi.services.wallet.emvco import build_payload, describe_payload, parse_payload
from oculi.services.wallet.errors import PaymentCodeError
from oculi.services.wallet.money import COUNTRIES, CURRENCIES, format_minor

PROPERTY = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_SCHEME_IDS = ["br.gov.bcb.pix", "SG.PAYNOW", "ID.CO.QRIS.WWW", "com.example.pay", "A000000727"]


def _text(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(_ASCII, min_size=min_size, max_size=max_size).filter(lambda s: s.strip() != "")


@dataclass(frozen=True)
class Spec:
    """What a generated code says; the parser must read exactly this back."""

    account_tag: str
    scheme_id: str
    payee: str
    name: str
    city: str
    country: str
    currency: str
    amount: str | None
    mcc: str
    dynamic: bool | None
    reference: str | None

    def payload(self) -> str:
        return build_payload(
            accounts={self.account_tag: {"00": self.scheme_id, "01": self.payee}},
            merchant_name=self.name, merchant_city=self.city, country=self.country,
            currency=self.currency, amount=self.amount, mcc=self.mcc, dynamic=self.dynamic,
            extra={"62": {"05": self.reference}} if self.reference else None,
        )  # fmt: skip

    def expected_tags(self) -> dict[str, str | None]:
        return {
            f"{self.account_tag}.00": self.scheme_id,
            f"{self.account_tag}.01": self.payee,
            "59": self.name,
            "60": self.city,
            "58": self.country,
            "53": CURRENCIES_BY_ALPHA[self.currency],
            "54": self.amount,
            "52": self.mcc,
            "01": None if self.dynamic is None else ("12" if self.dynamic else "11"),
            "62.05": self.reference,
        }


CURRENCIES_BY_ALPHA = {c.alpha: c.numeric for c in CURRENCIES.values()}


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    currency = draw(st.sampled_from(sorted(CURRENCIES_BY_ALPHA)))
    minor = draw(st.none() | st.integers(min_value=1, max_value=10**10))
    return Spec(
        account_tag=str(draw(st.integers(min_value=26, max_value=51))),
        scheme_id=draw(st.sampled_from(_SCHEME_IDS)),
        payee=draw(_text(1, 60)),
        name=draw(_text(1, 25)),
        city=draw(_text(1, 15)),
        country=draw(st.sampled_from(sorted(COUNTRIES))),
        currency=currency,
        amount=None if minor is None else format_minor(minor, currency),
        mcc=draw(st.from_regex(r"[0-9]{4}", fullmatch=True)),
        dynamic=draw(st.none() | st.booleans()),
        reference=draw(st.none() | _text(1, 25)),
    )


@PROPERTY
@given(specs())
def test_generated_codes_round_trip(spec: Spec) -> None:
    code = parse_payload(spec.payload())
    flat = code.flat_tags()
    for tag, value in spec.expected_tags().items():
        assert flat.get(tag) == value, tag
    assert (code.currency, code.country, code.amount) == (spec.currency, spec.country, spec.amount)
    assert describe_payload(spec.payload())["valid"] is True


def _never_crashes(payload: str | bytes) -> bool:
    """Parse must accept or raise PaymentCodeError; describe must answer for anything."""
    try:
        parse_payload(payload)
        accepted = True
    except PaymentCodeError:
        accepted = False
    summary = describe_payload(payload)
    assert summary["valid"] is accepted
    assert accepted or summary["error"]
    return accepted


@PROPERTY
@given(st.text(max_size=600) | st.binary(max_size=600))
def test_arbitrary_input_never_crashes_the_parser(payload: str | bytes) -> None:
    _never_crashes(payload)


_JUNK = st.characters(codec=None) | st.sampled_from("0123456789ABCDEFabcdef 6304.*")


@PROPERTY
@given(specs(), st.data())
def test_random_mutations_never_crash_the_parser(spec: Spec, data: st.DataObject) -> None:
    chars = list(spec.payload())
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        op = data.draw(st.sampled_from(["replace", "insert", "delete", "truncate", "repeat"]))
        pos = data.draw(st.integers(min_value=0, max_value=max(len(chars) - 1, 0)))
        if op == "replace" and chars:
            chars[pos] = data.draw(_JUNK)
        elif op == "insert":
            chars.insert(pos, data.draw(_JUNK))
        elif op == "delete" and chars:
            del chars[pos]
        elif op == "truncate":
            chars = chars[:pos]
        elif op == "repeat":
            chars = chars * data.draw(st.integers(min_value=2, max_value=30))
    _never_crashes("".join(chars))


def _value_spans(payload: str) -> list[tuple[str, int, int]]:
    """(tag, start, end) of each top-level value, walking the TLV structure of a valid code."""
    spans, pos = [], 0
    while pos < len(payload):
        tag, size = payload[pos : pos + 2], int(payload[pos + 2 : pos + 4])
        spans.append((tag, pos + 4, pos + 4 + size))
        pos += 4 + size
    return spans


@PROPERTY
@given(specs(), st.data())
def test_any_single_character_change_is_refused(spec: Spec, data: st.DataObject) -> None:
    payload = spec.payload()
    pos = data.draw(st.integers(min_value=0, max_value=len(payload) - 1))
    new = data.draw(st.characters(codec=None).filter(lambda c: c != payload[pos]))
    in_crc = pos >= len(payload) - 4
    assume(not (in_crc and new.lower() == payload[pos].lower()))  # hex in either case is fine
    changed = payload[:pos] + new + payload[pos + 1 :]
    assume(changed.strip() == changed)  # a space or newline at an end is trimmed, not a change
    with pytest.raises(PaymentCodeError):
        parse_payload(changed)


@PROPERTY
@given(specs(), st.data())
def test_a_changed_value_character_is_caught_by_the_crc(spec: Spec, data: st.DataObject) -> None:
    """Ids and lengths intact, only a value character differs: the CRC must be what refuses it
    (tag 00 is left out: its value is checked before the CRC)."""
    payload = spec.payload()
    spans = [(s, e) for tag, s, e in _value_spans(payload) if tag not in ("00", "63")]
    start, end = data.draw(st.sampled_from(spans))
    pos = data.draw(st.integers(min_value=start, max_value=end - 1))
    new = data.draw(_ASCII.filter(lambda c: c != payload[pos]))
    with pytest.raises(PaymentCodeError) as refused:
        parse_payload(payload[:pos] + new + payload[pos + 1 :])
    assert refused.value.tag == "63" and "CRC mismatch" in refused.value.rule


@PROPERTY
@given(specs(), st.data())
def test_swapped_neighbours_are_caught_by_the_crc(spec: Spec, data: st.DataObject) -> None:
    """Two adjacent ASCII characters swapped: a burst of at most 16 bits, which CRC-16 sees."""
    payload = spec.payload()
    spans = [(s, e) for tag, s, e in _value_spans(payload) if tag not in ("00", "63") and e - s > 1]
    start, end = data.draw(st.sampled_from(spans))
    pos = data.draw(st.integers(min_value=start, max_value=end - 2))
    assume(payload[pos] != payload[pos + 1])
    swapped = payload[:pos] + payload[pos + 1] + payload[pos] + payload[pos + 2 :]
    with pytest.raises(PaymentCodeError) as refused:
        parse_payload(swapped)
    assert refused.value.tag == "63"
