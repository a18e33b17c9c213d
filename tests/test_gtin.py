"""GTIN normalisation: check digits, UPC-A / EAN-8 / UPC-E / GTIN-14 to GTIN-13, and refusals."""

from __future__ import annotations

import pytest

from oculi.errors import PerceptionError
from oculi.vision.gtin import expand_upce, gtin_check_digit, is_valid_gtin, normalise_gtin

# Published codes: EAN-13 of a Faber-Castell pencil and a Coca-Cola bottle, the UPC-A and EAN-8
# examples from the GS1 / Wikipedia articles.
REAL_VALID = ["4006381333931", "5449000000996", "036000291452", "96385074"]


@pytest.mark.parametrize("code", REAL_VALID)
def test_real_gtins_pass_their_check_digit(code: str) -> None:
    assert is_valid_gtin(code)
    assert gtin_check_digit(code[:-1]) == int(code[-1])


@pytest.mark.parametrize("code", REAL_VALID)
def test_changing_the_last_digit_breaks_the_check(code: str) -> None:
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert not is_valid_gtin(wrong)


def test_check_digit_worked_example() -> None:
    # digits    4 0 0 6 3 8 1 3 3 3 9 3   (weight 3 on the digit next to the check digit)
    # weights   1 3 1 3 1 3 1 3 1 3 1 3
    # products  4 0 0 18 3 24 1 9 3 9 9 9 = 89 -> (10 - 9) % 10 = 1
    assert gtin_check_digit("400638133393") == 1
    # a body whose weighted sum is a multiple of ten gets 0, not 10
    assert gtin_check_digit("000000000000") == 0


@pytest.mark.parametrize("code", ["", "abc", "4006381333931x", "1234567", "123456789012345"])
def test_is_valid_gtin_refuses_non_codes(code: str) -> None:
    assert not is_valid_gtin(code)


def test_ean13_stays_as_it_is() -> None:
    assert normalise_gtin("4006381333931") == "4006381333931"


def test_surrounding_whitespace_is_ignored() -> None:
    assert normalise_gtin(" 4006381333931\n") == "4006381333931"


def test_upc_a_gains_a_leading_zero() -> None:
    assert normalise_gtin("036000291452") == "0036000291452"


def test_ean8_is_zero_padded_to_13_digits() -> None:
    assert normalise_gtin("96385074") == "0000096385074"


def test_gtin14_with_leading_zero_drops_it() -> None:
    assert normalise_gtin("04006381333931") == "4006381333931"


def test_gtin14_for_an_upc_a_keeps_the_padding() -> None:
    assert normalise_gtin("00036000291452") == "0036000291452"


def test_gtin14_with_a_packaging_indicator_is_refused() -> None:
    # 1 as the first digit names an outer case, which is no GTIN-13
    with pytest.raises(PerceptionError, match="14 digits"):
        normalise_gtin("14006381333938")


def _upc_a_from_upce(code: str) -> str:
    """The UPC-E expansion table written out digit by digit, independent of the module."""
    ns, (x1, x2, x3, x4, x5, x6), check = code[0], code[1:7], code[7]
    if x6 in "012":
        manufacturer, product = x1 + x2 + x6 + "00", "00" + x3 + x4 + x5
    elif x6 == "3":
        manufacturer, product = x1 + x2 + x3 + "00", "000" + x4 + x5
    elif x6 == "4":
        manufacturer, product = x1 + x2 + x3 + x4 + "0", "0000" + x5
    else:
        manufacturer, product = x1 + x2 + x3 + x4 + x5, "0000" + x6
    return ns + manufacturer + product + check


@pytest.mark.parametrize(
    ("upce", "upca"),
    [
        ("04252614", "042100005264"),  # last digit 0-2: manufacturer 4 2 1 0 0, product 00526
        ("01234565", "012345000065"),  # last digit 5-9: the textbook example
    ],
)
def test_upce_expands_to_the_known_upc_a(upce: str, upca: str) -> None:
    assert _upc_a_from_upce(upce) == upca
    assert expand_upce(upce) == upca
    assert is_valid_gtin(upca)


@pytest.mark.parametrize("body", ["123450", "123451", "123452", "123453", "123454", "123457"])
@pytest.mark.parametrize("ns", ["0", "1"])
def test_upce_expansion_follows_the_rule_for_each_last_digit(ns: str, body: str) -> None:
    upce_without_check = ns + body
    expected_body = _upc_a_from_upce(upce_without_check + "0")[:-1]
    check = str(gtin_check_digit(expected_body))
    upce = upce_without_check + check
    assert len(expected_body) == 11
    assert expand_upce(upce) == expected_body + check


@pytest.mark.parametrize("symbology", ["UPC-E", "upc_e", "UPCE"])
def test_upce_text_normalises_to_gtin13(symbology: str) -> None:
    assert normalise_gtin("04252614", symbology) == "0042100005264"


def test_upce_with_wrong_check_digit_is_refused() -> None:
    with pytest.raises(PerceptionError, match="check digit"):
        normalise_gtin("04252615", "UPC-E")


@pytest.mark.parametrize("code", ["24252614", "0425261", "042526140"])
def test_upce_of_wrong_shape_is_refused(code: str) -> None:
    with pytest.raises(PerceptionError, match="UPC-E"):
        normalise_gtin(code, "UPC-E")


def test_eight_digits_without_upce_symbology_are_read_as_ean8() -> None:
    # the same digits mean a different product when read as EAN-8: only valid if its check holds
    assert normalise_gtin("96385074", "EAN-8") == "0000096385074"
    with pytest.raises(PerceptionError, match="check digit"):
        normalise_gtin("04252614", "EAN-8")


@pytest.mark.parametrize("code", ["4006381333932", "5449000000990", "036000291453", "96385075"])
def test_wrong_check_digit_is_refused(code: str) -> None:
    with pytest.raises(PerceptionError, match="check digit"):
        normalise_gtin(code)


@pytest.mark.parametrize("code", ["40063813339A1", "ABCDEFGHIJKLM", "4006-381333931", ""])
def test_letters_and_punctuation_are_refused(code: str) -> None:
    with pytest.raises(PerceptionError, match="digits only"):
        normalise_gtin(code)


@pytest.mark.parametrize("code", ["1234567", "123456789", "12345678901", "123456789012345"])
def test_wrong_length_is_refused(code: str) -> None:
    with pytest.raises(PerceptionError, match="8, 12 or 13"):
        normalise_gtin(code)


def test_superscript_digit_is_refused_as_perception_error() -> None:
    with pytest.raises(PerceptionError):
        normalise_gtin("400638133393\u00b2")


def test_non_ascii_digits_are_refused_or_made_ascii() -> None:
    arabic_indic = "".join(chr(0x0660 + int(c)) for c in "4006381333931")
    try:
        result = normalise_gtin(arabic_indic)
    except PerceptionError:
        return
    assert result == "4006381333931"
