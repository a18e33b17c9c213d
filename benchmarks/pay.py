"""Look and pay: how long a scanned code takes to check, and how many confirms a wallet sustains.

Codes are the real payloads of ../shared/data/emvco when present (else generated PIX and PromptPay
codes). Confirms run on a fresh SQLite wallet (WAL, synchronous=FULL), each one a create →
confirm → capture with its own idempotency keys, as the pay app does. PostgreSQL is not
implemented yet, so only SQLite is measured.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from oculi.bench import BenchTable, percentile
from oculi.services.wallet import Confirmation, Wallet, describe_payload, pix_code, promptpay_code

NAME = "pay"
DESCRIPTION = "merchant-code parse time per payload; wallet confirms per second with p50/p99"
PAYLOADS = Path(__file__).resolve().parents[2] / "shared" / "data" / "emvco" / "payloads.json"


def _payloads() -> tuple[list[str], str]:
    if PAYLOADS.is_file():
        entries = json.loads(PAYLOADS.read_text(encoding="utf-8"))["entries"]
        return [e["payload"] for e in entries], f"{len(entries)} real payloads ({PAYLOADS.name})"
    codes = [promptpay_code(f"08{i:08d}", amount=f"{i}.50") for i in range(1, 21)]
    codes += [pix_code(f"shop{i}@example.com", merchant_name="SHOP", merchant_city="RIO",
                       amount=f"{i}.00") for i in range(1, 21)]  # fmt: skip
    return codes, "40 generated PIX and PromptPay codes (shared data not found)"


def _row(label: str, seconds: list[float]) -> list[object]:
    ms = [s * 1000 for s in seconds]
    per_s = len(ms) / (sum(seconds) or 1e-9)
    return [label, len(ms), round(percentile(ms, 50), 3), round(percentile(ms, 99), 3),
            round(per_s, 1)]  # fmt: skip


def run(runs: int, advance: Callable[[], None], options: dict[str, str]) -> list[BenchTable]:
    payloads, source = _payloads()
    parse_s: list[float] = []
    confirm_s: list[float] = []
    payment_s: list[float] = []
    code = pix_code("cafe@example.com", merchant_name="CAFE", merchant_city="RIO", amount="1.00")
    voice = Confirmation("voice", own_voice=True)
    with tempfile.TemporaryDirectory() as folder, Wallet(Path(folder) / "w.sqlite3") as wallet:
        wallet.fund("BRL", 10**9, idempotency_key="fund")
        wallet.set_limits("BRL", per_payment_minor=10**6, per_day_minor=10**9)
        for i in range(runs):
            for payload in payloads:
                start = time.perf_counter()
                describe_payload(payload)
                parse_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            intent = wallet.create_payment(code, idempotency_key=f"create-{i}")
            confirmed = time.perf_counter()
            wallet.confirm(intent.id, idempotency_key=f"confirm-{i}", confirmation=voice)
            confirm_s.append(time.perf_counter() - confirmed)
            wallet.capture(intent.id, idempotency_key=f"capture-{i}")
            payment_s.append(time.perf_counter() - start)
            advance()
        intact = not wallet.verify()
    table = BenchTable(
        NAME,
        "Look and pay: parse and confirm",
        ["measure", "n", "p50 ms", "p99 ms", "per second"],
        samples_ms={
            "parse": [s * 1000 for s in parse_s],
            "confirm": [s * 1000 for s in confirm_s],
        },
    )
    table.rows += [
        _row("parse one payload", parse_s),
        _row("confirm (SQLite)", confirm_s),
        _row("create+confirm+capture (SQLite)", payment_s),
    ]
    table.notes += [
        f"codes: {source}, each parsed {runs} times",
        "wallet: SQLite WAL, synchronous=FULL, one connection, sequential (sustained rate)",
        f"wallet verify after the run: {'intact' if intact else 'PROBLEMS FOUND'}",
        "PostgreSQL: not implemented yet",
    ]
    return [table]
