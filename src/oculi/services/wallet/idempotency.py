"""Idempotency keys with Stripe's semantics, kept in the same transaction as the effect.

Same key and same request → the stored result, nothing runs again; same key and a different
request → a conflict error; two requests racing with one key → the second waits for the first
to commit (SQLite: the file's write lock; PostgreSQL: an advisory lock on the key, with the
key's primary key behind it), then reads the first's result. A refused request (an error
raised) rolls back and stores nothing, so the key may be retried.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oculi.errors import PaymentError
from oculi.services.wallet.store import Store

MAX_KEY_CHARS = 255
RETENTION_S = 24 * 3600.0
"""Stripe keeps keys a day; `prune` drops older ones (a retry after that runs anew)."""


@dataclass(frozen=True)
class StoredResult:
    operation: str
    request_hash: str
    response: dict[str, Any]


def check_key(key: str) -> None:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_CHARS:
        raise PaymentError(f"idempotency key must be 1–{MAX_KEY_CHARS} characters of text")


def request_hash(operation: str, params: Mapping[str, Any]) -> str:
    canonical = json.dumps([operation, dict(params)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def claim(db: Store, key: str) -> StoredResult | None:
    """Inside the write transaction: wait for any other request holding `key` to end, then its
    stored result (None when the key is new, and this request runs)."""
    db.lock(f"idempotency-key\0{key}")
    return lookup(db, key)


def lookup(db: Store, key: str) -> StoredResult | None:
    row = db.row(
        "SELECT operation, request_hash, response FROM idempotency_keys WHERE key = ?", (key,)
    )
    return StoredResult(row[0], row[1], json.loads(row[2])) if row else None


def remember(
    db: Store,
    key: str,
    operation: str,
    digest: str,
    response: Mapping[str, Any],
    at: float,
) -> None:
    db.run(
        "INSERT INTO idempotency_keys VALUES (?, ?, ?, ?, ?)",
        (key, operation, digest, json.dumps(dict(response), sort_keys=True), at),
    )


def prune(db: Store, now: float, retention_s: float = RETENTION_S) -> int:
    """Forget keys older than the retention window; returns how many."""
    return db.run("DELETE FROM idempotency_keys WHERE created_at < ?", (now - retention_s,))
