"""The shop app: the price card for the product the wearer looks at."""

from __future__ import annotations

from pathlib import Path

from oculi.apps.sdk import message
from oculi.apps.shop.money import say_price, show_price
from oculi.events import Answer, Card, CardRow, Intent
from oculi.services.catalog import Catalog, PriceComparison

MAX_OTHER_OFFERS = 3

SPEECH = {
    "en": {
        "no_barcode": "I don't see a barcode. Look at the product's barcode and ask again.",
        "unknown_product": "I don't know this product yet.",
        "out_of_stock": "{name} is out of stock everywhere I know.",
        "best": "{name}: best price {price} at {store}.",
        "saving": " That saves {saving}.",
    },
    "zh": {
        "no_barcode": "我没看到条形码。请看着商品的条形码再问一次。",
        "unknown_product": "我还不认识这个商品。",
        "out_of_stock": "{name}在我知道的商店都缺货。",
        "best": "{name}，最低价{price}，在{store}。",
        "saving": "可以省{saving}。",
    },
}
"""Spoken replies by language; cards stay in the catalog's language (product and store names)."""


class ShopApp:
    name = "shop"
    intents_file: Path | None = Path(__file__).with_name("intents.yaml")

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    async def handle(self, intent: Intent) -> Answer:
        language = intent.args.get("language")
        language = language if isinstance(language, str) and language in SPEECH else "en"
        said = SPEECH[language]
        if intent.action != "price":
            return message(self.name, intent.action, "The shop can't do that yet.", "Shop",
                           f"Unknown action {intent.action}")  # fmt: skip
        gtin = intent.args.get("gtin")
        if not isinstance(gtin, str):
            return message(self.name, "price", said["no_barcode"], "No product in view",
                           "Look at the barcode", "and ask again", language=language)  # fmt: skip
        comparison = self._catalog.compare_prices(gtin)
        if comparison is None:
            return message(self.name, "price", said["unknown_product"], "Unknown product",
                           f"GTIN {gtin}", "not in the catalog", language=language)  # fmt: skip
        return price_answer(comparison, language)


def price_answer(comparison: PriceComparison, language: str = "en") -> Answer:
    product, best = comparison.product, comparison.best
    said = SPEECH[language]
    subtitle = " · ".join(part for part in (product.brand, product.quantity) if part)
    if best is None:
        return Answer(
            app="shop", action="price", language=language,
            speech=said["out_of_stock"].format(name=product.name),
            card=Card(layout="price", title=product.name, subtitle=subtitle,
                      rows=(CardRow(label="Out of stock in all stores"),)),
        )  # fmt: skip
    rows = [CardRow(label=best.store, value=show_price(best.price_cents, best.currency),
                    highlight=True)]  # fmt: skip
    for offer in [o for o in comparison.offers if o != best][:MAX_OTHER_OFFERS]:
        value = show_price(offer.price_cents, offer.currency) if offer.in_stock else "out of stock"
        rows.append(CardRow(label=offer.store, value=value))
    saving = comparison.saving_cents
    footer = f"Save {show_price(saving, best.currency)} vs. the dearest" if saving else ""
    price = say_price(best.price_cents, best.currency, language)
    speech = said["best"].format(name=product.name, price=price, store=best.store)
    if saving:
        speech += said["saving"].format(saving=say_price(saving, best.currency, language))
    return Answer(
        app="shop", action="price", speech=speech, language=language,
        card=Card(layout="price", title=product.name, subtitle=subtitle, rows=tuple(rows),
                  footer=footer),
    )  # fmt: skip
