"""Many devices and slow ones: camera frames coalesce, nothing else is dropped, a device that stops
reading is closed, and one misbehaving device never disturbs another's session."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from serverkit import TOKEN, Served, reply, run
from websockets.asyncio.client import connect

from oculi.events import AudioChunk, TextInput, VideoFrame
from oculi.runtime.config import load_config
from oculi.server.app import DeviceServer, ServerThread
from oculi.server.client import DeviceClient
from oculi.server.errors import ConnectionEnded
from oculi.server.inbox import InputQueue
from oculi.server.protocol import Limits, dumps
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.services.wallet.signing import DeviceKey
from oculi.vision.synthetic import PackSpec, render_pack_photo, to_jpeg


def test_a_waiting_camera_frame_is_replaced_by_a_newer_one_in_its_place() -> None:
    async def scenario() -> tuple[list[object], int]:
        queue = InputQueue(max_pending=10)
        old, new = VideoFrame(image=b"old"), VideoFrame(image=b"new")
        audio = AudioChunk(pcm=b"\0\0", sample_rate=16000, channels=1)
        question = TextInput(text="how much is this")
        for event in (audio, old, question, audio, new):
            await queue.put(event)
        got = [await queue.get() for _ in range(len(queue))]
        return got, queue.video_dropped

    got, dropped = run(scenario())
    assert [getattr(e, "image", getattr(e, "kind", None)) for e in got] == [
        "audio_chunk", b"new", "text_input", "audio_chunk"
    ]  # fmt: skip
    assert dropped == 1


def test_a_full_queue_waits_instead_of_dropping_audio() -> None:
    async def scenario() -> tuple[bool, int]:
        queue = InputQueue(max_pending=2)
        chunk = AudioChunk(pcm=b"\0\0", sample_rate=16000, channels=1)
        await queue.put(chunk)
        await queue.put(chunk)
        third = asyncio.create_task(queue.put(chunk))
        await asyncio.sleep(0.05)
        waited = not third.done()
        await queue.get()
        await third
        return waited, len(queue)

    assert run(scenario()) == (True, 2)


def test_a_burst_of_camera_frames_is_taken_and_the_question_still_answered(
    served: Served,
) -> None:
    product = DEMO_PRODUCTS[1]
    jpeg = to_jpeg(render_pack_photo(PackSpec(product.gtin, product.name, product.brand), seed=1))

    async def scenario() -> tuple[dict[str, object], str]:
        client = await served.paired()
        for _ in range(12):
            await client.send_frame(jpeg)
        await client.send_text("how much is this")
        events = await reply(client)
        while True:  # every frame was either processed or replaced by a newer one
            stats = await client.stats()
            if stats["processed"] + stats["video_dropped"] == stats["accepted"]:
                break
            await asyncio.sleep(0.05)
        await client.bye()
        card = next(e for e in events if e.kind == "card_shown")
        return stats, card.card.title

    stats, title = run(scenario())
    assert stats["accepted"] == 13
    assert title == product.name


def test_one_misbehaving_device_does_not_disturb_another(served: Served) -> None:
    async def rogue(client: DeviceClient) -> int | None:
        await client.send_raw("{{{")
        client.next_seq = 40
        await client.send_text("skip ahead")
        await client.send_raw(b"\x02")
        await client.send_raw("x" * 20_000)
        with pytest.raises(ConnectionEnded) as ended:
            while True:
                await client.receive()
        return ended.value.code

    async def wearer(client: DeviceClient) -> list[str]:
        for text in ("volume up", "volume down", "help"):
            await client.send_text(text)
            await reply(client)
        return [e.kind for e in client.events]

    async def scenario() -> tuple[int | None, list[str], int, list[int]]:
        good, bad = await served.paired(), await served.paired()
        code, kinds = await asyncio.gather(rogue(bad), wearer(good))
        errors = len(good.errors)
        await good.bye()
        return code, kinds, errors, good.unacked

    code, kinds, errors, unacked = run(scenario())
    assert code == 1009
    assert kinds.count("answer") == 3 and kinds.count("speech_out") == 3
    assert errors == 0 and unacked == []


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """A server with a tiny window and little patience, for devices that stop reading."""
    data = tmp_path_factory.mktemp("tight")
    config = load_config(env={"OCULI_DATA_DIR": str(data), "OCULI_AGENT__EMBEDDING": "off"})
    limits = Limits(window=3, stall_s=0.5, handshake_timeout_s=0.5)
    with ServerThread(DeviceServer(config, limits=limits, admin_token=TOKEN)) as thread:
        yield thread


def test_a_device_that_stops_acknowledging_is_closed_and_can_resume(tight: ServerThread) -> None:
    async def scenario() -> tuple[ConnectionEnded, bool, list[str]]:
        client = DeviceClient(tight.ws_url, DeviceKey.generate(), auto_ack=False)
        await client.connect(pairing_code=tight.server.pairing_code)
        await client.send_text("volume up")
        await client.send_text("volume down")
        with pytest.raises(ConnectionEnded) as ended:
            while True:
                await client.receive()
        resumed = (await client.connect())["resumed"]
        client.auto_ack = True
        await client.ack()
        while [e.kind for e in client.events].count("speech_out") < 2:
            await client.next_of("event")
        await client.send_raw(dumps({"type": "bye"}))
        return ended.value, resumed, [e.kind for e in client.events]

    ended, resumed, kinds = run(scenario())
    assert ended.code == 4009
    assert ended.error is not None and ended.error.code == "too_slow"
    assert resumed is True
    assert kinds.count("answer") == 2, "nothing was lost and nothing repeated"


def test_a_device_that_never_finishes_the_handshake_is_closed(tight: ServerThread) -> None:
    async def scenario() -> tuple[dict[str, object], int | None]:
        async with connect(tight.ws_url) as ws:
            await ws.send(dumps({"type": "hello", "protocol": "oculi/1"}))
            assert json.loads(await ws.recv())["type"] == "challenge"
            error = json.loads(await ws.recv())
            await ws.wait_closed()
            return error, ws.close_code

    error, close = run(scenario())
    assert (error["code"], close) == ("handshake_timeout", 4005)
