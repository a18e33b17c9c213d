"""The demo catalog Oculi makes for itself: products, stores and offers, no outside data needed.

GTINs use the GS1 prefix 20–29, reserved for in-store numbering, so they never collide with a
real product's code.
"""

from __future__ import annotations

from dataclasses import dataclass

from oculi.vision.gtin import gtin_check_digit


def demo_gtin(number: int) -> str:
    body = f"2042{number:08d}"
    return body + str(gtin_check_digit(body))


@dataclass(frozen=True)
class DemoProduct:
    gtin: str
    name: str
    brand: str
    quantity: str
    category: str
    colour: tuple[int, int, int]
    """Pack colour, for the photos the project draws of it."""
    prices: tuple[tuple[str, int | None], ...]
    """(store id, price in cents, or None when out of stock there)."""


DEMO_STORES: tuple[tuple[str, str], ...] = (
    ("freshmart", "FreshMart"),
    ("quickshop", "QuickShop"),
    ("greengrocer", "Green Grocer"),
    ("depot", "Online Depot"),
)

CURRENCY = "EUR"

DEMO_PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct(demo_gtin(1), "Oat Drink Barista", "Nordic Oats", "1 L", "dairy alternatives",
                (225, 180, 60), (("freshmart", 249), ("quickshop", 229), ("greengrocer", 279),
                                 ("depot", 215))),
    DemoProduct(demo_gtin(2), "Dark Roast Coffee Beans", "Kaffa Hills", "500 g", "coffee",
                (90, 55, 30), (("freshmart", 899), ("quickshop", 949), ("greengrocer", None),
                               ("depot", 829))),
    DemoProduct(demo_gtin(3), "Sparkling Water Lemon", "Clearspring", "6 x 0.5 L", "drinks",
                (40, 150, 200), (("freshmart", 399), ("quickshop", 349), ("greengrocer", 419),
                                 ("depot", None))),
    DemoProduct(demo_gtin(4), "Greek Yoghurt Natural", "Olympia", "500 g", "dairy",
                (30, 90, 170), (("freshmart", 219), ("quickshop", 239), ("greengrocer", 199),
                                ("depot", 249))),
    DemoProduct(demo_gtin(5), "Dark Chocolate 85%", "Cacao & Co", "100 g", "sweets",
                (60, 30, 40), (("freshmart", 289), ("quickshop", 259), ("greengrocer", 319),
                               ("depot", 275))),
    DemoProduct(demo_gtin(6), "Wholegrain Spaghetti", "Campo Verde", "500 g", "pasta",
                (200, 150, 40), (("freshmart", 159), ("quickshop", 149), ("greengrocer", 189),
                                 ("depot", 139))),
    DemoProduct(demo_gtin(7), "Extra Virgin Olive Oil", "Sole d'Oro", "750 ml", "oil",
                (70, 120, 40), (("freshmart", 1099), ("quickshop", 1149), ("greengrocer", 989),
                                ("depot", 1049))),
    DemoProduct(demo_gtin(8), "AA Batteries", "VoltMax", "8 pack", "household",
                (20, 20, 20), (("freshmart", 799), ("quickshop", 649), ("greengrocer", None),
                               ("depot", 599))),
    DemoProduct(demo_gtin(9), "Green Tea Sencha", "Kumo", "20 bags", "tea",
                (60, 140, 80), (("freshmart", 349), ("quickshop", 379), ("greengrocer", 329),
                                ("depot", 359))),
    DemoProduct(demo_gtin(10), "Peanut Butter Crunchy", "Nutty Bros", "350 g", "spreads",
                (180, 110, 50), (("freshmart", 329), ("quickshop", 299), ("greengrocer", 349),
                                 ("depot", 289))),
    DemoProduct(demo_gtin(11), "Basmati Rice", "Himala", "1 kg", "rice",
                (150, 30, 90), (("freshmart", 279), ("quickshop", 259), ("greengrocer", 299),
                                ("depot", 269))),
    DemoProduct(demo_gtin(12), "Sunscreen SPF 50", "Solis", "200 ml", "personal care",
                (240, 120, 20), (("freshmart", 1249), ("quickshop", None), ("greengrocer", 1399),
                                 ("depot", 1099))),
)  # fmt: skip


def demo_product(gtin: str) -> DemoProduct | None:
    return next((p for p in DEMO_PRODUCTS if p.gtin == gtin), None)
