"""Currencies and countries a merchant code may name, and amounts in integer minor units.

Compact ISO tables (4217 numeric → alpha and minor-unit digits; 3166-1 alpha-2) so that a code
naming an unknown currency or country is refused instead of charged in the wrong money.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oculi.errors import PaymentError

# ISO 4217 active currencies (funds codes and precious metals left out): NUMERIC ALPHA DIGITS
_CURRENCIES = """
008ALL2 012DZD2 032ARS2 036AUD2 044BSD2 048BHD3 050BDT2 051AMD2 052BBD2 060BMD2 064BTN2 068BOB2
072BWP2 084BZD2 090SBD2 096BND2 104MMK2 108BIF0 116KHR2 124CAD2 132CVE2 136KYD2 144LKR2 152CLP0
156CNY2 170COP2 174KMF0 188CRC2 192CUP2 203CZK2 208DKK2 214DOP2 222SVC2 230ETB2 232ERN2 238FKP2
242FJD2 262DJF0 270GMD2 292GIP2 320GTQ2 324GNF0 328GYD2 332HTG2 340HNL2 344HKD2 348HUF2 352ISK0
356INR2 360IDR2 364IRR2 368IQD3 376ILS2 388JMD2 392JPY0 398KZT2 400JOD3 404KES2 408KPW2 410KRW0
414KWD3 417KGS2 418LAK2 422LBP2 426LSL2 430LRD2 434LYD3 446MOP2 454MWK2 458MYR2 462MVR2 480MUR2
484MXN2 496MNT2 498MDL2 504MAD2 512OMR3 516NAD2 524NPR2 532ANG2 533AWG2 548VUV0 554NZD2 558NIO2
566NGN2 578NOK2 586PKR2 590PAB2 598PGK2 600PYG0 604PEN2 608PHP2 634QAR2 643RUB2 646RWF0 654SHP2
682SAR2 690SCR2 702SGD2 704VND0 706SOS2 710ZAR2 728SSP2 748SZL2 752SEK2 756CHF2 760SYP2 764THB2
776TOP2 780TTD2 784AED2 788TND3 800UGX0 807MKD2 818EGP2 826GBP2 834TZS2 840USD2 858UYU2 860UZS2
882WST2 886YER2 901TWD2 924ZWG2 925SLE2 926VED2 928VES2 929MRU2 930STN2 933BYN2 934TMT2 936GHS2
938SDG2 941RSD2 943MZN2 944AZN2 946RON2 949TRY2 950XAF0 951XCD2 952XOF0 953XPF0 967ZMW2 968SRD2
969MGA2 971AFN2 972TJS2 973AOA2 975BGN2 976CDF2 977BAM2 978EUR2 980UAH2 981GEL2 985PLN2 986BRL2
"""

# ISO 3166-1 alpha-2, all 249 officially assigned codes, grouped by first letter
_COUNTRIES = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT
BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH
ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT
HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS
LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI
NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG
SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG
UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""


@dataclass(frozen=True)
class Currency:
    alpha: str
    numeric: str
    digits: int
    """Minor-unit digits: 2 for BRL (centavos), 0 for JPY and VND, 3 for KWD."""


CURRENCIES: dict[str, Currency] = {
    entry[:3]: Currency(entry[3:6], entry[:3], int(entry[6])) for entry in _CURRENCIES.split()
}
_BY_ALPHA = {c.alpha: c for c in CURRENCIES.values()}
COUNTRIES: frozenset[str] = frozenset(_COUNTRIES.split())

_AMOUNT = re.compile(r"(\d+)(?:\.(\d*))?")


def currency(code: str) -> Currency:
    """A currency by ISO 4217 numeric ("986") or alphabetic ("BRL") code."""
    found = CURRENCIES.get(code) or _BY_ALPHA.get(code.upper())
    if found is None:
        raise PaymentError(f"currency {code!r} is not a known ISO 4217 code")
    return found


def is_known_country(code: str) -> bool:
    return code in COUNTRIES


def to_minor(amount: str, code: str) -> int:
    """'10.50' BRL → 1050. Digits past the currency's minor unit must be zeros ('100.00' JPY)."""
    cur = currency(code)
    match = _AMOUNT.fullmatch(amount)
    if match is None:
        raise PaymentError(f"amount {amount!r}: expected digits with an optional '.' decimal mark")
    whole, fraction = match.group(1), match.group(2) or ""
    if fraction[cur.digits :].strip("0"):
        raise PaymentError(f"amount {amount!r}: {cur.alpha} has {cur.digits} decimal digits")
    fraction = fraction[: cur.digits].ljust(cur.digits, "0")
    scale: int = 10**cur.digits
    return int(whole) * scale + (int(fraction) if fraction else 0)


def format_minor(minor: int, code: str) -> str:
    """1050 BRL → '10.50'; 5000 VND → '5000': the amount as a merchant code writes it."""
    cur = currency(code)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**cur.digits)
    return f"{sign}{whole}.{fraction:0{cur.digits}d}" if cur.digits else f"{sign}{whole}"
