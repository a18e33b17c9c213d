"""Look and pay: how long a scanned code takes to check, and how many confirms a wallet sustains.

Codes are the real payloads of ../shared/data/emvco when present (else generated PIX and PromptPay
codes). Confirms run on a fresh wallet, each one a create → confirm → capture with its own
idempotency keys, as the pay app does: once in process; once from 4 threads at once, each with
its own connection (how much the locks serialise); and once through `oculi wallet serve` (its
own process, signed requests over one keep-alive connection; `--set http=0` skips it).

Backends: SQLite (WAL, synchronous=FULL) always; PostgreSQL too when `--set pg_url=postgresql://…`
is given (the wallet goes into a new schema there, dropped afterwards) or, without it, when the
`pgserver` package can start a local server (`--set pg=0` skips PostgreSQL).
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from oculi.bench import BenchTable, percentile
from oculi.services.wallet import Confirmation, Wallet, describe_payload, pix_code, promptpay_code
from oculi.services.wallet.signing import DeviceKey, SignedClient
from oculi.services.wallet.store import describe

NAME = "pay"
DESCRIPTION = "merchant-code parse time per payload; wallet confirms per second with p50/p99"
PAYLOADS = Path(__file__).resolve().parents[2] / "shared" / "data" / "emvco" / "payloads.json"
CODE = pix_code("cafe@example.com", merchant_name="CAFE", merchant_city="RIO", amount="1.00")
VOICE = Confirmation("voice", own_voice=True)
THREADS = 4


def _payloads() -> tuple[list[str], str]:
    if PAYLOADS.is_file():
        entries = json.loads(PAYLOADS.read_text(encoding="utf-8"))["entries"]
        return [e["payload"] for e in entries], f"{len(entries)} real payloads ({PAYLOADS.name})"
    codes = [promptpay_code(f"08{i:08d}", amount=f"{i}.50") for i in range(1, 21)]
    codes += [pix_code(f"shop{i}@example.com", merchant_name="SHOP", merchant_city="RIO",
                       amount=f"{i}.00") for i in range(1, 21)]  # fmt: skip
    return codes, "40 generated PIX and PromptPay codes (shared data not found)"


def _row(label: str, seconds: list[float], wall_s: float | None = None) -> list[object]:
    """n, p50 and p99 in ms, and per second: sequential (n / total) or over `wall_s`."""
    ms = [s * 1000 for s in seconds]
    per_s = len(ms) / ((sum(seconds) if wall_s is None else wall_s) or 1e-9)
    return [label, len(ms), round(percentile(ms, 50), 3), round(percentile(ms, 99), 3),
            round(per_s, 1)]  # fmt: skip


# --- where the wallets live ----------------------------------------------------------------------


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield str(Path(folder) / "w.sqlite3")


@contextmanager
def _postgres(options: dict[str, str]) -> Iterator[tuple[str, str] | str]:
    """A URL for an empty wallet and what it is, or why PostgreSQL is not measured."""
    if options.get("pg", "1") in ("0", "no", "false"):
        yield "skipped (--set pg=0)"
    elif options.get("pg_url"):
        with _schema(options["pg_url"]) as url:
            yield url, f"{describe(options['pg_url'])}, a fresh schema"
    else:
        with _pgserver() as found:
            yield found


@contextmanager
def _schema(base: str) -> Iterator[str]:
    """A new schema in the given database, the URL pointing into it, dropped afterwards."""
    import psycopg

    name = f"oculi_bench_pay_{secrets.token_hex(4)}"
    parts = urlsplit(base)
    query = dict(parse_qsl(parts.query))
    query["options"] = f"{query.get('options', '')} -csearch_path={name}".strip()
    with psycopg.connect(base, autocommit=True) as db:
        db.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield urlunsplit(parts._replace(query=urlencode(query)))
    finally:
        with psycopg.connect(base, autocommit=True) as db:
            db.execute(f'DROP SCHEMA "{name}" CASCADE')


@contextmanager
def _pgserver() -> Iterator[tuple[str, str] | str]:
    try:
        pgserver = importlib.import_module("pgserver")
    except ImportError:
        yield "skipped (give --set pg_url=postgresql://…, or install pgserver)"
        return
    folder = Path(tempfile.mkdtemp(prefix="oculi-bench-pg-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                server = pgserver.get_server(folder, cleanup_mode="stop")
            except Exception as err:
                yield f"skipped (pgserver could not start a server: {err})"
                return
        try:
            version = _server_version(server.get_uri())
            yield server.get_uri(), f"local server from pgserver ({version}, Unix socket)"
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


def _funded(target: str) -> None:
    with Wallet(target) as wallet:
        wallet.fund("BRL", 10**9, idempotency_key="fund")
        wallet.set_limits("BRL", per_payment_minor=10**6, per_day_minor=10**9)


# --- the measures --------------------------------------------------------------------------------


def _pay(wallet: Wallet | SignedClient, key: str) -> tuple[float, float]:
    """One create → confirm → capture; (confirm seconds, whole payment seconds)."""
    start = time.perf_counter()
    intent = wallet.create_payment(CODE, idempotency_key=f"create-{key}")
    confirmed = time.perf_counter()
    wallet.confirm(intent.id, idempotency_key=f"confirm-{key}", confirmation=VOICE)
    confirm_s = time.perf_counter() - confirmed
    wallet.capture(intent.id, idempotency_key=f"capture-{key}")
    return confirm_s, time.perf_counter() - start


def _in_process(
    target: str, runs: int, between: Callable[[], None]
) -> tuple[list[float], list[float], bool]:
    confirm_s: list[float] = []
    payment_s: list[float] = []
    with Wallet(target) as wallet:
        for i in range(runs):
            confirm, payment = _pay(wallet, str(i))
            confirm_s.append(confirm)
            payment_s.append(payment)
            between()
        intact = not wallet.verify()
    return confirm_s, payment_s, intact


def _threaded(target: str, runs: int) -> tuple[list[float], float]:
    """THREADS threads, each with its own connection, paying at once; payment times and wall."""
    per_thread = max(runs // THREADS, 1)
    payment_s: list[float] = []
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS + 1)

    def work(t: int) -> None:
        try:
            with Wallet(target) as wallet:
                start.wait()
                for i in range(per_thread):
                    payment_s.append(_pay(wallet, f"t{t}-{i}")[1])
        except BaseException as err:  # reported below, not lost in the thread
            failures.append(err)
            start.abort()

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"a paying thread failed: {failures[0]}") from failures[0]
    return payment_s, time.perf_counter() - began


ADMIN = "bench-admin-token-0123456789"
SERVE = (
    "import sys; from oculi.services.wallet.server import serve;"
    " serve(sys.argv[1], port=0, admin_token=sys.argv[2],"
    " out=lambda line: print(line, flush=True))"
)


@contextmanager
def _server(target: str) -> Iterator[str]:
    """The wallet server in its own process (as deployed); yields its URL once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, target, ADMIN],
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


