"""Which payment scheme a merchant code belongs to, and who it pays.

Schemes are told apart by the globally unique identifier (sub-tag 00) of their merchant account
template, so a Singapore code carrying PayNow and SGQR reports both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# (scheme, test on a template's GUI), most specific first: the first match is the code's scheme
_GUI_SCHEMES: tuple[tuple[str, str], ...] = (
    ("pix", "BR.GOV.BCB.PIX"),
    ("promptpay", "A000000677"),
    ("vietqr", "A000000727"),
    ("duitnow", "A000000615"),
    ("qris", "ID.CO.QRIS"),
    ("sgqr", "SG.SGQR"),
    ("paynow", "SG.PAYNOW"),
    ("nets", "SG.COM.NETS"),
    ("fps", "HK.COM.HKICL"),
    ("qrph", "COM.P2PQRPAY"),
    ("qrph", "PH.PPMI"),
)

# primitive merchant account ids 02–16 reserved for card networks by EMVCo
_CARD_NETWORKS = {
    **dict.fromkeys(("02", "03"), "visa"),
    **dict.fromkeys(("04", "05"), "mastercard"),
    **dict.fromkeys(("09", "10"), "discover"),
    **dict.fromkeys(("11", "12"), "amex"),
    **dict.fromkeys(("13", "14"), "jcb"),
    **dict.fromkeys(("15", "16"), "unionpay"),
}

SCHEME_NAMES = {
    "pix": "PIX",
    "promptpay": "PromptPay",
    "vietqr": "VietQR",
    "duitnow": "DuitNow",
    "qris": "QRIS",
    "sgqr": "SGQR",
    "paynow": "PayNow",
    "nets": "NETS",
    "fps": "FPS",
    "qrph": "QR Ph",
    "khqr": "KHQR",
    "visa": "Visa",
    "mastercard": "Mastercard",
    "discover": "Discover",
    "amex": "American Express",
    "jcb": "JCB",
    "unionpay": "UnionPay",
    "emvco": "EMVCo",
}

# links that are payment requests but not EMVCo merchant codes: (pattern, scheme, what it is)
_LINKS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"upi://", re.I), "upi", "a UPI payment link (India)"),
    (re.compile(r"(alipays?://|https?://qr\.alipay\.com/)", re.I), "alipay", "an Alipay link"),
    (re.compile(r"(wxp|weixin)://", re.I), "wechat", "a WeChat Pay link"),
    (re.compile(r"bitcoin:", re.I), "bitcoin", "a Bitcoin payment URI"),
    (re.compile(r"(lightning:|lnbc)", re.I), "lightning", "a Lightning invoice"),
    (re.compile(r"ethereum:", re.I), "ethereum", "an Ethereum payment URI"),
    (re.compile(r"BCD\r?\n00[12]\r?\n"), "sepa", "a SEPA credit transfer (EPC) code"),
    (re.compile(r"SPD\*1\.0\*"), "spayd", "a Czech SPAYD payment code"),
    (re.compile(r"https?://", re.I), "url", "a web link"),
    (re.compile(r"[a-z][a-z0-9+.-]{1,30}://", re.I), "uri", "a link"),
)


def recognise_link(text: str) -> tuple[str, str] | None:
    """(scheme, description) for a payment link that is not an EMVCo code, else None."""
    if text[:2].isdigit():
        return None
    for pattern, scheme, what in _LINKS:
        if pattern.match(text):
            return scheme, what
    return None


def detect_schemes(
    tags: Mapping[str, str], templates: Mapping[str, Mapping[str, str]]
) -> tuple[str, ...]:
    """Every scheme the code names, the one to pay with first; ('emvco',) if none is known."""
    guis = [sub["00"].upper() for tag, sub in templates.items() if "00" in sub]
    found: list[str] = []
    for scheme, prefix in _GUI_SCHEMES:
        if any(gui.startswith(prefix) for gui in guis) and scheme not in found:
            found.append(scheme)
    if tags.get("58") == "KH" and ("29" in templates or "30" in templates):
        found.append("khqr")
    for tag in tags:
        network = _CARD_NETWORKS.get(tag)
        if network and network not in found:
            found.append(network)
    return tuple(found) or ("emvco",)


def payee(
    scheme: str, tags: Mapping[str, str], templates: Mapping[str, Mapping[str, str]]
) -> str | None:
    """Who the money goes to as the scheme names them: a PIX key, a PromptPay phone, …"""
    account = _scheme_template(scheme, tags, templates)
    if scheme == "pix" and account is not None:
        return account.get("01") or account.get("25")
    if scheme == "promptpay" and account is not None:
        phone = account.get("01")
        if phone is not None and phone.startswith("0066"):
            return "0" + phone[4:]
        return account.get("02") or account.get("03") or account.get("01")
    if scheme == "khqr" and account is not None:
        return account.get("00")
    if account is not None:
        return account.get("01") or account.get("00")
    for tag, network in _CARD_NETWORKS.items():
        if network == scheme and tag in tags:
            return tags[tag]
    return None


def _scheme_template(
    scheme: str, tags: Mapping[str, str], templates: Mapping[str, Mapping[str, str]]
) -> Mapping[str, str] | None:
    prefixes = [prefix for name, prefix in _GUI_SCHEMES if name == scheme]
    for tag, sub in templates.items():
        gui = sub.get("00", "").upper()
        if tag <= "51" and any(gui.startswith(p) for p in prefixes):
            return sub
    if scheme == "khqr":
        return templates.get("29") or templates.get("30")
    return None
