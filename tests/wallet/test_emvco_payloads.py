"""The parser against real merchant codes from public test suites (../shared/data/emvco)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from oculi.services.wallet.emvco import (
    crc16,
    describe_payload,
    parse_payload,
    pix_code,
    promptpay_code,
)
from oculi.services.wallet.errors import PaymentCodeError

PAYLOADS = Path(__file__).resolve().parents[3] / "shared" / "data" / "emvco" / "payloads.json"


def _entries() -> list[dict[str, Any]]:
    if not PAYLOADS.is_file():
        return []
    entries: list[dict[str, Any]] = json.loads(PAYLOADS.read_text(encoding="utf-8"))["entries"]
    return entries


ENTRIES = _entries()
VALID = [e for e in ENTRIES if e["test_expectation"].startswith("valid")]
INVALID = [e for e in ENTRIES if not e["test_expectation"].startswith("valid")]
needs_data = pytest.mark.skipif(not ENTRIES, reason=f"{PAYLOADS} is missing")


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in entries]


@needs_data
def test_the_data_set_is_the_one_described() -> None:
    assert len(ENTRIES) == 46
    assert len(VALID) == 29 and len(INVALID) == 17


@needs_data
@pytest.mark.parametrize("entry", VALID, ids=_ids(VALID))
def test_valid_code_parses_with_the_fields_its_source_asserts(entry: dict[str, Any]) -> None:
    code = parse_payload(entry["payload"])
    flat = code.flat_tags()
    assert sorted(code.tags) == entry["computed"]["top_level_tags"]
    assert code.country == entry["country"]
    for key, expected in entry["expected_fields"].items():
        tag = re.sub(r"\(.*\)$", "", key)
        if re.fullmatch(r"\d\d(\.\d\d)?", tag):
            assert flat[tag] == expected, key
        elif key == "type" and expected in ("STATIC", "DYNAMIC"):
            assert code.initiation == expected.lower()
        elif key == "transactionAmount":
            assert code.amount is None and expected == 0
        elif key == "input_id":
            digits = re.sub(r"\D", "", expected)
            local = "0" + digits[2:] if digits.startswith("66") else digits
            assert code.payee == local
        elif key == "options" and "amount" in expected:
            assert Decimal(code.amount or "0") == Decimal(str(expected["amount"]))
    if entry["scheme"].startswith("PIX"):
        assert code.scheme == "pix" and code.currency == "BRL"
    if entry["scheme"].startswith("PromptPay"):
        assert code.scheme == "promptpay" and code.currency == "THB"


@needs_data
@pytest.mark.parametrize("entry", INVALID, ids=_ids(INVALID))
def test_invalid_code_is_refused_naming_a_tag_or_rule(entry: dict[str, Any]) -> None:
    with pytest.raises(PaymentCodeError) as caught:
        parse_payload(entry["payload"])
    summary = describe_payload(entry["payload"])
    assert summary["valid"] is False and summary["error"] == str(caught.value)
    wrong_crc = entry["computed"]["crc_ok"] is False and entry["payload"][-4:] != "XXXX"
    if wrong_crc and entry["payload"].startswith("000201"):
        # a wrong CRC is what the error names, not some later rule
        assert caught.value.tag == "63"
        assert entry["computed"]["crc_expected"] in str(caught.value)


WITH_CRC = [e for e in ENTRIES if e["computed"]["crc_expected"]]


@needs_data
@pytest.mark.parametrize("entry", WITH_CRC, ids=_ids(WITH_CRC))
def test_crc_agrees_with_the_independent_check(entry: dict[str, Any]) -> None:
    computed = entry["computed"]
    body = entry["payload"][: entry["payload"].rindex("6304") + 4]
    assert f"{crc16(body.encode('utf-8')):04X}" == computed["crc_expected"]


@needs_data
def test_chinese_language_template_counts_characters_not_bytes() -> None:
    entry = next(e for e in ENTRIES if e["id"] == "emv-014")
    code = parse_payload(entry["payload"])
    assert code.templates["64"] == {"00": "ZH", "01": "最佳运输", "02": "北京"}
    assert len(code.tags["64"]) == 20 < len(code.tags["64"].encode("utf-8"))


@needs_data
@pytest.mark.parametrize(
    "entry",
    [e for e in ENTRIES if "input_id" in e["expected_fields"]],
    ids=lambda e: e["id"],
)
def test_promptpay_generator_writes_the_same_code_as_the_reference(entry: dict[str, Any]) -> None:
    fields = entry["expected_fields"]
    amount = fields["options"].get("amount")
    written = promptpay_code(fields["input_id"], amount=f"{amount:.2f}" if amount else None)
    assert written == entry["payload"]


@needs_data
def test_pix_generator_writes_the_bcb_example_byte_for_byte() -> None:
    entry = next(e for e in ENTRIES if e["id"] == "emv-001")
    written = pix_code(
        "thalesog@me.com",
        merchant_name="THALES OGLIARI",
        merchant_city="SAO MIGUEL DO O",
        amount="10.00",
        description="Pedido 123",
    )
    assert written == entry["payload"]
