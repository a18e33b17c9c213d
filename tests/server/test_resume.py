"""Dropped connections: the session waits for its device, resends what was not acknowledged,
processes nothing twice, and ends cleanly when the device does not come back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from serverkit import LIMITS, TOKEN, Served, reply, run

from oculi.events import Event
from oculi.runtime.config import load_config
from oculi.server.app import DeviceServer, ServerThread
from oculi.server.client import DeviceClient
from oculi.server.errors import ConnectionEnded
from oculi.server.hub import SessionHub
from oculi.server.served import ServedSession
from oculi.services.wallet.signing import DeviceKey


def test_resume_after_a_drop_loses_nothing_and_repeats_nothing(served: Served) -> None:
    """The device reads two messages of a reply, vanishes, comes back: the rest arrive once."""

    async def scenario() -> tuple[list[str], dict[str, object], int]:
        client = await served.paired(auto_ack=False)
        await client.send_text("volume up")
        for _ in range(2):
            await client.next_of("event")
        await client.drop()
        welcome = await client.connect()
        assert welcome["resumed"] is True and welcome["last_seq"] == 1
        client.auto_ack = True
        await client.ack()
        while {"card_shown", "speech_out"} - _kinds(client.events):
            await client.next_of("event")
        await client.send_text("volume down")
        await reply(client)
        stats = await client.stats()
        await client.bye()
        return [e.kind for e in client.events], stats, client.duplicates

    kinds, stats, duplicates = run(scenario())
    assert kinds.count("answer") == 2
    assert kinds.count("card_shown") == 2 and kinds.count("speech_out") == 2
    assert duplicates == 0
    assert stats["accepted"] == 2


def _kinds(events: list[Event]) -> set[str]:
    return {e.kind for e in events}


def test_a_message_sent_just_before_a_drop_is_processed_exactly_once(served: Served) -> None:
    async def scenario() -> tuple[list[str], dict[str, object], list[int]]:
        client = await served.paired()
        await client.send_text("volume up")
        await client.drop()
        await client.connect()
        await reply(client)
        unacked = client.unacked
        stats = await client.stats()
        await client.bye()
        return [e.kind for e in client.events], stats, unacked

    kinds, stats, unacked = run(scenario())
    assert kinds.count("answer") == 1
    assert stats["accepted"] == 1
    assert unacked == []


def test_a_new_connection_of_the_same_device_replaces_the_old(served: Served) -> None:
    async def scenario() -> tuple[ConnectionEnded, bool]:
        phone = await served.paired()
        other = served.client(phone.key)
        other.session, other.last_received = phone.session, phone.last_received
        resumed = (await other.connect())["resumed"]
        with pytest.raises(ConnectionEnded) as ended:
            await phone.next_of("never")
        await other.bye()
        return ended.value, resumed

    ended, resumed = run(scenario())
    assert resumed is True
    assert ended.code == 4008
    assert ended.error is not None and ended.error.code == "replaced"


def test_a_device_cannot_resume_another_devices_session(served: Served) -> None:
    async def scenario() -> tuple[bool, str | None, str | None]:
        victim = await served.paired()
        intruder = await served.paired()
        await intruder.close()
        intruder.session = victim.session
        welcome = await intruder.connect()
        await intruder.bye()
        await victim.bye()
        return welcome["resumed"], welcome["session"], victim.session

    resumed, session, victims = run(scenario())
    assert resumed is False and session != victims


def test_a_device_that_vanishes_mid_utterance_is_closed_after_the_resume_window(
    served: Served,
) -> None:
    async def scenario() -> tuple[bool, str]:
        client = await served.paired()
        for _ in range(10):  # 200 ms of a sentence, never finished
            await client.send_audio(b"\x10\x00" * 320)
        await client.next_of("ack")
        session = client.session or ""
        await client.drop()
        await _until(served, lambda hub: all(s.connection is None for s in _of(hub, session)))
        served.clock.offset = LIMITS.resume_s + 1
        try:
            await _until(served, lambda hub: not _of(hub, session))
        finally:
            served.clock.offset = 0.0
        welcome = await client.connect()
        await client.bye()
        return welcome["resumed"], session

    resumed, _ = run(scenario())
    assert resumed is False, "an expired session is not resumed; a new one starts"


async def _until(served: Served, done: Callable[[SessionHub], bool]) -> None:
    hub = served.server.hub
    assert hub is not None
    deadline = time.monotonic() + 30
    while not done(hub):
        assert time.monotonic() < deadline, "the server never got there"
        await asyncio.sleep(0.05)


def _of(hub: SessionHub, session: str) -> list[ServedSession]:
    return [s for s in hub.sessions if s.id == session]


def test_bye_ends_the_session_for_good(served: Served) -> None:
    async def scenario() -> bool:
        client = await served.paired()
        session = client.session
        await client.bye()
        client.session = session
        return bool((await client.connect())["resumed"])

    assert run(scenario()) is False


def test_a_restarted_server_takes_the_session_up_from_its_store(tmp_path: Path) -> None:
    """The outbox and sequence numbers are in the store: a new process resends and dedupes."""
    config = load_config(env={"OCULI_DATA_DIR": str(tmp_path), "OCULI_AGENT__EMBEDDING": "off"})
    key = DeviceKey.generate()

    async def before(url: str, code: str) -> DeviceClient:
        client = DeviceClient(url, key, auto_ack=False)
        await client.connect(pairing_code=code)
        await client.send_text("volume up")
        while "speech_out" not in [e.kind for e in client.events]:
            await client.next_of("event")
        client.last_received, client.events[1:] = 1, []  # the rest never reached the device
        await client.drop()
        return client

    async def after(client: DeviceClient, url: str) -> tuple[bool, list[str], int]:
        client.url = url
        resumed = (await client.connect())["resumed"]
        client.auto_ack = True
        while [e.kind for e in client.events].count("speech_out") < 1:
            await client.next_of("event")
        stats = await client.stats()
        await client.bye()
        return resumed, [e.kind for e in client.events], int(stats["accepted"])

    with ServerThread(DeviceServer(config, admin_token=TOKEN)) as first:
        client = run(before(first.ws_url, first.server.pairing_code))
    with ServerThread(DeviceServer(config, admin_token=TOKEN)) as second:
        resumed, kinds, accepted = run(after(client, second.ws_url))
    assert resumed is True
    assert kinds.count("answer") == 1 and kinds.count("speech_out") == 1
    assert accepted == 0, "the question was taken by the first process, not again by the second"
