"""Test data drawn here rather than shipped: pack photos, and a catalog file in the first schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PIL import Image

V1_SCHEMA = """
CREATE TABLE stores (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE products (
    gtin     TEXT PRIMARY KEY CHECK (length(gtin) = 13),
    name     TEXT NOT NULL,
    brand    TEXT NOT NULL DEFAULT '',
    quantity TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT ''
);
CREATE TABLE offers (
    gtin        TEXT NOT NULL REFERENCES products(gtin) ON DELETE CASCADE,
    store_id    TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    price_cents INTEGER NOT NULL CHECK (price_cents > 0),
    currency    TEXT NOT NULL,
    in_stock    INTEGER NOT NULL DEFAULT 1,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (gtin, store_id)
);
"""
"""The schema the first catalog code (one catalog.py module) created, copied verbatim."""


def draw_photo(path: Path, colour: tuple[int, int, int], size: int = 64) -> Path:
    """A small JPEG of one colour with a stripe, so every photo has different bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (size, size), colour)
    image.paste((255 - colour[0], 255 - colour[1], 255 - colour[2]), (0, 0, size, size // 4))
    image.save(path, "JPEG")
    return path


def write_v1_catalog(path: Path, offers: list[tuple[str, str, int, str, int]]) -> None:
    """A catalog file as the first catalog code wrote it: WAL, no user_version."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(V1_SCHEMA)
        with db:
            db.executemany(
                "INSERT INTO stores VALUES (?, ?)", [("corner", "Corner Shop"), ("depot", "Depot")]
            )
            db.executemany(
                "INSERT INTO products VALUES (?, ?, ?, ?, ?)",
                [
                    ("4006381333931", "Oat Drink", "Oatly", "1 l", "plant milk"),
                    ("5449000000996", "Crème Brûlée", "Dessert Co", "2 x 100 g", "desserts"),
                ],
            )
            db.executemany(
                "INSERT INTO offers VALUES (?, ?, ?, ?, ?, '2025-01-01T00:00:00+00:00')", offers
            )
    finally:
        db.close()
