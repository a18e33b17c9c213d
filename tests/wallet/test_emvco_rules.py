"""Every EMVCo rule the parser enforces, on codes built to break exactly one of them."""

from __future__ import annotations

import pytest

from oculi.services.wallet.emvco import (
    MAX_PAYLOAD_CHARS,
    build_payload,
    crc16,
    describe_payload,
    encode_fields,
    parse_payload,
    tlv,
    with_crc,
)
from oculi.services.wallet.errors import PaymentCodeError, UnsupportedSchemeError

PIX = {"26": {"00": "br.gov.bcb.pix", "01": "cafe@example.com"}}
BASE: list[tuple[str, str | dict[str, str]]] = [
    ("00", "01"),
    ("26", PIX["26"]),
    ("52", "5812"),
    ("53", "986"),
    ("54", "12.50"),
    ("58", "BR"),
    ("59", "CAFE DO PONTO"),
    ("60", "SAO PAULO"),
]


def _code(**changes: str | dict[str, str] | None) -> str:
    """BASE with some tags replaced (None removes one), CRC recomputed so only the change counts."""
    fields = [(tag, changes.get(tag, value)) for tag, value in BASE]
    fields += [(tag, value) for tag, value in changes.items() if tag not in dict(BASE)]
    return encode_fields([(t, v) for t, v in fields if v is not None])


def _refused(payload: str | bytes) -> PaymentCodeError:
    with pytest.raises(PaymentCodeError) as caught:
        parse_payload(payload)
    return caught.value


def test_base_code_is_valid() -> None:
    code = parse_payload(_code())
    assert (code.scheme, code.currency, code.amount, code.amount_minor) == (
        "pix",
        "BRL",
        "12.50",
        1250,
    )
    assert (code.merchant_name, code.payee, code.initiation) == (
        "CAFE DO PONTO",
        "cafe@example.com",
        "static",
    )


# --- CRC ------------------------------------------------------------------------------------


def test_crc_is_ccitt_false() -> None:
    assert crc16(b"123456789") == 0x29B1
    assert crc16(b"") == 0xFFFF


def test_lowercase_crc_is_accepted() -> None:
    lower = with_crc(_code()[:-8], lowercase=True)
    assert any(c in "abcdef" for c in lower[-4:])
    assert parse_payload(lower).tags["63"] == lower[-4:]
    assert parse_payload(lower[:-4] + lower[-4:].upper()).tags["63"] == lower[-4:].upper()


def test_wrong_crc_names_tag_63_and_both_values() -> None:
    good = _code()
    bad = good[:-4] + ("0000" if good[-4:] != "0000" else "1111")
    err = _refused(bad)
    assert err.tag == "63" and good[-4:] in str(err)


def test_every_single_character_change_is_caught() -> None:
    payload = _code()
    for pos in range(len(payload)):
        for char in "0A9 z":
            if char == payload[pos] or (pos >= len(payload) - 4 and char.upper() == payload[pos]):
                continue
            with pytest.raises(PaymentCodeError):
                parse_payload(payload[:pos] + char + payload[pos + 1 :])


@pytest.mark.parametrize(
    ("tail", "rule"),
    [("", "missing"), ("63", "length"), ("6304", "runs past the end"), ("6304XYZ1", "hex")],
)
def test_missing_truncated_or_malformed_crc(tail: str, rule: str) -> None:
    body = "".join(tlv(t, v if isinstance(v, str) else "".join(tlv(*kv) for kv in v.items()))
                   for t, v in BASE)  # fmt: skip
    err = _refused(body + tail)
    assert err.tag == "63" and rule in str(err)


def test_crc_that_is_not_last_is_refused() -> None:
    signed = _code()
    err = _refused(with_crc(signed + tlv("99", "x"))[:-8])
    assert err.tag == "63"
    assert "last" in str(_refused(signed + tlv("61", "12345")))


def test_crc_covers_the_utf8_bytes_of_other_scripts() -> None:
    payload = _code(**{"64": {"00": "ZH", "01": "咖啡店"}})
    code = parse_payload(payload)
    assert code.templates["64"]["01"] == "咖啡店"
    assert tlv("01", "咖啡店") == "0103咖啡店"


# --- structure ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "tag"),
    [
        ("", None),
        ("   ", None),
        ("000", "00"),
        ("0102112604abcd", "00"),
        ("000202" + "6304ABCD", "00"),
    ],
)
def test_empty_truncated_or_misplaced_start(payload: str, tag: str | None) -> None:
    assert _refused(payload).tag == tag


def test_payload_format_indicator_must_be_01() -> None:
    err = _refused(_code(**{"00": "02"}))
    assert err.tag == "00" and "'02'" in str(err)


def test_length_that_overruns_the_payload() -> None:
    err = _refused("000201" + "5999AB")
    assert err.tag == "59" and "runs past the end" in str(err)


def test_wrong_length_shifts_the_fields_and_is_refused() -> None:
    payload = _code().replace("5913CAFE DO PONTO", "5912CAFE DO PONTO")
    assert "after tag 59" in str(_refused(payload))


