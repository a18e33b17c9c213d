"""Append-only audit log chained by SHA-256: each entry hashes its content and the previous hash.

Editing, inserting or deleting an entry breaks the chain from that point, which `check_chain`
(and `oculi wallet verify`) reports. Triggers stop ordinary updates and deletes outright.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from oculi.services.wallet.store import LEDGER_LOCK, Store

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: float
    action: str
    payment_id: str | None
    detail: Mapping[str, Any]
    hash: str


def entry_hash(
    prev_hash: str, seq: int, at: float, action: str, payment_id: str | None, detail: str
) -> str:
    content = json.dumps([prev_hash, seq, at, action, payment_id, detail], ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def append(
    db: Store,
    action: str,
    *,
    at: float,
    payment_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry inside the caller's write transaction."""
    db.lock(LEDGER_LOCK)  # the chain has one head: appends are serial
    last = db.row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    seq, prev_hash = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
    text = json.dumps(dict(detail or {}), sort_keys=True, ensure_ascii=False)
    digest = entry_hash(prev_hash, seq, at, action, payment_id, text)
    db.run(
        "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq, at, action, payment_id, text, prev_hash, digest),
    )
    return AuditEntry(seq, at, action, payment_id, dict(detail or {}), digest)


def entries(db: Store, payment_id: str | None = None) -> list[AuditEntry]:
    query = "SELECT seq, at, action, payment_id, detail, hash FROM audit_log"
    rows = (
        db.rows(query + " WHERE payment_id = ? ORDER BY seq", (payment_id,))
        if payment_id
        else db.rows(query + " ORDER BY seq")
    )
    return [AuditEntry(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]


def check_chain(db: Store) -> list[str]:
    """Every break in the chain: a gap in sequence numbers, a wrong link, a rewritten entry."""
    problems: list[str] = []
    expected_seq, prev = 1, GENESIS
    rows = db.rows(
        "SELECT seq, at, action, payment_id, detail, prev_hash, hash FROM audit_log ORDER BY seq"
    )
    for seq, at, action, payment_id, detail, prev_hash, digest in rows:
        if seq != expected_seq:
            problems.append(f"audit entry {expected_seq}: missing (next entry is {seq})")
        if prev_hash != prev:
            problems.append(f"audit entry {seq}: does not link to the entry before it")
        if entry_hash(prev_hash, seq, at, action, payment_id, detail) != digest:
            problems.append(f"audit entry {seq}: content does not match its hash (edited)")
        expected_seq, prev = seq + 1, digest
    return problems


def head(db: Store) -> tuple[int, str]:
    """(count, last hash): note it elsewhere to detect a truncated log later."""
    row = db.row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)
