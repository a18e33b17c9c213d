"""kill -9 in the middle of a run of payments: the ledger balances, nothing acknowledged is lost,
and retrying with the same idempotency keys charges nothing twice. On SQLite and PostgreSQL."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from walletdb import raw

from oculi.services.wallet.emvco import pix_code
from oculi.services.wallet.intents import Confirmation
from oculi.services.wallet.wallet import Wallet

CODE = pix_code("k@x.com", merchant_name="SHOP", merchant_city="RIO", amount="1.00")
RUN = textwrap.dedent(
    f"""
    import sys
    from oculi.services.wallet.intents import Confirmation
    from oculi.services.wallet.wallet import Wallet

    with Wallet(sys.argv[1]) as w:
        for i in range(int(sys.argv[2])):
            p = w.create_payment({CODE!r}, idempotency_key=f"p{{i}}")
            w.confirm(p.id, idempotency_key=f"c{{i}}", confirmation=Confirmation("voice", True))
            w.capture(p.id, idempotency_key=f"k{{i}}")
            print(i, p.id, flush=True)
    """
)


def _captures_per_payment(target: Path | str) -> list[int]:
    with raw(target) as db:
        rows = db.execute(
            "SELECT count(*) FROM ledger_transactions WHERE kind = 'capture' GROUP BY payment_id"
        ).fetchall()
    return [int(n) for (n,) in rows]


def test_kill_9_mid_run_loses_nothing_and_charges_nothing_twice(target: Path | str) -> None:
    path = target
    with Wallet(path) as w:
        w.fund("BRL", 1_000_000, idempotency_key="fund")
        w.set_limits("BRL", per_payment_minor=1000, per_day_minor=1_000_000)
    child = subprocess.Popen(
        [sys.executable, "-c", RUN, str(path), "10000"], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    acknowledged = dict(child.stdout.readline().split() for _ in range(25))
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    with Wallet(path) as w:
        assert w.verify() == []
        for pid in acknowledged.values():
            assert w.payment(pid).state == "captured"
        # the app retries everything it sent, with the same keys, after the restart
        retried = len(acknowledged) + 5
        for i in range(retried):
            p = w.create_payment(CODE, idempotency_key=f"p{i}")
            if str(i) in acknowledged:
                assert p.id == acknowledged[str(i)]
            w.confirm(p.id, idempotency_key=f"c{i}", confirmation=Confirmation("voice", True))
            w.capture(p.id, idempotency_key=f"k{i}")
        assert w.verify() == []
        captured = [p for p in w.payments(limit=-1) if p.state == "captured"]
        assert w.balances("BRL").paid_minor == 100 * len(captured)
        assert len(captured) >= retried
    assert set(_captures_per_payment(path)) == {1}
