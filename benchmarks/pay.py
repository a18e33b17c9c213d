"""Look and pay: how long a scanned code takes to check, and how many confirms a wallet sustains.

Codes are the real payloads of ../shared/data/emvco when present (else generated PIX and PromptPay
codes). Confirms run on a fresh SQLite wallet (WAL, synchronous=FULL), each one a create →
confirm → capture with its own idempotency keys, as the pay app does: once in process, once
through `oculi wallet serve` (its own process, signed requests over one keep-alive connection;
`--set http=0` skips it). PostgreSQL is not implemented yet, so only SQLite is measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from oculi.bench import BenchTable, percentile
from oculi.services.wallet import Confirmation, Wallet, describe_payload, pix_code, promptpay_code
from oculi.services.wallet.signing import DeviceKey, SignedClient

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


ADMIN = "bench-admin-token-0123456789"
SERVE = (
    "import sys; from pathlib import Path; from oculi.services.wallet.server import serve;"
    " serve(Path(sys.argv[1]), port=0, admin_token=sys.argv[2],"
    " out=lambda line: print(line, flush=True))"
)


@contextmanager
def _server(path: Path) -> Iterator[str]:
    """The wallet server in its own process (as deployed); yields its URL once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(path), ADMIN],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if " served at " in line:
                yield line.split(" served at ")[1].strip()
                return
        raise RuntimeError("the wallet server did not start")
    finally:
        process.terminate()
        process.wait(timeout=30)


def _http_payments(
    runs: int, code: str, voice: Confirmation
) -> tuple[list[float], list[float], bool]:
    confirm_s: list[float] = []
    payment_s: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "w.sqlite3"
        with Wallet(path) as wallet:
            wallet.fund("BRL", 10**9, idempotency_key="fund")
            wallet.set_limits("BRL", per_payment_minor=10**6, per_day_minor=10**9)
        with _server(path) as url, SignedClient(url, DeviceKey.generate()) as client:
            client.register(admin_token=ADMIN)
            for i in range(runs):
                start = time.perf_counter()
                intent = client.create_payment(code, idempotency_key=f"create-{i}")
                confirmed = time.perf_counter()
                client.confirm(intent.id, idempotency_key=f"confirm-{i}", confirmation=voice)
                confirm_s.append(time.perf_counter() - confirmed)
                client.capture(intent.id, idempotency_key=f"capture-{i}")
                payment_s.append(time.perf_counter() - start)
            intact = not client.verify()
    return confirm_s, payment_s, intact


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
    http = options.get("http", "1") not in ("0", "no", "false")
    http_confirm_s, http_payment_s, http_intact = (
        _http_payments(runs, code, voice) if http else ([], [], True)
    )
    table = BenchTable(
        NAME,
        "Look and pay: parse and confirm",
        ["measure", "n", "p50 ms", "p99 ms", "per second"],
        samples_ms={
            "parse": [s * 1000 for s in parse_s],
            "confirm": [s * 1000 for s in confirm_s],
            **({"confirm_http": [s * 1000 for s in http_confirm_s]} if http else {}),
        },
    )
    table.rows += [
        _row("parse one payload", parse_s),
        _row("confirm (SQLite)", confirm_s),
        _row("create+confirm+capture (SQLite)", payment_s),
    ]
    if http:
        table.rows += [
            _row("confirm (HTTP, signed)", http_confirm_s),
            _row("create+confirm+capture (HTTP, signed)", http_payment_s),
        ]
    table.notes += [
        f"codes: {source}, each parsed {runs} times",
        "wallet: SQLite WAL, synchronous=FULL, one connection, sequential (sustained rate)",
        f"wallet verify after the run: {'intact' if intact and http_intact else 'PROBLEMS FOUND'}",
        "HTTP: `oculi wallet serve` in its own process on loopback, one client, sequential;"
        " each request also records its nonce (one more fsync)"
        if http
        else "HTTP: skipped",
        "PostgreSQL: not implemented yet",
    ]
    return [table]