def test_non_digit_id_or_length() -> None:
    assert "'AA' at character 6 is not a 2-digit id" in str(_refused("000201AA02xx"))
    err = _refused("00020152x40000")
    assert err.tag == "52" and "length 'x4'" in str(err)


def test_duplicate_tag_is_refused() -> None:
    payload = _code().replace("5802BR", "5802BR5802BR")
    err = _refused(with_crc(payload[:-8]))
    assert err.tag == "58" and "twice" in str(err)


def test_duplicate_sub_tag_is_refused() -> None:
    err = _refused(_code(**{"62": "0503***0503***"}))
    assert err.tag == "62.05" and "twice" in str(err)


def test_empty_value_is_refused() -> None:
    assert _refused(with_crc("000201" + "6100" + "5802BR")).tag == "61"


def test_ten_kilobyte_payload_is_refused_before_reading() -> None:
    err = _refused("000201" + "5999" + "A" * 10_000)
    assert err.tag is None and str(MAX_PAYLOAD_CHARS) in str(err)


@pytest.mark.parametrize("junk", [b"\xff\xfe\x00\x01", b"\x89PNG\r\n\x1a\n", b"\xc3\x28"])
def test_binary_junk_is_refused_as_not_text(junk: bytes) -> None:
    assert "UTF-8" in str(_refused(junk))


def test_control_characters_and_lone_surrogates_are_refused() -> None:
    assert "U+0000" in str(_refused(_code()[:10] + "\x00" + _code()[10:]))
    assert "U+DC80" in str(_refused("000201\udc80"))


def test_non_ascii_outside_the_language_template_is_refused() -> None:
    err = _refused(_code(**{"59": "CAFÉ DO PONTO"}))
    assert err.tag == "59" and "'É'" in str(err)


def test_text_fields_over_the_limit_are_warnings_not_errors() -> None:
    code = parse_payload(_code(**{"60": "SAO JOAO DEL REI"}))
    assert code.merchant_city == "SAO JOAO DEL REI"
    assert any("tag 60" in w for w in code.warnings)


# --- mandatory tags and values ---------------------------------------------------------------


@pytest.mark.parametrize("tag", ["52", "53", "58", "59"])
def test_mandatory_tag_missing(tag: str) -> None:
    err = _refused(_code(**{tag: None}))
    assert err.tag == tag and "missing" in str(err)


def test_a_merchant_account_is_mandatory() -> None:
    err = _refused(_code(**{"26": None}))
    assert err.tag == "02-51"


def test_account_template_without_its_identifier_is_refused() -> None:
    assert _refused(_code(**{"26": {"01": "cafe@example.com"}})).tag == "26.00"


def test_account_template_that_is_not_tlv_is_refused() -> None:
    assert _refused(_code(**{"26": "not a template"})).tag == "26"


def test_unreserved_template_that_is_not_tlv_is_only_a_warning() -> None:
    code = parse_payload(_code(**{"80": "free text"}))
    assert "80" not in code.templates and code.tags["80"] == "free text"
    assert code.warnings


@pytest.mark.parametrize("currency", ["999", "000", "98", "BRL", "9860"])
def test_unknown_currency(currency: str) -> None:
    err = _refused(_code(**{"53": currency}))
    assert err.tag == "53" and currency in str(err)


@pytest.mark.parametrize("country", ["XX", "br", "BRA", "B1"])
def test_unknown_country(country: str) -> None:
    assert _refused(_code(**{"58": country})).tag == "58"


@pytest.mark.parametrize("amount", ["12,50", "-1", "1e3", ".5", "12.505", "12345678901.50", " 12"])
def test_bad_amount(amount: str) -> None:
    assert _refused(_code(**{"54": amount})).tag == "54"


@pytest.mark.parametrize(
    ("amount", "minor"), [("12.50", 1250), ("12", 1200), ("12.5", 1250), ("12.", 1200), ("0", 0)]
)
def test_amount_formats_in_minor_units(amount: str, minor: int) -> None:
    assert parse_payload(_code(**{"54": amount})).amount_minor == minor


def test_amount_digits_follow_the_currency() -> None:
    vnd = build_payload(
        accounts={"38": {"00": "A000000727", "01": "0006970436011012345678"}},
        merchant_name="PHO 24",
        merchant_city="HANOI",
        country="VN",
        currency="VND",
        amount="50000",
    )
    assert parse_payload(vnd).amount_minor == 50000
    whole = with_crc(vnd[:-8].replace("540550000", "540850000.00"))
    assert parse_payload(whole).amount_minor == 50000
    err = _refused(with_crc(vnd[:-8].replace("540550000", "540850000.50")))
    assert err.tag == "54" and "VND has 0 decimal digits" in str(err)


def test_initiation_method_must_be_11_or_12() -> None:
    assert parse_payload(_code(**{"01": "12"})).initiation == "dynamic"
    assert parse_payload(_code(**{"01": "11"})).initiation == "static"
    assert _refused(_code(**{"01": "13"})).tag == "01"


