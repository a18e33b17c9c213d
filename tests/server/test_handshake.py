"""Pairing and the signed handshake against a real server: who gets in, and every refusal."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from serverkit import Served, run
from websockets.asyncio.client import ClientConnection, connect

from oculi.server.client import DeviceClient
from oculi.server.errors import ConnectionEnded, ProtocolError
from oculi.server.frames import VIDEO, BinaryFrame
from oculi.server.protocol import signed_text
from oculi.services.wallet.signing import DeviceKey, b64encode


async def _refusal(ws: ClientConnection) -> tuple[dict[str, Any], int | None]:
    """The error the server sent, and the close code that followed it."""
    error = json.loads(await ws.recv())
    await ws.wait_closed()
    return error, ws.close_code


async def _challenged(url: str) -> tuple[ClientConnection, str]:
    ws = await connect(url)
    await ws.send(json.dumps({"type": "hello", "protocol": "oculi/1"}))
    challenge = json.loads(await ws.recv())
    assert challenge["type"] == "challenge"
    return ws, challenge["nonce"]


def _auth(key: DeviceKey, nonce: str, **changes: Any) -> str:
    stamp = str(int(time.time()))
    text = signed_text("auth", nonce, key.device_id, stamp, "", "0")
    signer = DeviceClient("ws://unused", key)._signer
    body = {"type": "auth", "device": key.device_id, "nonce": nonce, "timestamp": stamp,
            "signature": b64encode(signer.sign(text))}  # fmt: skip
    return json.dumps(body | changes)


def test_a_paired_device_gets_a_session(served: Served) -> None:
    async def scenario() -> dict[str, Any]:
        client = await served.paired()
        welcome = client.welcome
        await client.bye()
        return welcome

    welcome = run(scenario())
    assert welcome["protocol"] == "oculi/1"
    assert welcome["resumed"] is False
    assert welcome["last_seq"] == 0
    assert welcome["profile"] == "s1"
    assert welcome["privacy"] == {"recording": False}
    assert welcome["limits"]["audio_rate"] == 16000


def test_a_paired_device_connects_again_without_a_code(served: Served) -> None:
    async def scenario() -> tuple[str, str]:
        first = await served.paired()
        await first.close()
        again = served.client(first.key)
        await again.connect()
        sessions = (first.session or "", again.session or "")
        await again.bye()
        return sessions

    first, second = run(scenario())
    assert first and second and first != second


def test_pairing_twice_with_the_same_key_is_a_harmless_retry(served: Served) -> None:
    async def scenario() -> None:
        client = await served.paired()
        await client.close()
        await client.connect(pairing_code="000000", resume=False)  # the code is not checked
        await client.bye()

    run(scenario())


def test_a_wrong_pairing_code_is_refused(served: Served) -> None:
    async def scenario() -> ProtocolError:
        served.pairing_code()  # a fresh code that we do not use
        client = served.client()
        with pytest.raises(ProtocolError) as refused:
            await client.connect(pairing_code="12-34-5x")
        return refused.value

    error = run(scenario())
    assert error.code in ("bad_pairing_code", "pairing_closed")
    assert error.close_code == 4004


def test_a_pairing_code_pairs_one_device_only(served: Served) -> None:
    async def scenario() -> ProtocolError:
        code = served.pairing_code()
        first = served.client()
        await first.connect(pairing_code=code)
        await first.bye()
        with pytest.raises(ProtocolError) as refused:
            await served.client().connect(pairing_code=code)
        return refused.value

    assert run(scenario()).code == "pairing_closed"


def test_an_unknown_key_is_refused(served: Served) -> None:
    async def scenario() -> ProtocolError:
        with pytest.raises(ProtocolError) as refused:
            await served.client().connect()
        return refused.value

    error = run(scenario())
    assert error.code == "unknown_device"
    assert "not paired" in error.message
    assert error.close_code == 4003


def test_a_wrong_protocol_version_is_refused_with_the_versions_spoken(served: Served) -> None:
    async def scenario() -> tuple[dict[str, Any], int | None]:
        async with connect(served.url) as ws:
            await ws.send(json.dumps({"type": "hello", "protocol": "oculi/2"}))
            return await _refusal(ws)

    error, close = run(scenario())
    assert error["code"] == "unsupported_protocol"
    assert error["supported"] == ["oculi/1"]
    assert "oculi/2" in error["message"]
    assert error["fatal"] is True
    assert close == 4002


def test_an_unsigned_handshake_is_refused(served: Served) -> None:
    async def scenario() -> tuple[dict[str, Any], int | None]:
        client = await served.paired()
        await client.close()
        ws, nonce = await _challenged(served.url)
        await ws.send(_auth(client.key, nonce, signature=""))
        return await _refusal(ws)

    error, close = run(scenario())
    assert (error["code"], close) == ("unsigned", 4003)


def test_a_handshake_signed_by_another_key_is_refused(served: Served) -> None:
    async def scenario() -> tuple[dict[str, Any], int | None]:
        client = await served.paired()
        await client.close()
        ws, nonce = await _challenged(served.url)
        forged = json.loads(_auth(DeviceKey.generate(), nonce))
        await ws.send(_auth(client.key, nonce, signature=forged["signature"]))
        return await _refusal(ws)

    error, close = run(scenario())
    assert (error["code"], close) == ("bad_signature", 4003)


def test_a_replayed_handshake_is_refused(served: Served) -> None:
    """A signed auth captured from one connection opens no other (nor the same one twice)."""

    async def scenario() -> tuple[dict[str, Any], int | None]:
        client = await served.paired()
        await client.close()
        first, nonce = await _challenged(served.url)
        captured = _auth(client.key, nonce)
        await first.send(captured)
        assert json.loads(await first.recv())["type"] == "welcome"
        await first.close()
        second, _ = await _challenged(served.url)
        await second.send(captured)
        return await _refusal(second)

    error, close = run(scenario())
    assert (error["code"], close) == ("handshake_replayed", 4003)


def test_a_stale_timestamp_is_refused(served: Served) -> None:
    async def scenario() -> tuple[dict[str, Any], int | None]:
        client = await served.paired()
        await client.close()
        ws, nonce = await _challenged(served.url)
        await ws.send(_auth(client.key, nonce, timestamp=str(int(time.time()) - 3600)))
        return await _refusal(ws)

    error, close = run(scenario())
    assert (error["code"], close) == ("stale_timestamp", 4003)


def test_a_binary_frame_before_the_handshake_is_refused(served: Served) -> None:
    async def scenario() -> tuple[dict[str, Any], int | None]:
        async with connect(served.url) as ws:
            await ws.send(BinaryFrame(VIDEO, 1, b"\xff\xd8\xff\xe0").pack())
            return await _refusal(ws)

    error, close = run(scenario())
    assert (error["code"], close) == ("not_authenticated", 4001)


def test_an_event_after_hello_but_before_auth_is_refused(served: Served) -> None:
    async def scenario() -> tuple[dict[str, Any], int | None]:
        ws, _ = await _challenged(served.url)
        event = {"v": 1, "kind": "text_input", "text": "pay 100 euros", "t": 0}
        await ws.send(json.dumps({"type": "event", "seq": 1, "event": event}))
        return await _refusal(ws)

    error, close = run(scenario())
    assert (error["code"], close) == ("not_authenticated", 4001)


def test_garbage_instead_of_hello_closes_the_connection(served: Served) -> None:
    async def scenario() -> tuple[dict[str, Any], int | None]:
        async with connect(served.url) as ws:
            await ws.send("{not json")
            return await _refusal(ws)

    error, close = run(scenario())
    assert (error["code"], close) == ("bad_json", 4000)


def test_a_refused_device_client_says_why(served: Served) -> None:
    async def scenario() -> None:
        client = served.client()
        with pytest.raises(ProtocolError):
            await client.connect()
        with pytest.raises(ConnectionEnded):
            await client.receive(timeout_s=5)

    run(scenario())
