"""The shop app: the price card for the product the wearer looks at."""

from __future__ import annotations

import asyncio
from pathlib import Path

from oculi.apps.sdk import ActionError, App, Context, Reply, action
from oculi.apps.shop.money import say_price, show_price
from oculi.apps.text import clip
from oculi.errors import PerceptionError
from oculi.events import Card, CardRow
from oculi.services.catalog import Catalog, PriceComparison
from oculi.vision.identify import Identification
from oculi.vision.stage import identify_in_view

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


class ShopApp(App):
    name = "shop"
    description = "Prices of the product the wearer looks at, across the stores in the catalog."
    permissions = ("camera",)
    intents_file = Path(__file__).with_name("intents.yaml")

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    @action
    async def price(self, ctx: Context, gtin: str | None = None) -> Reply:
        """Compare the prices of a product (by default the one in view).

        Args:
            gtin: the product's barcode number; the product in view when not given
        """
        said = SPEECH[ctx.language if ctx.language in SPEECH else "en"]
        seen = ctx.in_view
        gtin = gtin or (seen.gtin if seen is not None else None)
        if gtin:
            comparison = self._catalog.compare_prices(gtin)
            if comparison is None:
                return ctx.reply(
                    said["unknown_product"], "Unknown product", f"GTIN {gtin}", "not in the catalog"
                )
            return price_answer(comparison, ctx.language)
        if seen is None or seen.image is None:
            return ctx.reply(
                said["no_barcode"], "No product in view", "Look at the barcode", "and ask again"
            )
        found = await self._identify(seen.image)
        if found.product is None:
            return _unknown(ctx, found)
        comparison = self._catalog.compare_offers(found.product.id, found.shelf_price_cents)
        if comparison is None:
            return _unknown(ctx, found)
        return price_answer(comparison, ctx.language)

    @action
    async def what(self, ctx: Context) -> Reply:
        """Say what the product in view is (by its code, the text on the pack, or its look)."""
        seen = ctx.in_view
        if seen is not None and seen.gtin:
            product = self._catalog.product(seen.gtin)
            if product is not None:
                return _named(ctx, product.name, product.brand, product.quantity, "barcode")
        if seen is None or seen.image is None:
            return ctx.reply(
                ctx.say_in(
                    "I don't see a product. Look at it and ask again.",
                    "我没看到商品。请看着它再问一次。",
                ),
                "Nothing in view",
            )
        found = await self._identify(seen.image)
        if found.product is None:
            return _unknown(ctx, found)
        product = found.product
        return _named(ctx, product.name, product.brand, product.quantity, found.via or "")

    async def _identify(self, image: bytes) -> Identification:
        """OCR and picture matching take hundreds of milliseconds: off the event loop."""
        try:
            return await asyncio.to_thread(identify_in_view, image, self._catalog)
        except PerceptionError as err:
            raise ActionError(f"I couldn't see that clearly: {err}") from err

    @action
    def cheaper(self, ctx: Context) -> Reply:
        """Where the last product compared is cheaper than the store the wearer is in."""
        offers = ctx.last.get("offers")
        if not offers:
            return ctx.reply(
                ctx.say_in("Ask for a price first.", "请先问价格。"),
                "No price yet",
                "Ask: how much is this?",
            )
        best = offers[0]
        lines = [f"{o['store']}: {o['price']}" for o in offers[:4]]
        speech = ctx.say_in(
            f"Cheapest is {best['store']} at {best['price']}.",
            f"最便宜的是{best['store']}，{best['price']}。",
        )
        return Reply(
            speech,
            Card(
                layout="message",
                title="Cheapest first",
                rows=tuple(CardRow(label=line) for line in lines),
            ),
            data=ctx.last,
        )


def _named(ctx: Context, name: str, brand: str, quantity: str, via: str) -> Reply:
    detail = " · ".join(part for part in (brand, quantity) if part)
    speech = ctx.say_in(f"This is {name}{', ' + brand if brand else ''}.", f"这是{name}。")
    card = Card(
        layout="message",
        title=name[:28],
        subtitle=detail,
        rows=(CardRow(label=f"recognised by {via}"),),
    )
    return Reply(speech, card, {"name": name, "via": via})


def _unknown(ctx: Context, found: Identification) -> Reply:
    """An honest "I don't know" that shows what was read, so the wearer can judge."""
    rows = []
    if found.gtin_read:
        rows.append(CardRow(label=f"code {found.gtin_read}"))
    if found.read_text:
        rows.append(CardRow(label=clip(found.read_text, 36)))
    for name, score in found.candidates[:2]:
        rows.append(CardRow(label=clip(name, 28), value=f"{score:.0%}"))
    speech = ctx.say_in("I don't know this product.", "我不认识这个商品。")
    return Reply(
        speech,
        Card(layout="message", title="Unknown product", rows=tuple(rows[:5])),
        {"read_text": found.read_text},
    )


def price_answer(comparison: PriceComparison, language: str = "en") -> Reply:
    product, best = comparison.product, comparison.best
    said = SPEECH[language]
    subtitle = " · ".join(part for part in (product.brand, product.quantity) if part)
    if best is None:
        return Reply(
            speech=said["out_of_stock"].format(name=product.name),
            card=Card(
                layout="price",
                title=product.name,
                subtitle=subtitle,
                rows=(CardRow(label="Out of stock in all stores"),),
            ),
            data={"gtin": product.gtin, "name": product.name, "offers": []},
        )
    rows = [
        CardRow(label=best.store, value=show_price(best.price_cents, best.currency), highlight=True)
    ]
    for offer in [o for o in comparison.offers if o != best][:MAX_OTHER_OFFERS]:
        value = show_price(offer.price_cents, offer.currency) if offer.in_stock else "out of stock"
        rows.append(CardRow(label=offer.store, value=value))
    saving = comparison.saving_cents
    footer = f"Save {show_price(saving, best.currency)} vs. the dearest" if saving else ""
    price = say_price(best.price_cents, best.currency, language)
    speech = said["best"].format(name=product.name, price=price, store=best.store)
    if saving:
        speech += said["saving"].format(saving=say_price(saving, best.currency, language))
    offers = [
        {
            "store": o.store,
            "price": show_price(o.price_cents, o.currency),
            "price_cents": o.price_cents,
            "currency": o.currency,
        }
        for o in sorted(comparison.offers, key=lambda o: o.price_cents)
        if o.in_stock
    ]
    return Reply(
        speech=speech,
        card=Card(
            layout="price", title=product.name, subtitle=subtitle, rows=tuple(rows), footer=footer
        ),
        data={"gtin": product.gtin, "name": product.name, "offers": offers},
    )
