"""The shop app: the price card for the product the wearer looks at."""

from __future__ import annotations

from pathlib import Path

from oculi.apps.sdk import message
from oculi.apps.shop.money import say_price, show_price
from oculi.events import Answer, Card, CardRow, Intent
from oculi.services.catalog import Catalog, PriceComparison

MAX_OTHER_OFFERS = 3


class ShopApp:
    name = "shop"
    intents_file: Path | None = Path(__file__).with_name("intents.yaml")

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    async def handle(self, intent: Intent) -> Answer:
        if intent.action != "price":
            return message(self.name, intent.action, "The shop can't do that yet.", "Shop",
                           f"Unknown action {intent.action}")  # fmt: skip
        gtin = intent.args.get("gtin")
        if not isinstance(gtin, str):
            return message(
                self.name, "price", "I don't see a barcode. Look at the product's barcode and "
                "ask again.", "No product in view", "Look at the barcode", "and ask again"
            )  # fmt: skip
        comparison = self._catalog.compare_prices(gtin)
        if comparison is None:
            return message(self.name, "price", "I don't know this product yet.",
                           "Unknown product", f"GTIN {gtin}", "not in the catalog")  # fmt: skip
        return price_answer(comparison)


def price_answer(comparison: PriceComparison) -> Answer:
    product, best = comparison.product, comparison.best
    subtitle = " · ".join(part for part in (product.brand, product.quantity) if part)
    if best is None:
        return Answer(
            app="shop", action="price",
            speech=f"{product.name} is out of stock everywhere I know.",
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
    speech = (
        f"{product.name}: best price {say_price(best.price_cents, best.currency)} at {best.store}."
    )
    if saving:
        speech += f" That saves {say_price(saving, best.currency)}."
    return Answer(
        app="shop", action="price", speech=speech,
        card=Card(layout="price", title=product.name, subtitle=subtitle, rows=tuple(rows),
                  footer=footer),
    )  # fmt: skip
