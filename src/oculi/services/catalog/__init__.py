"""The product catalog service: products, photos, offers from several stores, text search."""

from __future__ import annotations

from oculi.services.catalog.model import NewOffer, Offer, PriceComparison, Product, rank_offers
from oculi.services.catalog.search import MIN_SCORE
from oculi.services.catalog.store import Catalog, init_catalog, is_database_url, open_catalog

__all__ = [
    "MIN_SCORE",
    "Catalog",
    "NewOffer",
    "Offer",
    "PriceComparison",
    "Product",
    "init_catalog",
    "is_database_url",
    "open_catalog",
    "rank_offers",
]
