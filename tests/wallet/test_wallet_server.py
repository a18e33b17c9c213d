"""The wallet's HTTP API: enrolment, signed requests and every refusal, against a real uvicorn.

The server runs in a thread of the test process on a free port; requests go over TCP through
`SignedClient`. A refused request must leave the wallet file exactly as it was. Most tests use a
SQLite wallet; `test_the_api_on_postgres` runs the same path over a PostgreSQL one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from walletdb import counts, raw

from oculi.services.wallet.emvco import pix_code
from oculi.services.wallet.errors import (
    DeviceAuthError,
    IdempotencyConflictError,
    PaymentCodeError,
    PaymentStateError,
)
from oculi.services.wallet.intents import Confirmation
from oculi.services.wallet.server import WalletServer, listen
from oculi.services.wallet.signing import (
    IDEMPOTENCY_HEADER,
    NONCE_HEADER,
    PAIRING_HEADER,
    SIGNATURE_HEADER,
    DeviceKey,
    Reply,
    SignedClient,
    canonical_request,
)
from oculi.services.wallet.wallet import Wallet

ADMIN = "admin-token-for-tests-0123456789"
PAIRING = "1234-5678"
VOICE = Confirmation("voice", own_voice=True)
CAFE = pix_code("cafe@example.com", merchant_name="CAFE", merchant_city="RIO", amount="12.50")
STATIC = pix_code("cafe@example.com", merchant_name="CAFE", merchant_city="RIO")


@dataclass
class Served:
    url: str
    path: Path | str
    runner: uvicorn.Server
    thread: threading.Thread

    def client(self, key: DeviceKey | None = None) -> SignedClient:
        return SignedClient(self.url, key or DeviceKey.generate(), timeout_s=10)


def start(path: Path | str, *, admin_token: str | None = ADMIN) -> Served:
    server = WalletServer(path, admin_token=admin_token, pairing_code=PAIRING)
    sock = listen("127.0.0.1", 0)
    config = uvicorn.Config(server.app, log_level="critical", lifespan="on")
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not runner.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    return Served(f"http://127.0.0.1:{sock.getsockname()[1]}", path, runner, thread)


def stop(served: Served) -> None:
    served.runner.should_exit = True
    served.thread.join(timeout=15)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A funded wallet (1000.00 BRL, 200.00 a payment) behind a running server."""
    path = tmp_path / "wallet.sqlite3"
    with Wallet(path) as wallet:
        wallet.fund("BRL", 100_000, idempotency_key="fund")
        wallet.set_limits("BRL", per_payment_minor=20_000, per_day_minor=50_000)
    running = start(path)
    yield running
    stop(running)


@pytest.fixture
def glasses(served: Served) -> Iterator[SignedClient]:
    """An enrolled device."""
    with served.client() as client:
        client.register(admin_token=ADMIN, name="test glasses")
        yield client