def test_convenience_fee_rules() -> None:
    fixed = parse_payload(_code(**{"55": "02", "56": "1.00"}))
    assert fixed.convenience_fee_minor(1250) == 100
    percent = parse_payload(_code(**{"55": "03", "57": "10"}))
    assert percent.convenience_fee_minor(1250) == 125
    assert parse_payload(_code(**{"55": "01"})).convenience_fee_minor(1250) == 0
    assert _refused(_code(**{"55": "02"})).tag == "56"
    assert _refused(_code(**{"55": "03", "57": "150"})).tag == "57"
    assert _refused(_code(**{"55": "04"})).tag == "55"


def test_language_template_needs_language_and_name() -> None:
    assert _refused(_code(**{"64": {"01": "咖啡店"}})).tag == "64.00"
    assert _refused(_code(**{"64": {"00": "ZH"}})).tag == "64.01"


# --- schemes and links -----------------------------------------------------------------------


def _scheme_code(tag: str, gui: str, country: str, currency: str) -> str:
    return build_payload(
        accounts={tag: {"00": gui, "01": "ACCOUNT1"}},
        merchant_name="SHOP",
        merchant_city="CITY",
        country=country,
        currency=currency,
    )


@pytest.mark.parametrize(
    ("tag", "gui", "country", "currency", "scheme"),
    [
        ("26", "BR.GOV.BCB.PIX", "BR", "BRL", "pix"),
        ("30", "A000000677010112", "TH", "THB", "promptpay"),
        ("38", "A000000727", "VN", "VND", "vietqr"),
        ("26", "A0000006150001", "MY", "MYR", "duitnow"),
        ("51", "ID.CO.QRIS.WWW", "ID", "IDR", "qris"),
        ("51", "SG.SGQR", "SG", "SGD", "sgqr"),
        ("26", "SG.PAYNOW", "SG", "SGD", "paynow"),
        ("26", "hk.com.hkicl", "HK", "HKD", "fps"),
        ("29", "john_smith@devb", "KH", "KHR", "khqr"),
        ("27", "com.p2pqrpay", "PH", "PHP", "qrph"),
        ("45", "COM.EXAMPLE.NEWPAY", "FR", "EUR", "emvco"),
    ],
)
def test_scheme_detection(tag: str, gui: str, country: str, currency: str, scheme: str) -> None:
    code = parse_payload(_scheme_code(tag, gui, country, currency))
    assert code.scheme == scheme


def test_sgqr_with_paynow_names_both_schemes() -> None:
    payload = build_payload(
        accounts={"26": {"00": "SG.PAYNOW", "01": "2", "02": "201403121W"},
                  "51": {"00": "SG.SGQR", "01": "200101000001"}},
        merchant_name="HAWKER", merchant_city="SINGAPORE", country="SG", currency="SGD",
    )  # fmt: skip
    assert parse_payload(payload).schemes == ("sgqr", "paynow")


def test_card_network_primitive_account() -> None:
    payload = build_payload(
        accounts={"04": "5413330089020011"},
        merchant_name="SHOP",
        merchant_city="LONDON",
        country="GB",
        currency="GBP",
    )
    code = parse_payload(payload)
    assert (code.scheme, code.payee) == ("mastercard", "5413330089020011")


@pytest.mark.parametrize(
    ("link", "scheme"),
    [
        ("upi://pay?pa=merchant@upi&pn=Shop&am=10.00&cu=INR", "upi"),
        ("UPI://PAY?pa=x@y", "upi"),
        ("https://qr.alipay.com/fkx12345", "alipay"),
        ("wxp://f2f0abc", "wechat"),
        ("bitcoin:bc1qxyz?amount=0.001", "bitcoin"),
        ("lnbc2500u1pvjluezpp5", "lightning"),
        ("BCD\n002\n1\nSCT\nBIC\nName\nIBAN", "sepa"),
        ("https://example.com/pay", "url"),
    ],
)
def test_payment_links_are_not_supported_yet_not_a_crash(link: str, scheme: str) -> None:
    with pytest.raises(UnsupportedSchemeError) as caught:
        parse_payload(link)
    assert caught.value.scheme == scheme and "not supported yet" in str(caught.value)
    summary = describe_payload(link)
    assert summary["valid"] is False and summary["scheme"] == scheme


def test_plain_text_is_an_invalid_code_not_a_link() -> None:
    assert describe_payload("hello world")["error"].startswith("tag 00")


# --- generator --------------------------------------------------------------------------------
# Round trips and random mutations are property tests: see test_emvco_properties.py.


def test_build_payload_refuses_what_it_cannot_write() -> None:
    with pytest.raises(PaymentCodeError):
        build_payload(accounts=PIX, merchant_name="X", merchant_city="Y", country="BR",
                      currency="XYZ")  # fmt: skip
    with pytest.raises(PaymentCodeError):
        build_payload(accounts=PIX, merchant_name="X" * 100, merchant_city="Y", country="BR",
                      currency="BRL")  # fmt: skip
