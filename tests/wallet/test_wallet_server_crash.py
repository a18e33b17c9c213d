"""kill -9 `oculi wallet serve` in the middle of a stream of signed payments, restart it, retry
every key: the ledger balances, every acknowledged capture is there, nothing is charged twice,
and a nonce seen before the crash is still refused after it. On SQLite and PostgreSQL (the
server started with `--db postgresql://…`)."""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from walletdb import raw

from oculi.services.wallet.emvco import pix_code
from oculi.services.wallet.errors import WalletUnreachableError
from oculi.services.wallet.intents import Confirmation
from oculi.services.wallet.server import ADMIN_TOKEN_ENV
from oculi.services.wallet.signing import DeviceKey, SignedClient
from oculi.services.wallet.wallet import Wallet

ADMIN = "crash-test-admin-token-0123456789"
CODE = pix_code("k@x.com", merchant_name="SHOP", merchant_city="RIO", amount="1.00")
VOICE = Confirmation("voice", own_voice=True)
FUNDED = 1_000_000
KILL_AFTER = 12
"""Acknowledged captures before the kill; it then lands a few milliseconds into the next ones."""
OCULI = ["-c", "from oculi.cli import main; raise SystemExit(main())"]


@contextmanager
def wallet_server(path: Path | str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`oculi wallet serve --port 0` as its own process; yields it and its URL once ready."""
    env = {**os.environ, ADMIN_TOKEN_ENV: ADMIN}
    process = subprocess.Popen(
        [sys.executable, *OCULI, "wallet", "serve", "--port", "0", "--db", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(
        target=lambda: [lines.put(x) for x in process.stdout or ()], daemon=True
    ).start()
    try:
        deadline = time.monotonic() + 60
        while True:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            if " served at " in line:
                yield process, line.split(" served at ")[1].strip()
                return
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def captures_per_payment(target: Path | str) -> list[int]:
    with raw(target) as db:
        rows = db.execute(
            "SELECT count(*) FROM ledger_transactions WHERE kind = 'capture' GROUP BY payment_id"
        ).fetchall()
    return [int(n) for (n,) in rows]


def pay(client: SignedClient, i: int) -> tuple[str, str]:
    """One payment as the pay app makes it; keys derive from `i`, so a retry reuses them."""
    intent = client.create_payment(CODE, idempotency_key=f"create-{i}")
    client.confirm(intent.id, idempotency_key=f"confirm-{i}", confirmation=VOICE)
    return intent.id, client.capture(intent.id, idempotency_key=f"capture-{i}").state


def test_kill_9_server_mid_run_then_retry_every_key(target: Path | str) -> None:
    path = target
    with Wallet(path) as wallet:
        wallet.fund("BRL", FUNDED, idempotency_key="fund")
        wallet.set_limits("BRL", per_payment_minor=1000, per_day_minor=FUNDED)
    key = DeviceKey.generate()
    acknowledged: dict[int, str] = {}
    attempted = 0
    with wallet_server(path) as (process, url), SignedClient(url, key) as client:
        client.register(admin_token=ADMIN)
        old_headers = key.sign_headers("GET", "/v1/verify", b"")
        assert client.send("GET", "/v1/verify", b"", old_headers).status == 200
        killer: threading.Timer | None = None
        try:
            for i in range(10_000):
                attempted = i + 1
                payment_id, state = pay(client, i)
                assert state == "captured"
                acknowledged[i] = payment_id
                if len(acknowledged) == KILL_AFTER:
                    killer = threading.Timer(random.uniform(0.0, 0.03), process.send_signal,
                                             (signal.SIGKILL,))  # fmt: skip
                    killer.start()
        except WalletUnreachableError:
            pass
        assert killer is not None
        killer.join()
        assert process.wait(timeout=30) == -signal.SIGKILL
    assert len(acknowledged) >= KILL_AFTER
    print(f"killed after {len(acknowledged)} acknowledged of {attempted} attempted")

    with wallet_server(path) as (_, url), SignedClient(url, key) as client:
        # the device is still enrolled, and the nonce it used before the crash is still spent
        replay = client.send("GET", "/v1/verify", b"", old_headers)
        assert (replay.status, replay.data["error"]["rule"]) == (401, "nonce_reused")
        assert client.verify() == []
        for payment_id in acknowledged.values():
            assert client.payment(payment_id).state == "captured"
        # the app retries everything it sent, with the same keys, then goes on paying
        for i in range(attempted + 3):
            payment_id, state = pay(client, i)
            assert state == "captured"
            if i in acknowledged:
                assert payment_id == acknowledged[i]
        assert client.verify() == []
        payments = client.payments(limit=500)
        balances = client.balances("BRL")
    assert len(payments) == attempted + 3  # a retried create never made a second payment
    assert all(p.state == "captured" for p in payments)
    assert balances.paid_minor == 100 * len(payments)
    assert (balances.available_minor + balances.held_minor + balances.paid_minor) == FUNDED
    assert balances.held_minor == 0
    assert set(captures_per_payment(path)) == {1}
