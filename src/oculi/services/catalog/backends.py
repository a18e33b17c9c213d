"""The two databases a catalog can live in, behind one small SQL surface.

Catalog code writes portable SQL with `?` placeholders and `ON CONFLICT` upserts; a backend runs
it, owns transactions (nested ones become savepoints, so one bad row can be undone without
losing the file's transaction) and answers the one thing SQL dialects disagree on: full-text
candidates.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from oculi.errors import CatalogError, ConfigError
from oculi.services.catalog.schema import (
    POSTGRES_TABLES,
    SCHEMA_VERSION,
    SQLITE_SEARCH,
    SQLITE_TABLES,
    SQLITE_V1_TO_V2,
)
from oculi.services.catalog.search import CANDIDATES, Query, search_text_of

Row = tuple[Any, ...]


class Backend:
    """Shared transaction handling; subclasses connect and search."""

    kind = ""
    errors: tuple[type[Exception], ...] = ()
    _begin = "BEGIN"

    def __init__(self) -> None:
        self._depth = 0

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        raise NotImplementedError

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def word_candidates(self, query: Query, limit: int = CANDIDATES) -> list[int]:
        """Product keys sharing a word (or a 4-letter prefix) with what was read, best first."""
        raise NotImplementedError

    def fuzzy_candidates(self, query: Query, limit: int = CANDIDATES) -> list[int]:
        """Product keys sharing three-letter pieces with what was read (misspellings, CJK)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; inside another transaction, a savepoint that can fail on its own."""
        self._depth += 1
        savepoint = f"sp{self._depth}"
        try:
            self.run(self._begin if self._depth == 1 else f"SAVEPOINT {savepoint}")
        except BaseException:
            self._depth -= 1
            raise
        try:
            yield
        except BaseException:
            if self._depth == 1:
                self.run("ROLLBACK")
            else:
                self.run(f"ROLLBACK TO SAVEPOINT {savepoint}")
                self.run(f"RELEASE SAVEPOINT {savepoint}")
            raise
        else:
            self.run("COMMIT" if self._depth == 1 else f"RELEASE SAVEPOINT {savepoint}")
        finally:
            self._depth -= 1


class SQLiteBackend(Backend):
    """A catalog file in WAL mode, with FTS5 tables kept in step by triggers."""

    kind = "sqlite"
    errors = (sqlite3.Error,)
    _begin = "BEGIN IMMEDIATE"

    def __init__(self, path: Path) -> None:
        super().__init__()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # apps look products up from a worker thread while OCR runs off the event loop;
            # a session uses its catalog from one place at a time (the bus serialises events)
            self._db = sqlite3.connect(
                path, isolation_level=None, timeout=10, check_same_thread=False
            )
        except (sqlite3.Error, OSError) as err:
            raise CatalogError(f"cannot open the catalog at {path}: {err}") from err
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._prepare(path)
            self._db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as err:
            self._db.close()
            raise CatalogError(f"cannot open the catalog at {path}: {err}") from err

    def _prepare(self, path: Path) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise CatalogError(
                f"{path} was written by a newer Oculi (catalog schema {version}, "
                f"this one knows up to {SCHEMA_VERSION}); upgrade Oculi to open it"
            )
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master")}
        with self.transaction():
            if "products" in tables:
                columns = {r[1] for r in self._db.execute("PRAGMA table_info(products)")}
                if "id" in columns or "gtin" not in columns:
                    raise CatalogError(f"{path} holds tables this Oculi does not recognise")
                self._script(SQLITE_V1_TO_V2)
            self._script(SQLITE_TABLES)
            rows = self.query("SELECT key, name, brand, quantity, category FROM products")
            self.run_many(
                "UPDATE products SET search_text = ? WHERE key = ?",
                [(search_text_of(r[1], r[2], r[3], r[4]), r[0]) for r in rows],
            )
            self._script(SQLITE_SEARCH)
            self.run("INSERT INTO products_fts(products_fts) VALUES ('rebuild')")
            self.run("INSERT INTO products_trigram(products_trigram) VALUES ('rebuild')")
            if self.query("PRAGMA foreign_key_check"):
                raise CatalogError(f"{path}: offers refer to missing products or stores")
            self.run(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _script(self, script: str) -> None:
        """Run DDL statement by statement, inside the open transaction (executescript would
        commit first)."""
        for statement in _statements(script):
            self._db.execute(statement)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._db.execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._db.execute(sql, params)

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def word_candidates(self, query: Query, limit: int = CANDIDATES) -> list[int]:
        if not (match := query.fts_match()):
            return []
        rows = self.query(
            "SELECT rowid FROM products_fts WHERE products_fts MATCH ? ORDER BY rank LIMIT ?",
            (match, limit),
        )
        return [int(r[0]) for r in rows]

    def fuzzy_candidates(self, query: Query, limit: int = CANDIDATES) -> list[int]:
        if not (grams := query.trigrams()):
            return []
        rows = self.query(
            "SELECT rowid FROM products_trigram WHERE products_trigram MATCH ? "
            "ORDER BY rank LIMIT ?",
            (" OR ".join(f'"{g}"' for g in grams), limit),
        )
        return [int(r[0]) for r in rows]

    def close(self) -> None:
        self._db.close()


def _statements(script: str) -> list[str]:
    """Split DDL on the semicolons that end statements (not those inside trigger bodies)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


