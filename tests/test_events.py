"""Events: one JSON form that round-trips every kind, and refuses anything malformed by name."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest

from oculi.errors import EventError
from oculi.events import (
    EVENT_KINDS,
    SCHEMA_VERSION,
    TOUCH_GESTURES,
    Answer,
    AudioChunk,
    BarcodeSeen,
    Card,
    CardRow,
    CardShown,
    ErrorEvent,
    Event,
    Gaze,
    GpsFix,
    Intent,
    QrSeen,
    RecordingState,
    SpeechOut,
    TextInput,
    Touch,
    Utterance,
    VideoFrame,
    event_from_json,
)

T = 1_700_000_000.25

CARD = Card(
    layout="price",
    title="Oat Drink Barista",
    subtitle="Nordic Oats · 1 L",
    rows=(
        CardRow(label="Online Depot", value="€2.15", highlight=True),
        CardRow(label="QuickShop", value="€2.29"),
        CardRow(label="Out of stock"),
    ),
    footer="Save €0.64 vs. the dearest",
)

# Bytes fields use every byte value, so base64 of anything (not only text) is exercised.
ALL_BYTES = bytes(range(256))

SAMPLES: dict[str, Event] = {
    "audio_chunk": AudioChunk(t=T, pcm=ALL_BYTES[:240], sample_rate=16000, channels=5),
    "video_frame": VideoFrame(t=T, image=ALL_BYTES, media_type="image/png", source="pack.png"),
    "gaze": Gaze(t=T, x=0.25, y=1.0),
    "touch": Touch(t=T, gesture="double_tap"),
    "gps_fix": GpsFix(t=T, lat=-33.8688, lon=151.2093, accuracy_m=12.5),
    "text_input": TextInput(t=T, text="how much is this?"),
    "utterance": Utterance(t=T, text="这个多少钱", source="script", confidence=0.75),
    "barcode_seen": BarcodeSeen(
        t=T, gtin="4006381333931", symbology="EAN-13", raw="4006381333931", x=0.4, y=0.6
    ),
    "qr_seen": QrSeen(t=T, payload="00020101021126…6304ABCD 中文", x=0.5, y=0.5),
    "intent": Intent(
        t=T,
        app="shop",
        action="price",
        args={"gtin": "4006381333931", "count": 2, "nested": {"ok": True, "list": [1, "a"]}},
        path="embedding",
        confidence=0.5,
        text="how much is this",
    ),
    "answer": Answer(t=T, app="shop", action="price", speech="Best price 2 euros 15.", card=CARD),
    "card_shown": CardShown(
        t=T, card=CARD, png=b"\x89PNG\r\n\x1a\n\x00\xff", width=640, height=480
    ),
    "speech_out": SpeechOut(t=T, text="Hello", wav=b"RIFF\x00\x01\x02\xfe", duration_s=0.5),
    "error": ErrorEvent(t=T, stage="vision", message="cannot read frame"),
    "recording_state": RecordingState(
        t=T, camera=True, microphone=False, recipient="shop", reason="frame released to shop"
    ),
}

ANSWER_WITHOUT_CARD = Answer(t=T, app="system", action="help", speech="Ask me a price.")


def _through_json(event: Event) -> Event:
    return event_from_json(json.loads(json.dumps(event.to_json())))


def _body(kind: str) -> dict[str, Any]:
    """The JSON form of the sample of `kind`, as a reader would receive it."""
    body: dict[str, Any] = json.loads(json.dumps(SAMPLES[kind].to_json()))
    return body


def test_samples_cover_every_event_kind() -> None:
    assert set(SAMPLES) == set(EVENT_KINDS)
    for kind, event in SAMPLES.items():
        assert event.kind == kind


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_every_event_kind_round_trips_through_json(kind: str) -> None:
    event = SAMPLES[kind]
    back = _through_json(event)
    assert type(back) is type(event)
    assert back == event


def test_answer_without_card_round_trips() -> None:
    back = _through_json(ANSWER_WITHOUT_CARD)
    assert back == ANSWER_WITHOUT_CARD
    assert isinstance(back, Answer)
    assert back.card is None


def test_card_rows_come_back_as_card_rows_in_a_tuple() -> None:
    back = _through_json(SAMPLES["card_shown"])
    assert isinstance(back, CardShown)
    assert isinstance(back.card.rows, tuple)
    assert all(isinstance(row, CardRow) for row in back.card.rows)
    assert back.card.rows[0].highlight is True
    assert back.card.rows[2].value == ""


def test_bytes_fields_are_base64_text_in_json() -> None:
    body = SAMPLES["video_frame"].to_json()
    assert isinstance(body["image"], str)
    json.dumps(body)  # raises if anything in it is not a JSON value


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_json_carries_schema_version_and_kind(kind: str) -> None:
    body = SAMPLES[kind].to_json()
    assert body["v"] == SCHEMA_VERSION
    assert body["kind"] == kind
    assert body["t"] == T


@pytest.mark.parametrize("version", [None, 0, SCHEMA_VERSION + 1, "1"])
def test_wrong_schema_version_is_refused(version: Any) -> None:
    body = _body("gaze")
    if version is None:
        del body["v"]
    else:
        body["v"] = version
    with pytest.raises(EventError, match="schema version"):
        event_from_json(body)


def test_unknown_event_kind_is_refused() -> None:
    body = _body("gaze")
    body["kind"] = "teleport"
    with pytest.raises(EventError, match="unknown event kind 'teleport'"):
        event_from_json(body)


def test_missing_kind_is_refused() -> None:
    body = _body("gaze")
    del body["kind"]
    with pytest.raises(EventError, match="unknown event kind"):
        event_from_json(body)


@pytest.mark.parametrize(
    ("kind", "field"),
    [("gaze", "x"), ("text_input", "text"), ("audio_chunk", "pcm"), ("card_shown", "card")],
)
def test_missing_required_field_is_refused_naming_the_field(kind: str, field: str) -> None:
    body = _body(kind)
    del body[field]
    with pytest.raises(EventError, match=rf"{kind}: missing field '{field}'"):
        event_from_json(body)


def test_missing_field_inside_a_card_names_the_path() -> None:
    body = _body("answer")
    del body["card"]["title"]
    with pytest.raises(EventError, match=r"answer\.card: missing field 'title'"):
        event_from_json(body)


def test_missing_field_with_a_default_takes_the_default() -> None:
    body = _body("utterance")
    del body["confidence"]
    del body["source"]
    back = event_from_json(body)
    assert isinstance(back, Utterance)
    assert back.confidence == 1.0
    assert back.source == "asr"


@pytest.mark.parametrize(
    ("kind", "field", "value", "where"),
    [
        ("gaze", "x", "0.5", "gaze.x"),
        ("gaze", "y", True, "gaze.y"),
        ("audio_chunk", "sample_rate", 16000.0, "audio_chunk.sample_rate"),
        ("text_input", "text", 42, "text_input.text"),
        ("intent", "args", ["gtin"], "intent.args"),
        ("answer", "card", "a card", "answer.card"),
    ],
)
def test_wrong_type_is_refused_naming_the_field(
    kind: str, field: str, value: Any, where: str
) -> None:
    body = _body(kind)
    body[field] = value
    with pytest.raises(EventError, match="^" + re.escape(where) + ": expected"):
        event_from_json(body)


def test_wrong_type_inside_a_card_row_names_the_row() -> None:
    body = _body("answer")
    body["card"]["rows"][1]["highlight"] = "yes"
    with pytest.raises(EventError, match=r"answer\.card\.rows\[1\]\.highlight: expected bool"):
        event_from_json(body)


def test_integer_is_accepted_for_a_float_field() -> None:
    body = _body("gaze")
    body["x"] = 1
    back = event_from_json(body)
    assert isinstance(back, Gaze)
    assert back.x == 1.0
    assert isinstance(back.x, float)


@pytest.mark.parametrize("text", ["not base64!", "QU=JD", "QUJ", "Q"])
def test_bad_base64_is_refused(text: str) -> None:
    body = _body("video_frame")
    body["image"] = text
    with pytest.raises(EventError, match=r"video_frame\.image: not valid base64"):
        event_from_json(body)


def test_bytes_field_given_a_number_is_refused() -> None:
    body = _body("speech_out")
    body["wav"] = 12
    with pytest.raises(EventError, match=r"speech_out\.wav: expected base64"):
        event_from_json(body)


@pytest.mark.parametrize("body", [[], "gaze", 3, None])
def test_non_object_body_is_refused(body: Any) -> None:
    with pytest.raises(EventError, match="must be a JSON object"):
        event_from_json(body)


def test_constructor_check_applies_when_decoding() -> None:
    body = _body("gaze")
    body["x"] = 1.5
    with pytest.raises(EventError, match=r"^gaze: .*within 0\.\.1"):
        event_from_json(body)


@pytest.mark.parametrize(("x", "y"), [(-0.01, 0.5), (0.5, 1.01), (2.0, 2.0), (float("nan"), 0.5)])
def test_gaze_outside_unit_square_is_refused(x: float, y: float) -> None:
    with pytest.raises(EventError, match="gaze"):
        Gaze(x=x, y=y)


@pytest.mark.parametrize(("x", "y"), [(0.0, 0.0), (1.0, 1.0), (0.5, 0.0)])
def test_gaze_on_the_unit_square_edges_is_accepted(x: float, y: float) -> None:
    gaze = Gaze(x=x, y=y)
    assert (gaze.x, gaze.y) == (x, y)


def test_unknown_touch_gesture_is_refused_listing_the_allowed() -> None:
    with pytest.raises(EventError, match="'pinch'") as err:
        Touch(gesture="pinch")
    for gesture in TOUCH_GESTURES:
        assert gesture in str(err.value)


@pytest.mark.parametrize("gesture", TOUCH_GESTURES)
def test_every_known_touch_gesture_is_accepted(gesture: str) -> None:
    assert Touch(gesture=gesture).gesture == gesture


@pytest.mark.parametrize(("lat", "lon"), [(90.5, 0.0), (-91.0, 0.0), (0.0, 180.5), (0.0, -181.0)])
def test_gps_fix_out_of_range_is_refused(lat: float, lon: float) -> None:
    with pytest.raises(EventError, match="latitude/longitude"):
        GpsFix(lat=lat, lon=lon)


def test_gps_fix_at_the_limits_is_accepted() -> None:
    fix = GpsFix(lat=-90.0, lon=180.0)
    assert (fix.lat, fix.lon) == (-90.0, 180.0)


@pytest.mark.parametrize(("length", "channels"), [(1, 1), (3, 1), (9, 2), (12, 5), (18, 5)])
def test_audio_chunk_that_is_not_whole_frames_is_refused(length: int, channels: int) -> None:
    with pytest.raises(EventError, match="whole frames"):
        AudioChunk(pcm=b"\x00" * length, sample_rate=16000, channels=channels)


def test_audio_chunk_of_whole_frames_is_accepted() -> None:
    chunk = AudioChunk(pcm=b"\x00" * 20, sample_rate=16000, channels=5)
    assert len(chunk.pcm) == 2 * 5 * 2


@pytest.mark.parametrize(("rate", "channels"), [(0, 1), (16000, 0)])
def test_audio_chunk_needs_a_rate_and_a_channel(rate: int, channels: int) -> None:
    with pytest.raises(EventError, match="channels >= 1"):
        AudioChunk(pcm=b"", sample_rate=rate, channels=channels)


@pytest.mark.parametrize("kind", ["gaze", "answer", "intent"])
def test_events_are_frozen(kind: str) -> None:
    event = SAMPLES[kind]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.t = 0.0  # type: ignore[misc]


def test_card_inside_an_answer_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        CARD.title = "other"  # type: ignore[misc]