def snapshot(path: Path) -> dict[str, int]:
    """Row counts of everything a wallet operation writes."""
    db = sqlite3.connect(path)
    tables = ("payments", "ledger_transactions", "postings", "idempotency_keys", "audit_log")
    counts = {t: int(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables}
    db.close()
    return counts


def refused(reply: Reply, rule: str, status: int = 401) -> None:
    assert reply.status == status, reply
    assert reply.data["error"]["rule"] == rule, reply.data


def body(payload: dict[str, object]) -> bytes:
    return json.dumps(payload).encode()


# --- the API, signed properly ----------------------------------------------------------------


def test_a_payment_from_scan_to_capture(glasses: SignedClient) -> None:
    intent = glasses.create_payment(CAFE, idempotency_key="scan-1")
    assert (intent.state, intent.amount_minor, intent.scheme) == (
        "awaiting_confirmation",
        1250,
        "pix",
    )
    intent = glasses.confirm(intent.id, idempotency_key="scan-1:yes", confirmation=VOICE)
    assert intent.state == "authorised" and intent.confirmed_by == "voice"
    intent = glasses.capture(intent.id, idempotency_key="scan-1:paid")
    assert intent.state == "captured"
    assert glasses.payment(intent.id) == intent
    assert [p.id for p in glasses.payments(limit=5)] == [intent.id]
    balances = glasses.balances("BRL")
    assert (balances.available_minor, balances.held_minor, balances.paid_minor) == (98_750, 0, 1250)
    assert glasses.verify() == []


def test_static_code_amount_then_cancel(glasses: SignedClient) -> None:
    intent = glasses.create_payment(STATIC, idempotency_key="s")
    assert intent.state == "created"
    intent = glasses.set_amount(intent.id, 700, idempotency_key="s:amount")
    assert (intent.state, intent.amount_minor) == ("awaiting_confirmation", 700)
    intent = glasses.confirm(intent.id, idempotency_key="s:yes", confirmation=VOICE)
    intent = glasses.cancel(intent.id, idempotency_key="s:no", reason="changed my mind")
    assert (intent.state, intent.reason) == ("cancelled", "changed my mind")
    assert glasses.balances("BRL").available_minor == 100_000


def test_retries_return_the_stored_result_and_charge_once(served: Served) -> None:
    with served.client() as client:
        client.register(admin_token=ADMIN)
        first = client.create_payment(CAFE, idempotency_key="k1")
        assert client.create_payment(CAFE, idempotency_key="k1") == first
        confirmed = client.confirm(first.id, idempotency_key="k2", confirmation=VOICE)
        assert client.confirm(first.id, idempotency_key="k2", confirmation=VOICE) == confirmed
        with pytest.raises(PaymentStateError, match="already confirmed"):
            client.confirm(first.id, idempotency_key="k3", confirmation=VOICE)
        with pytest.raises(IdempotencyConflictError):
            client.create_payment(STATIC, idempotency_key="k1")
        assert client.balances("BRL").held_minor == 1250


def test_idempotency_keys_belong_to_one_device(served: Served, glasses: SignedClient) -> None:
    mine = glasses.create_payment(CAFE, idempotency_key="same-key")
    with served.client() as phone:
        phone.register(admin_token=ADMIN, name="phone")
        theirs = phone.create_payment(CAFE, idempotency_key="same-key")
    assert theirs.id != mine.id


def test_refusals_are_json_naming_the_rule(served: Served, glasses: SignedClient) -> None:
    before = snapshot(served.path)
    with pytest.raises(PaymentCodeError) as bad_code:
        glasses.create_payment(CAFE[:-1] + "0", idempotency_key="bad")
    assert bad_code.value.tag == "63"
    refused(
        glasses.signed("POST", "/v1/payments", {"payload": CAFE}), "idempotency_key_required", 400
    )
    refused(glasses.signed("GET", "/v1/payments/pay_nope"), "not_found", 404)
    reply = glasses.signed("POST", "/v1/payments/pay_nope/capture", {}, idempotency_key="x")
    refused(reply, "not_found", 404)
    refused(glasses.signed("GET", "/v1/payments?limit=0"), "bad_request", 400)
    refused(glasses.send("POST", "/v1/payments", b"x" * 70_000), "body_too_large", 413)
    reply = glasses.signed("POST", "/v1/payments", {"payload": 5}, idempotency_key="y")
    refused(reply, "bad_request", 400)
    refused(glasses.send("GET", "/v1/nowhere"), "not_found", 404)
    intent = glasses.create_payment(CAFE, idempotency_key="cli")
    reply = glasses.signed(
        "POST", f"/v1/payments/{intent.id}/confirm", {"channel": "cli"}, idempotency_key="z"
    )
    refused(reply, "refused", 400)
    assert glasses.payment(intent.id).state == "awaiting_confirmation"
    assert snapshot(served.path)["postings"] == before["postings"]


# --- signatures: every bad request is 401 and writes nothing ------------------------------------


def test_unsigned_request_is_refused(served: Served, glasses: SignedClient) -> None:
    before = snapshot(served.path)
    reply = glasses.send("POST", "/v1/payments", body({"payload": CAFE}), {IDEMPOTENCY_HEADER: "u"})
    refused(reply, "unsigned")
    assert "X-Oculi-Signature" in reply.data["error"]["detail"]
    refused(glasses.send("GET", "/v1/verify"), "unsigned")
    assert snapshot(served.path) == before


def test_replayed_nonce_is_refused(served: Served, glasses: SignedClient) -> None:
    payload = body({"payload": CAFE})
    headers = glasses.key.sign_headers("POST", "/v1/payments", payload, idempotency_key="r1")
    assert glasses.send("POST", "/v1/payments", payload, headers).status == 200
    after_first = snapshot(served.path)
    refused(glasses.send("POST", "/v1/payments", payload, headers), "nonce_reused")
    # the same nonce under a fresh signature and another key is still a replay
    again = glasses.key.sign_headers(
        "POST", "/v1/payments", payload, idempotency_key="r2", nonce=headers[NONCE_HEADER]
    )
    refused(glasses.send("POST", "/v1/payments", payload, again), "nonce_reused")
    assert snapshot(served.path) == after_first


@pytest.mark.parametrize("skew_s", [-3600, -61, 62, 3600])
def test_stale_timestamp_is_refused(served: Served, glasses: SignedClient, skew_s: int) -> None:
    before = snapshot(served.path)
    payload = body({"payload": CAFE})
    headers = glasses.key.sign_headers(
        "POST", "/v1/payments", payload, idempotency_key="t", timestamp=time.time() + skew_s
    )
    refused(glasses.send("POST", "/v1/payments", payload, headers), "stale_timestamp")
    assert snapshot(served.path) == before


def test_tampered_body_path_or_key_is_refused(served: Served, glasses: SignedClient) -> None:
    intent = glasses.create_payment(STATIC, idempotency_key="tamper")
    path = f"/v1/payments/{intent.id}/amount"
    signed_body = body({"amount_minor": 100})
    headers = glasses.key.sign_headers("POST", path, signed_body, idempotency_key="a1")
    other = glasses.create_payment(STATIC, idempotency_key="tamper-2")
    before = snapshot(served.path)
    refused(glasses.send("POST", path, body({"amount_minor": 19_900}), headers), "bad_signature")
    headers = glasses.key.sign_headers("POST", path, signed_body, idempotency_key="a2")
    elsewhere = f"/v1/payments/{other.id}/amount"
    refused(glasses.send("POST", elsewhere, signed_body, headers), "bad_signature")
    headers = glasses.key.sign_headers("POST", path, signed_body, idempotency_key="a3")
    refused(
        glasses.send("POST", path, signed_body, {**headers, IDEMPOTENCY_HEADER: "a4"}),
        "bad_signature",
    )
    headers = glasses.key.sign_headers("POST", path, signed_body, idempotency_key="a5")
    refused(glasses.send("PUT", path, signed_body, headers), "method_not_allowed", 405)
    assert snapshot(served.path) == before
    assert glasses.payment(intent.id).amount_minor is None


def test_unknown_device_and_forged_device_are_refused(
    served: Served, glasses: SignedClient
) -> None:
    before = snapshot(served.path)
    with served.client() as stranger:
        with pytest.raises(DeviceAuthError) as caught:
            stranger.create_payment(CAFE, idempotency_key="s")
        assert caught.value.rule == "unknown_device"
        # a stranger's signature under the enrolled device's id
        payload = body({"payload": CAFE})
        headers = stranger.key.sign_headers("POST", "/v1/payments", payload, idempotency_key="f")
        headers["X-Oculi-Device"] = glasses.key.device_id
        refused(stranger.send("POST", "/v1/payments", payload, headers), "bad_signature")
        headers[SIGNATURE_HEADER] = "not-a-signature"
        refused(stranger.send("POST", "/v1/payments", payload, headers), "bad_signature")
    assert snapshot(served.path) == before


def test_canonical_request_covers_every_signed_field() -> None:
    base = {"device": "dev_" + "0" * 24, "timestamp": "1", "nonce": "n" * 16, "idempotency_key": ""}
    one = canonical_request("post", "/v1/payments", b"{}", **base)
    assert one.split(b"\n")[:2] == [b"oculi-wallet-v1", b"POST"]
    changes = [("method", "GET"), ("path", "/v1/x"), ("body", b"{ }")]
    args = {"method": "POST", "path": "/v1/payments", "body": b"{}"}
    for name, value in changes:
        assert canonical_request(**{**args, name: value}, **base) != one  # type: ignore[arg-type]
    for name in base:
        assert canonical_request(**args, **{**base, name: base[name] + "x"}) != one
    with pytest.raises(DeviceAuthError):
        canonical_request("POST", "/v1/payments\nX", b"", **base)


# --- enrolment: only with the pairing code or the admin token -----------------------------------


def test_enrolment_needs_the_pairing_code_or_admin_token(served: Served) -> None:
    before = snapshot(served.path)
    with served.client() as device:
        for kwargs, rule in (
            ({}, "pairing_required"),
            ({"pairing_code": "0000-0000"}, "bad_pairing_code"),
            ({"admin_token": "wrong-token-wrong-token"}, "bad_admin_token"),
        ):
            with pytest.raises(DeviceAuthError) as caught:
                device.register(**kwargs)
            assert caught.value.rule == rule
        with pytest.raises(DeviceAuthError, match="unknown_device"):
            device.payments()
        assert device.register(pairing_code="12345678")["created"] is True  # dashes optional
        assert device.register()["created"] is False  # enrolled already: no code needed
        assert device.verify() == []
    with served.client() as second, pytest.raises(DeviceAuthError) as caught:
        second.register(pairing_code=PAIRING)
    assert caught.value.rule == "pairing_closed"  # one device per code
    assert snapshot(served.path) == before


def test_wrong_pairing_codes_close_pairing(served: Served) -> None:
    with served.client() as device:
        for _ in range(5):
            with pytest.raises(DeviceAuthError, match="bad_pairing_code"):
                device.register(pairing_code="9999-9999")
        with pytest.raises(DeviceAuthError, match="pairing_closed"):
            device.register(pairing_code=PAIRING)
        assert device.register(admin_token=ADMIN)["created"] is True


def test_enrolment_must_be_signed_by_the_key_it_enrols(served: Served) -> None:
    device, other = DeviceKey.generate(), DeviceKey.generate()
    with served.client(device) as client:
        payload = body({"public_key": other.public_key, "name": "x"})
        headers = device.sign_headers("POST", "/v1/devices", payload)
        reply = client.send("POST", "/v1/devices", payload, {**headers, PAIRING_HEADER: PAIRING})
        refused(reply, "device_mismatch")
        headers = other.sign_headers("POST", "/v1/devices", body({"public_key": other.public_key}))
        reply = client.send("POST", "/v1/devices", payload, {**headers, PAIRING_HEADER: PAIRING})
        refused(reply, "bad_signature")


def test_without_an_admin_token_only_pairing_enrols(tmp_path: Path) -> None:
    running = start(tmp_path / "w.sqlite3", admin_token=None)
    try:
        with running.client() as device:
            with pytest.raises(DeviceAuthError, match="bad_admin_token"):
                device.register(admin_token=ADMIN)
            assert device.register(pairing_code=PAIRING)["created"] is True
    finally:
        stop(running)


def test_the_api_on_postgres(pg_url: str) -> None:
    with Wallet(pg_url) as wallet:
        wallet.fund("BRL", 100_000, idempotency_key="fund")
        wallet.set_limits("BRL", per_payment_minor=20_000, per_day_minor=50_000)
    running = start(pg_url)
    try:
        with running.client() as glasses:
            glasses.register(admin_token=ADMIN, name="test glasses")
            intent = glasses.create_payment(CAFE, idempotency_key="scan-1")
            intent = glasses.confirm(intent.id, idempotency_key="scan-1:yes", confirmation=VOICE)
            with pytest.raises(PaymentStateError, match="already confirmed"):
                glasses.confirm(intent.id, idempotency_key="scan-1:again", confirmation=VOICE)
            assert glasses.capture(intent.id, idempotency_key="scan-1:paid").state == "captured"
            before = counts(pg_url)
            payload = body({"payload": CAFE})
            headers = glasses.key.sign_headers("POST", "/v1/payments", payload, idempotency_key="r")
            assert glasses.send("POST", "/v1/payments", payload, headers).status == 200
            refused(glasses.send("POST", "/v1/payments", payload, headers), "nonce_reused")
            assert counts(pg_url)["payments"] == before["payments"] + 1
            assert glasses.balances("BRL").paid_minor == 1250
            assert glasses.verify() == []
    finally:
        stop(running)
    with raw(pg_url) as db:
        assert db.execute("SELECT count(*) FROM devices").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM request_nonces").fetchone()[0] >= 8