class PostgresBackend(Backend):
    """A catalog in a PostgreSQL database: full text over a normalised column, plus substring
    (trigram) matching, indexed when the server has pg_trgm."""

    kind = "postgresql"

    def __init__(self, url: str) -> None:
        super().__init__()
        try:
            import psycopg
        except ImportError as err:
            raise ConfigError(
                f"catalog.path {_redact(url)!r} needs the psycopg package (pip install "
                "'psycopg[binary]>=3.1')"
            ) from err
        self.errors = (psycopg.Error,)
        try:
            self._db = psycopg.connect(url, autocommit=True)
        except psycopg.Error as err:
            raise CatalogError(f"cannot connect to the catalog at {_redact(url)}: {err}") from err
        try:
            self._prepare()
        except psycopg.Error as err:
            self._db.close()
            raise CatalogError(f"cannot prepare the catalog at {_redact(url)}: {err}") from err

    def _prepare(self) -> None:
        with self.transaction():
            self.run("SELECT pg_advisory_xact_lock(4242001)")
            for statement in _statements(POSTGRES_TABLES):
                self.run(statement)
            self.run(
                "INSERT INTO catalog_meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
                (str(SCHEMA_VERSION),),
            )
            (version,) = self.query("SELECT value FROM catalog_meta WHERE key = 'schema_version'")[
                0
            ]
            if int(version) != SCHEMA_VERSION:
                raise CatalogError(
                    f"the catalog database has schema {version}; this Oculi knows {SCHEMA_VERSION}"
                )
            try:
                with self.transaction():
                    self.run("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    self.run(
                        "CREATE INDEX IF NOT EXISTS products_trigrams ON products "
                        "USING GIN (search_text gin_trgm_ops)"
                    )
            except self.errors:
                pass  # substring search still works, by scanning

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._db.cursor() as cursor:
            cursor.execute(_pg(sql), params)
            return list(cursor.fetchall()) if cursor.description else []

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._db.execute(_pg(sql), params)

    def run_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(_pg(sql), list(rows))

    def word_candidates(self, query: Query, limit: int = CANDIDATES) -> list[int]:
        if not (tsquery := query.tsquery()):
            return []
        rows = self.query(
            "SELECT key FROM products "
            "WHERE to_tsvector('simple', search_text) @@ to_tsquery('simple', ?) "
            "ORDER BY ts_rank(to_tsvector('simple', search_text), "
            "to_tsquery('simple', ?)) DESC LIMIT ?",
            (tsquery, tsquery, limit),
        )
        return [int(r[0]) for r in rows]

    def fuzzy_candidates(self, query: Query, limit: int = CANDIDATES) -> list[int]:
        if not (grams := query.trigrams()):
            return []
        patterns = [f"%{g}%" for g in grams]
        rows = self.query(
            "SELECT key FROM products WHERE search_text LIKE ANY(?) "
            "ORDER BY (SELECT count(*) FROM unnest(?::text[]) AS p(pattern) "
            "WHERE search_text LIKE p.pattern) DESC LIMIT ?",
            (patterns, patterns, limit),
        )
        return [int(r[0]) for r in rows]

    def close(self) -> None:
        self._db.close()


def _pg(sql: str) -> str:
    """Our `?` placeholders in psycopg's style (the SQL we write has no literal ? or %)."""
    return sql.replace("?", "%s")


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)