def _http(target: str, runs: int) -> tuple[list[float], list[float], bool]:
    confirm_s: list[float] = []
    payment_s: list[float] = []
    with _server(target) as url, SignedClient(url, DeviceKey.generate()) as client:
        client.register(admin_token=ADMIN)
        for i in range(runs):
            confirm, payment = _pay(client, f"http-{i}")
            confirm_s.append(confirm)
            payment_s.append(payment)
        intact = not client.verify()
    return confirm_s, payment_s, intact


def _measure(
    label: str, target: str, runs: int, http: bool, between: Callable[[], None]
) -> tuple[list[list[object]], dict[str, list[float]], bool]:
    """The rows and raw samples of one backend, and whether its wallet verified intact."""
    _funded(target)
    confirm_s, payment_s, intact = _in_process(target, runs, between)
    threaded_s, wall_s = _threaded(target, runs)
    rows = [
        _row(f"confirm ({label})", confirm_s),
        _row(f"create+confirm+capture ({label})", payment_s),
        _row(f"create+confirm+capture, {THREADS} threads ({label})", threaded_s, wall_s),
    ]
    key = label.lower()
    samples = {f"confirm_{key}": confirm_s, f"payment_{key}_threads": threaded_s}
    if http:
        http_confirm_s, http_payment_s, http_intact = _http(target, runs)
        intact = intact and http_intact
        rows += [
            _row(f"confirm (HTTP, signed, {label})", http_confirm_s),
            _row(f"create+confirm+capture (HTTP, signed, {label})", http_payment_s),
        ]
        samples[f"confirm_{key}_http"] = http_confirm_s
    with Wallet(target) as wallet:
        intact = intact and not wallet.verify()
    return rows, {k: [s * 1000 for s in v] for k, v in samples.items()}, intact


def run(runs: int, advance: Callable[[], None], options: dict[str, str]) -> list[BenchTable]:
    payloads, source = _payloads()
    parse_s: list[float] = []

    def parse_all() -> None:
        for payload in payloads:
            start = time.perf_counter()
            describe_payload(payload)
            parse_s.append(time.perf_counter() - start)
        advance()

    http = options.get("http", "1") not in ("0", "no", "false")
    with _sqlite() as target:
        rows, samples, intact = _measure("SQLite", target, runs, http, parse_all)
    notes = [
        f"codes: {source}, each parsed {runs} times",
        "SQLite: WAL, synchronous=FULL, one connection per wallet",
    ]
    with _postgres(options) as postgres:
        if isinstance(postgres, str):
            notes.append(f"PostgreSQL: {postgres}")
        else:
            url, what = postgres
            pg_rows, pg_samples, pg_intact = _measure("PostgreSQL", url, runs, http, lambda: None)
            rows += pg_rows
            samples |= pg_samples
            intact = intact and pg_intact
            notes.append(
                f"PostgreSQL: {what}; READ COMMITTED, synchronous_commit=on, one connection"
                " per wallet"
            )
    table = BenchTable(
        NAME,
        "Look and pay: parse and confirm",
        ["measure", "n", "p50 ms", "p99 ms", "per second"],
        samples_ms={"parse": [s * 1000 for s in parse_s], **samples},
    )
    table.rows = [_row("parse one payload", parse_s), *rows]
    table.notes = [
        *notes,
        "in process: one wallet, sequential (the sustained rate); threads: "
        f"{THREADS} wallets (connections) paying at once, per second over the wall-clock time",
        "HTTP: `oculi wallet serve` in its own process on loopback, one client, sequential;"
        " each request also records its nonce (one more commit)"
        if http
        else "HTTP: skipped",
        f"wallets verified after the runs: {'intact' if intact else 'PROBLEMS FOUND'}",
    ]
    return [table]
