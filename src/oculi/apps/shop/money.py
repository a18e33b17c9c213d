"""Prices as the wearer reads and hears them; amounts stay integer cents until shown."""

from __future__ import annotations

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CNY": "¥", "JPY": "¥"}
SPOKEN = {"EUR": ("euro", "euros"), "USD": ("dollar", "dollars"), "GBP": ("pound", "pounds"),
          "CNY": ("yuan", "yuan")}  # fmt: skip
SPOKEN_CENTS = {"GBP": ("penny", "pence"), "CNY": ("fen", "fen")}


def show_price(cents: int, currency: str) -> str:
    symbol = SYMBOLS.get(currency)
    amount = f"{cents // 100}.{cents % 100:02d}"
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


SPOKEN_ZH = {"EUR": "欧元", "USD": "美元", "GBP": "英镑", "CNY": "元", "JPY": "日元"}


def say_price(cents: int, currency: str, language: str = "en") -> str:
    """`2 euros 49`, `64 cents`, `9 euros`: how people say prices aloud (`2.49欧元` in Chinese)."""
    if language == "zh":
        whole, rest = divmod(cents, 100)
        amount = f"{whole}" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0")
        return amount + SPOKEN_ZH.get(currency, currency)
    whole, rest = divmod(cents, 100)
    one, many = SPOKEN.get(currency, (currency, currency))
    if whole == 0:
        cent, cent_plural = SPOKEN_CENTS.get(currency, ("cent", "cents"))
        return f"{rest} {cent if rest == 1 else cent_plural}"
    unit = one if whole == 1 else many
    return f"{whole} {unit}" if rest == 0 else f"{whole} {unit} {rest}"
