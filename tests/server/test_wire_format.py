"""The byte layouts docs/protocol.md promises, checked against the code that makes them."""

from __future__ import annotations

import json
import struct

from oculi.events import AudioChunk, Card, CardRow, CardShown, SpeechOut, TextInput, VideoFrame
from oculi.hud.render import render_card
from oculi.runtime.profile import load_profile
from oculi.server.frames import (
    AUDIO,
    CARD,
    SPEECH,
    VIDEO,
    input_event,
    input_frame,
    output_event,
    output_frame,
    unpack,
)
from oculi.server.protocol import signed_text


def test_a_mono_audio_frame_is_an_8_byte_header_and_the_pcm() -> None:
    pcm = b"\x01\x00" * 320
    frame = input_frame(AudioChunk(pcm=pcm, sample_rate=16000, channels=1, last=True), 7)
    assert isinstance(frame, bytes)
    assert frame[:8] == bytes([AUDIO, 0x01]) + struct.pack(">I", 7) + b"\x00\x00"
    assert frame[8:] == pcm


def test_device_frames_read_back_as_the_events_they_carry() -> None:
    chunk = AudioChunk(pcm=b"\x00\x00" * 5 * 4, sample_rate=16000, channels=5)
    back = input_event(unpack(input_frame(chunk, 3)), (1, 5))
    assert isinstance(back, AudioChunk) and (back.channels, back.pcm) == (5, chunk.pcm)
    jpeg = b"\xff\xd8\xff\xe0fake"
    frame = unpack(input_frame(VideoFrame(image=jpeg, source="cam"), 4))
    assert (frame.kind, frame.seq, frame.meta) == (VIDEO, 4, {"source": "cam"})
    assert isinstance(input_event(frame, (1,)), VideoFrame)


def test_other_events_go_as_json_envelopes() -> None:
    body = json.loads(input_frame(TextInput(text="hi", t=1.0), 9))
    assert body == {"type": "event", "seq": 9,
                    "event": {"v": 1, "kind": "text_input", "t": 1.0, "text": "hi"}}  # fmt: skip


def test_cards_and_speech_come_back_as_binary_with_the_event_as_meta() -> None:
    card = Card(layout="message", title="Hello", rows=(CardRow(label="a", value="b"),))
    display = load_profile("s1").display
    assert display is not None
    png = render_card(card, display)
    shown = CardShown(card=card, png=png, width=display.width, height=display.height)
    frame = unpack(output_frame(shown, 12))
    assert (frame.kind, frame.seq, frame.payload) == (CARD, 12, png)
    assert "png" not in frame.meta and frame.meta["kind"] == "card_shown"
    assert output_event(frame) == shown
    speech = SpeechOut(text="hi", wav=b"RIFF....WAVE", duration_s=0.1)
    frame = unpack(output_frame(speech, 13))
    assert frame.kind == SPEECH and output_event(frame) == speech


def test_the_signed_text_is_seven_lines() -> None:
    text = signed_text("auth", "nonce123", "dev_" + "0" * 24, "1712345678", "", "0")
    assert text == b"oculi/1\nauth\nnonce123\ndev_000000000000000000000000\n1712345678\n\n0"
