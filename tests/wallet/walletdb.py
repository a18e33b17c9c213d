"""Reading and tampering with a wallet's tables behind its back, on either backend."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from oculi.services.wallet.store import APPEND_ONLY, is_postgres, postgres_url

TABLES = ("payments", "postings", "audit_log", "idempotency_keys", "ledger_transactions")


@contextmanager
def raw(target: Path | str) -> Iterator[Any]:
    """A plain driver connection (sqlite3 or psycopg) in autocommit mode; `.execute(sql)`."""
    if is_postgres(target):
        import psycopg

        with psycopg.connect(postgres_url(target), autocommit=True) as pg:
            yield pg
        return
    db = sqlite3.connect(target, isolation_level=None)
    try:
        yield db
    finally:
        db.close()


def scalar(target: Path | str, sql: str) -> int:
    with raw(target) as db:
        return int(db.execute(sql).fetchone()[0])


def counts(target: Path | str) -> dict[str, int]:
    """Row counts of everything a wallet operation writes."""
    return {t: scalar(target, f"SELECT count(*) FROM {t}") for t in TABLES}


def driver_errors(target: Path | str) -> tuple[type[Exception], ...]:
    """What the driver raises when the database refuses a statement."""
    if is_postgres(target):
        import psycopg

        return (psycopg.Error,)
    return (sqlite3.Error,)


def tamper(target: Path | str, *statements: str) -> None:
    """Drop the append-only triggers, then run `statements`: what someone with the database's
    password (or the file) could do."""
    with raw(target) as db:
        for table in APPEND_ONLY:
            for verb in ("update", "delete", "truncate"):
                if is_postgres(target):
                    db.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb} ON {table}")
                else:
                    db.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        for statement in statements:
            db.execute(statement)
