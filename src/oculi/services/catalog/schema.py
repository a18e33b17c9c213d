"""The catalog's tables, for SQLite and PostgreSQL, and the in-place upgrade of older SQLite files.

Products have a surrogate integer `key` so the SQLite full-text tables (external content) stay
tied to rows across VACUUM; everything else refers to a product by its stable text `id`.
"""

from __future__ import annotations

SCHEMA_VERSION = 2
"""1: products keyed by GTIN, one offer per store (before photos). 2: ids, photos, packs, FTS."""

_TABLES = """
CREATE TABLE IF NOT EXISTS stores (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS products (
    key         {serial} PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE CHECK (length(id) > 0),
    gtin        TEXT UNIQUE CHECK (gtin IS NULL OR (length(gtin) = 13 AND id = gtin)),
    name        TEXT NOT NULL,
    brand       TEXT NOT NULL DEFAULT '',
    quantity    TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS photos (
    id         {serial} PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE ON UPDATE CASCADE,
    file       TEXT NOT NULL UNIQUE,
    added_at   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS photos_product ON photos(product_id);
CREATE TABLE IF NOT EXISTS offers (
    product_id    TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE ON UPDATE CASCADE,
    store_id      TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    pack_quantity TEXT NOT NULL DEFAULT '',
    price_cents   INTEGER NOT NULL CHECK (price_cents > 0),
    currency      TEXT NOT NULL CHECK (length(currency) = 3),
    in_stock      INTEGER NOT NULL DEFAULT 1,
    updated_at    TEXT NOT NULL,
    url           TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (product_id, store_id, pack_quantity)
);
"""

SQLITE_TABLES = _TABLES.format(serial="INTEGER")
POSTGRES_TABLES = (
    _TABLES.format(serial="BIGSERIAL")
    + """
CREATE TABLE IF NOT EXISTS catalog_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS products_words ON products
    USING GIN (to_tsvector('simple', search_text));
"""
)

SQLITE_SEARCH = """
CREATE VIRTUAL TABLE IF NOT EXISTS products_fts USING fts5(
    name, brand, quantity, category,
    content='products', content_rowid='key', tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS products_trigram USING fts5(
    search_text, content='products', content_rowid='key', tokenize='trigram'
);
CREATE TRIGGER IF NOT EXISTS products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts(rowid, name, brand, quantity, category)
        VALUES (new.key, new.name, new.brand, new.quantity, new.category);
    INSERT INTO products_trigram(rowid, search_text) VALUES (new.key, new.search_text);
END;
CREATE TRIGGER IF NOT EXISTS products_fts_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts(products_fts, rowid, name, brand, quantity, category)
        VALUES ('delete', old.key, old.name, old.brand, old.quantity, old.category);
    INSERT INTO products_trigram(products_trigram, rowid, search_text)
        VALUES ('delete', old.key, old.search_text);
END;
CREATE TRIGGER IF NOT EXISTS products_fts_update AFTER UPDATE ON products BEGIN
    INSERT INTO products_fts(products_fts, rowid, name, brand, quantity, category)
        VALUES ('delete', old.key, old.name, old.brand, old.quantity, old.category);
    INSERT INTO products_trigram(products_trigram, rowid, search_text)
        VALUES ('delete', old.key, old.search_text);
    INSERT INTO products_fts(rowid, name, brand, quantity, category)
        VALUES (new.key, new.name, new.brand, new.quantity, new.category);
    INSERT INTO products_trigram(rowid, search_text) VALUES (new.key, new.search_text);
END;
"""

SQLITE_V1_TO_V2 = """
CREATE TABLE products_v2 (
    key         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE CHECK (length(id) > 0),
    gtin        TEXT UNIQUE CHECK (gtin IS NULL OR (length(gtin) = 13 AND id = gtin)),
    name        TEXT NOT NULL,
    brand       TEXT NOT NULL DEFAULT '',
    quantity    TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL DEFAULT ''
);
INSERT INTO products_v2 (id, gtin, name, brand, quantity, category)
    SELECT gtin, gtin, name, brand, quantity, category FROM products ORDER BY gtin;
CREATE TABLE offers_v2 (
    product_id    TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE ON UPDATE CASCADE,
    store_id      TEXT NOT NULL REFERENCES stores(id) ON DELETE CASCADE,
    pack_quantity TEXT NOT NULL DEFAULT '',
    price_cents   INTEGER NOT NULL CHECK (price_cents > 0),
    currency      TEXT NOT NULL CHECK (length(currency) = 3),
    in_stock      INTEGER NOT NULL DEFAULT 1,
    updated_at    TEXT NOT NULL,
    url           TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (product_id, store_id, pack_quantity)
);
INSERT INTO offers_v2 (product_id, store_id, price_cents, currency, in_stock, updated_at)
    SELECT gtin, store_id, price_cents, currency, in_stock, updated_at FROM offers;
DROP TABLE offers;
DROP TABLE products;
ALTER TABLE products_v2 RENAME TO products;
ALTER TABLE offers_v2 RENAME TO offers;
"""
"""Version 1 (the first catalog files) to 2, run inside one transaction with foreign keys off."""
