"""Talking to a session over the wire: questions in, answers, cards and speech out, in sequence;
and every kind of bad message refused without harm."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image
from serverkit import LIMITS, Served, reply, run

from oculi.events import Answer, CardShown, Event, RecordingState, SpeechOut, TextInput
from oculi.server.client import DeviceClient
from oculi.server.errors import ConnectionEnded, ProtocolError
from oculi.server.frames import AUDIO, OPUS, VIDEO, BinaryFrame
from oculi.server.protocol import dumps
from oculi.services.demo_catalog import DEMO_PRODUCTS
from oculi.vision.synthetic import PackSpec, render_pack_photo, to_jpeg


async def _error(client: DeviceClient) -> ProtocolError:
    message = await client.next_of("error")
    assert message.error is not None
    return message.error


def test_a_typed_question_gets_its_answer_card_and_speech_in_sequence(served: Served) -> None:
    async def scenario() -> tuple[list[Event], list[int], int]:
        client = await served.paired()
        await client.send_text("volume up")
        events = await reply(client)
        seqs = list(range(1, client.last_received + 1))
        await client.bye()
        return events, seqs, client.duplicates

    events, seqs, duplicates = run(scenario())
    kinds = [e.kind for e in events]
    assert kinds[0] == "intent"
    assert kinds.index("answer") < kinds.index("card_shown")
    assert kinds.index("answer") < kinds.index("speech_out")
    assert "text_input" not in kinds, "the device's own input is not echoed"
    assert len(events) == len(seqs) and duplicates == 0
    answer = next(e for e in events if isinstance(e, Answer))
    assert answer.speech.startswith("Volume")
    speech = next(e for e in events if isinstance(e, SpeechOut))
    assert speech.wav[:4] == b"RIFF" and speech.text == answer.speech


def test_a_product_photo_and_how_much_is_this_give_a_price_card(served: Served) -> None:
    product = DEMO_PRODUCTS[0]
    spec = PackSpec(product.gtin, product.name, product.brand, product.colour)
    jpeg = to_jpeg(render_pack_photo(spec, seed=3))

    async def scenario() -> tuple[list[Event], list[dict[str, Any]]]:
        client = await served.paired()
        await client.send_frame(jpeg, source="front-camera")
        await client.send_text("how much is this")
        events = await reply(client)
        while not any(not light["recording"] for light in client.privacy):
            message = await client.receive(10.0)
            if message.event is not None:
                events.append(message.event)
        await client.bye()
        return events, client.privacy

    events, privacy = run(scenario())
    assert [light["recording"] for light in privacy] == [True, False]
    assert privacy[0]["camera"] and "shop" in privacy[0]["reason"]
    assert "barcode_seen" in [e.kind for e in events]
    card = next(e for e in events if isinstance(e, CardShown))
    assert card.card.title == product.name
    assert any(row.highlight for row in card.card.rows)
    image = Image.open(io.BytesIO(card.png))
    assert image.size == (card.width, card.height) == (640, 480)
    lights = [e for e in events if isinstance(e, RecordingState)]
    assert [e.camera for e in lights] == [True, False]  # the shop app read the frame, then done
    assert lights[0].recipient == "shop"


def test_garbled_json_is_refused_and_the_connection_goes_on(served: Served) -> None:
    async def scenario() -> tuple[ProtocolError, list[Event]]:
        client = await served.paired()
        await client.send_raw('{"type": "event", "seq": 1, "event": ')
        error = await _error(client)
        await client.send_text("volume up")
        events = await reply(client)
        await client.bye()
        return error, events

    error, events = run(scenario())
    assert error.code == "bad_json" and not error.fatal
    assert any(isinstance(e, Answer) for e in events)


def test_an_unknown_message_type_is_refused(served: Served) -> None:
    async def scenario() -> ProtocolError:
        client = await served.paired()
        await client.send_raw(dumps({"type": "teleport", "to": "mars"}))
        error = await _error(client)
        await client.bye()
        return error

    error = run(scenario())
    assert error.code == "bad_message" and "teleport" in error.message


def test_an_oversized_message_closes_the_connection_but_not_the_session(served: Served) -> None:
    async def scenario() -> tuple[ConnectionEnded, bool]:
        client = await served.paired()
        body = {"v": 1, "kind": "text_input", "text": "x" * LIMITS.max_text_bytes}
        await client.send_raw(dumps({"type": "event", "seq": 1, "event": body}))
        with pytest.raises(ConnectionEnded) as ended:
            await client.next_of("never")
        resumed = (await client.connect())["resumed"]
        await client.bye()
        return ended.value, resumed

    ended, resumed = run(scenario())
    assert ended.code == 1009
    assert ended.error is not None and ended.error.code == "too_large"
    assert resumed is True


def test_an_out_of_order_seq_is_refused_and_the_expected_one_still_taken(served: Served) -> None:
    async def scenario() -> tuple[ProtocolError, list[Event], dict[str, object]]:
        client = await served.paired()
        client.next_seq = 3
        await client.send_text("volume up")
        error = await _error(client)
        client.next_seq = 1
        await client.send_text("volume up")
        events = await reply(client)
        stats = await client.stats()
        await client.bye()
        return error, events, stats

    error, events, stats = run(scenario())
    assert error.code == "out_of_order"
    assert (error.seq, error.extra["expected"]) == (3, 1)
    assert [e.kind for e in events].count("answer") == 1
    assert stats["accepted"] == 1


def test_a_resent_message_is_processed_once(served: Served) -> None:
    async def scenario() -> tuple[list[int], dict[str, object]]:
        client = await served.paired()
        frame = dumps({"type": "event", "seq": 1, "event": TextInput(text="volume up").to_json()})
        await client.send_sequenced(lambda seq: frame)
        await reply(client)
        await client.send_raw(frame)
        ack = await client.next_of("ack")
        await client.send_text("volume down")
        events = await reply(client)
        stats = await client.stats()
        await client.bye()
        return [ack.body["seq"], len([e for e in events if e.kind == "answer"])], stats

    (acked, answers), stats = run(scenario())
    assert acked == 1, "the resend is acknowledged again"
    assert answers == 1
    assert stats["accepted"] == 2


def test_a_device_may_not_send_the_sessions_outputs(served: Served) -> None:
    async def scenario() -> tuple[ProtocolError, ProtocolError, int]:
        client = await served.paired()
        answer = Answer(app="pay", action="confirm", speech="Paid.")
        await client.send_sequenced(
            lambda seq: dumps({"type": "event", "seq": seq, "event": answer.to_json()})
        )
        not_allowed = await _error(client)
        gaze = {"v": 1, "kind": "gaze", "x": 3.0, "y": 0.5}
        await client.send_sequenced(lambda seq: dumps({"type": "event", "seq": seq, "event": gaze}))
        bad = await _error(client)
        await client.next_of("ack")
        unacked = len(client.unacked)
        await client.bye()
        return not_allowed, bad, unacked

    not_allowed, bad, unacked = run(scenario())
    assert (not_allowed.code, not_allowed.seq) == ("event_not_allowed", 1)
    assert (bad.code, bad.seq) == ("bad_event", 2)
    assert "gaze" in bad.message
    assert unacked == 0, "a refused message still uses up its seq and is acknowledged"


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (b"\x01\x00", "8-byte header"),
        (BinaryFrame(0x7F, 1, b"data").pack(), "kind 0x7f"),
        (BinaryFrame(VIDEO, 1, b"GIF89a").pack(), "JPEG"),
        (BinaryFrame(AUDIO, 1, b"\x00\x01\x02").pack(), "whole"),
        (BinaryFrame(AUDIO, 1, b"\x00" * 640, {"rate": 44100}).pack(), "16000 Hz"),
        (BinaryFrame(AUDIO, 1, b"\x00" * 640, {"channels": 3}).pack(), "channels"),
        (BinaryFrame(OPUS, 1, b"\x00" * 40).pack(), "Opus"),
        (b"\x02\x00\x00\x00\x00\x01\x00\x09{not json", "meta"),
    ],
)
def test_a_bad_binary_frame_is_refused(served: Served, frame: bytes, words: str) -> None:
    async def scenario() -> ProtocolError:
        client = await served.paired()
        await client.send_raw(frame)
        error = await _error(client)
        await client.bye()
        return error

    error = run(scenario())
    assert error.code == "bad_frame" and not error.fatal
    assert words in error.message


def test_an_ack_for_a_message_never_sent_is_refused(served: Served) -> None:
    async def scenario() -> ProtocolError:
        client = await served.paired()
        await client.ack(999)
        error = await _error(client)
        await client.bye()
        return error

    assert run(scenario()).code == "bad_ack"


def test_a_device_that_keeps_sending_garbage_is_closed(served: Served) -> None:
    async def scenario() -> ConnectionEnded:
        client = await served.paired()
        for _ in range(25):
            await client.send_raw("garbage")
        with pytest.raises(ConnectionEnded) as ended:
            while True:
                await client.receive()
        return ended.value

    ended = run(scenario())
    assert ended.code == 4000
    assert ended.error is not None and ended.error.code == "too_many_errors"


def test_stats_count_what_was_accepted_and_processed(served: Served) -> None:
    async def scenario() -> dict[str, object]:
        client = await served.paired()
        await client.send_text("volume up")
        await reply(client)
        stats = await client.stats()
        await client.bye()
        return stats

    stats = run(scenario())
    assert stats["session"] and stats["accepted"] == 1 and stats["unacked"] == 0
    assert json.dumps(stats)
