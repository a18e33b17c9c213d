"""What the catalog answers with: products, store offers, and a product's offers compared.

Prices are integer minor units (cents), never floats; unit prices are minor units per litre, kg
or item, and only ever used to rank and to state a saving.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from oculi.errors import CatalogError
from oculi.services.units import Quantity, parse_quantity

RankedBy = Literal["price", "unit_price"]


@dataclass(frozen=True)
class Product:
    gtin: str | None
    """The normalised GTIN-13, or None for a product known only by its photos or name."""
    name: str
    brand: str = ""
    quantity: str = ""
    """The pack quantity as printed: "6 x 330 ml", "500 g"."""
    category: str = ""
    id: str = ""
    """Stable key: the GTIN-13 when known (filled in from it), else e.g. "photo:<folder>"."""

    def __post_init__(self) -> None:
        if not self.id:
            if not self.gtin:
                raise CatalogError(f"product {self.name!r} needs a GTIN or an id")
            object.__setattr__(self, "id", self.gtin)


@dataclass(frozen=True)
class Offer:
    store_id: str
    store: str
    price_cents: int
    currency: str
    in_stock: bool
    pack_quantity: str = ""
    """What this price buys when it is not the product's own pack ("6 x 330 ml")."""
    url: str = ""
    updated: str = ""
    """ISO date the price was seen."""
    quantity: Quantity | None = None
    """The pack this price buys, parsed; None when it cannot be read."""

    @property
    def unit_price(self) -> float | None:
        """Minor units per litre, kg or item."""
        if self.quantity is None or self.quantity.amount <= 0:
            return None
        return self.price_cents / self.quantity.amount


@dataclass(frozen=True)
class NewOffer:
    """An offer to write: what an import row or `Catalog.add` caller says a store charges."""

    product_id: str
    store_id: str
    price_cents: int
    currency: str
    in_stock: bool = True
    pack_quantity: str = ""
    updated: str = ""
    """ISO date; today when empty."""
    url: str = ""


@dataclass(frozen=True)
class PriceComparison:
    """A product's offers, best in-stock first, and what the best one saves."""

    product: Product
    offers: tuple[Offer, ...]
    ranked_by: RankedBy = "price"
    """"unit_price" when every in-stock offer's pack quantity could be read, else "price"."""
    shelf_price_cents: int | None = None
    """The price on the shelf tag in front of the wearer, when it was read."""

    @property
    def available(self) -> tuple[Offer, ...]:
        return tuple(o for o in self.offers if o.in_stock)

    @property
    def best(self) -> Offer | None:
        return self.available[0] if self.available else None

    @property
    def saving_cents(self) -> int:
        """Best offer against the dearest in-stock one (same currency), for the best's pack."""
        best = self.best
        if best is None:
            return 0
        same = [o for o in self.available if o.currency == best.currency]
        worst = same[-1]
        if self.ranked_by == "unit_price" and best.quantity and worst.unit_price is not None:
            return round(worst.unit_price * best.quantity.amount) - best.price_cents
        return worst.price_cents - best.price_cents

    @property
    def shelf_saving_cents(self) -> int | None:
        """Shelf price minus what the same pack costs at the best offer (by unit price when
        both quantities are known); negative when the shelf is the better deal."""
        best = self.best
        if best is None or self.shelf_price_cents is None:
            return None
        shelf = parse_quantity(self.product.quantity)
        unit_price = best.unit_price
        if (
            shelf is not None
            and unit_price is not None
            and best.quantity is not None
            and best.quantity.unit == shelf.unit
        ):
            return self.shelf_price_cents - round(unit_price * shelf.amount)
        return self.shelf_price_cents - best.price_cents


def rank_offers(
    product: Product,
    offers: list[Offer],
    shelf_price_cents: int | None = None,
    *,
    unit_prices: bool = True,
) -> PriceComparison:
    """Best first: by unit price when every in-stock offer in the main currency has a readable
    quantity of one kind (litres, kg or items), else by price; out-of-stock offers last."""
    in_stock = [o for o in offers if o.in_stock]
    currencies = [o.currency for o in in_stock] or [o.currency for o in offers]
    main = max(set(currencies), key=lambda c: (currencies.count(c), c)) if currencies else ""
    comparable = [o for o in in_stock if o.currency == main]
    units = {o.quantity.unit if o.quantity else None for o in comparable}
    by_unit = unit_prices and bool(comparable) and None not in units and len(units) == 1
    ranked_by: RankedBy = "unit_price" if by_unit else "price"

    def key(offer: Offer) -> tuple[bool, bool, float, str]:
        value = offer.unit_price if by_unit and offer.unit_price is not None else offer.price_cents
        return (not offer.in_stock, offer.currency != main, float(value), offer.store)

    return PriceComparison(product, tuple(sorted(offers, key=key)), ranked_by, shelf_price_cents)
