"""The wallet's SQLite file: schema, durable settings and all-or-nothing write transactions.

WAL lets readers run beside the one writer; `BEGIN IMMEDIATE` takes the write lock up front so
two requests never interleave, and `synchronous=FULL` means an acknowledged payment survives a
power cut. Ledger rows and the audit log are append-only, enforced by triggers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from oculi.services.wallet.errors import WalletStoreError

SCHEMA_VERSION = 1
STATES = (
    "created",
    "awaiting_confirmation",
    "authorised",
    "captured",
    "declined",
    "cancelled",
    "expired",
)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS accounts (
    name          TEXT PRIMARY KEY,
    currency      TEXT NOT NULL,
    may_overdraw  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_transactions (
    id         INTEGER PRIMARY KEY,
    at         REAL NOT NULL,
    kind       TEXT NOT NULL,
    payment_id TEXT
);
CREATE TABLE IF NOT EXISTS postings (
    id           INTEGER PRIMARY KEY,
    txn_id       INTEGER NOT NULL REFERENCES ledger_transactions(id),
    account      TEXT NOT NULL REFERENCES accounts(name),
    currency     TEXT NOT NULL,
    amount_minor INTEGER NOT NULL CHECK (amount_minor != 0)
);
CREATE INDEX IF NOT EXISTS postings_account ON postings(account);
CREATE INDEX IF NOT EXISTS postings_txn ON postings(txn_id);
CREATE TABLE IF NOT EXISTS payments (
    id             TEXT PRIMARY KEY,
    state          TEXT NOT NULL CHECK (state IN ({", ".join(f"'{s}'" for s in STATES)})),
    payload        TEXT NOT NULL,
    scheme         TEXT NOT NULL,
    merchant_name  TEXT,
    merchant_city  TEXT,
    country        TEXT NOT NULL,
    payee          TEXT,
    currency       TEXT NOT NULL,
    amount_minor   INTEGER CHECK (amount_minor IS NULL OR amount_minor > 0),
    fee_minor      INTEGER NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
    fixed_amount   INTEGER NOT NULL,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL,
    expires_at     REAL NOT NULL,
    authorised_at  REAL,
    confirmed_by   TEXT,
    reason         TEXT
);
CREATE INDEX IF NOT EXISTS payments_day ON payments(currency, state, authorised_at);
CREATE TABLE IF NOT EXISTS limits (
    currency          TEXT PRIMARY KEY,
    per_payment_minor INTEGER NOT NULL CHECK (per_payment_minor > 0),
    per_day_minor     INTEGER NOT NULL CHECK (per_day_minor > 0)
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key          TEXT PRIMARY KEY,
    operation    TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT NOT NULL,
    created_at   REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_log (
    seq        INTEGER PRIMARY KEY,
    at         REAL NOT NULL,
    action     TEXT NOT NULL,
    payment_id TEXT,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
"""

_APPEND_ONLY = ("ledger_transactions", "postings", "audit_log")


def _triggers() -> str:
    return "".join(
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{verb} BEFORE {verb.upper()} ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;\n"""
        for table in _APPEND_ONLY
        for verb in ("update", "delete")
    )


def connect(path: Path, *, busy_timeout_s: float = 30.0) -> sqlite3.Connection:
    """Open (creating if needed) the wallet file; transactions are explicit (see `write`)."""
    if str(path).startswith(("postgres:", "postgresql:")):
        raise WalletStoreError(
            "PostgreSQL wallets are not implemented yet; give a SQLite file path (see docs)"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None)
    except (sqlite3.Error, OSError) as err:
        raise WalletStoreError(f"cannot open the wallet at {path}: {err}") from err
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            db.executescript(
                f"BEGIN IMMEDIATE;{SCHEMA}{_triggers()}PRAGMA user_version={SCHEMA_VERSION};COMMIT;"
            )
    except sqlite3.Error as err:
        db.close()
        raise WalletStoreError(f"cannot open the wallet at {path}: {err}") from err
    return db


@contextmanager
def write(db: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT; any exception rolls everything back (SQLite errors become
    WalletStoreError), so a failed operation leaves no partial write."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as err:
        raise WalletStoreError(f"wallet is busy or unreadable, nothing written: {err}") from err
    try:
        yield
        db.execute("COMMIT")
    except sqlite3.Error as err:
        _rollback(db)
        raise WalletStoreError(f"wallet write failed, nothing written: {err}") from err
    except BaseException:
        _rollback(db)
        raise


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        db.execute("ROLLBACK")
