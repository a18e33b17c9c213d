"""GTIN normalisation: every retail code becomes the 13-digit GTIN the catalog is keyed on."""

from __future__ import annotations

from oculi.errors import PerceptionError


def _ascii_digits(text: str) -> bool:
    """`str.isdigit` also accepts superscripts and other scripts' digits; a GTIN is ASCII."""
    return text.isascii() and text.isdigit()


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    return (
        _ascii_digits(code)
        and len(code) in (8, 12, 13, 14)
        and gtin_check_digit(code[:-1]) == int(code[-1])
    )


def expand_upce(code: str) -> str:
    """UPC-E (8 digits with number system and check digit) to its 12-digit UPC-A form."""
    if len(code) != 8 or not _ascii_digits(code) or code[0] not in "01":
        raise PerceptionError(f"UPC-E code {code!r} must be 8 digits starting with 0 or 1")
    ns, d, check = code[0], code[1:7], code[7]
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    return ns + body + check


def normalise_gtin(text: str, symbology: str = "") -> str:
    """A verified GTIN-13 from EAN-13, UPC-A, UPC-E, EAN-8 or GTIN-14 text.

    UPC-A gains a leading zero (as zxing already reports it for EAN-13 readers); EAN-8 is
    zero-padded, as GS1 pads every GTIN to a common width.
    """
    code = text.strip()
    if not _ascii_digits(code):
        raise PerceptionError(f"barcode text {text!r} is not a GTIN (digits only)")
    if "".join(c for c in symbology.upper() if c.isalnum()) == "UPCE":
        code = expand_upce(code)
    if len(code) == 14 and code.startswith("0"):
        code = code[1:]
    if len(code) not in (8, 12, 13):
        raise PerceptionError(
            f"barcode text {text!r} has {len(code)} digits; a GTIN has 8, 12 or 13"
        )
    if not is_valid_gtin(code):
        raise PerceptionError(f"barcode {text!r} fails its check digit")
    return code.zfill(13)
