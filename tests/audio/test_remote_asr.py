"""The remote Whisper engine against a real local HTTP server that parses what it is sent: the
OpenAI-compatible request, its errors, the local fallback, and the wiring from config."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from oculi.audio.asr import Transcript, make_recognizer
from oculi.audio.listen import recognizer_from
from oculi.audio.remote_asr import RemoteAsrError, RemoteAsrSettings, RemoteWhisperRecognizer
from oculi.audio.signal import SAMPLE_RATE, Samples, to_pcm16
from oculi.audio.simulate import tts_command
from oculi.errors import ConfigError, SpeechError
from oculi.events import AudioChunk, Utterance
from oculi.runtime.config import load_config
from oculi.runtime.session import Session

REPLY = {"text": " How much is this?"}
"""What whisper.cpp's server answers with response_format=json (leading space included)."""


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    fields: dict[str, str]
    wav: dict[str, int]


@dataclass
class FakeServer:
    """Answers each POST with the next scripted (status, body, delay_s), the last one repeated."""

    url: str = ""
    script: list[tuple[int, bytes, float]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def answer(self, status: int, body: bytes | dict[str, Any], delay_s: float = 0.0) -> None:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        self.script.append((status, raw, delay_s))


def _parse(handler: BaseHTTPRequestHandler) -> Received:
    length = int(handler.headers["Content-Length"])
    body = handler.rfile.read(length)
    head = f"Content-Type: {handler.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    assert message.is_multipart()
    fields: dict[str, str] = {}
    wav: dict[str, int] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if name == "file":
            assert part.get_filename() == "speech.wav"
            with wave.open(io.BytesIO(payload), "rb") as reader:
                wav = {
                    "rate": reader.getframerate(), "channels": reader.getnchannels(),
                    "width": reader.getsampwidth(), "frames": reader.getnframes(),
                }  # fmt: skip
        else:
            fields[str(name)] = payload.decode()
    return Received(handler.path, dict(handler.headers), fields, wav)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            fake.received.append(_parse(self))
            status, body, delay = fake.script[min(len(fake.received), len(fake.script)) - 1]
            time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield fake
    httpd.shutdown()
    httpd.server_close()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _speech(seconds: float = 1.5) -> Samples:
    rng = np.random.default_rng(0)
    return (rng.standard_normal(round(seconds * SAMPLE_RATE)) * 0.05).astype(np.float32)


class LocalEngine:
    """A stand-in for the on-device Whisper: honours the protocol, counts its calls."""

    name = "local"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def transcribe(self, samples: Samples, hint: str = "") -> Transcript:
        self.calls.append(hint)
        return Transcript("how much is this", (), self.name, 0.01)


def test_the_server_gets_a_16k_mono_wav_and_the_hint_and_its_text_comes_back(
    server: FakeServer,
) -> None:
    server.answer(200, REPLY)
    settings = RemoteAsrSettings(server.url, model="large-v3", api_key="sk-test", language="en")
    recognizer = RemoteWhisperRecognizer(settings)
    audio = _speech(1.5)
    transcript = recognizer.transcribe(audio, hint="Hey Oculi. How much is this?")
    assert transcript.text == "How much is this?"
    assert transcript.engine == "remote"
    assert [s.text for s in transcript.segments] == ["How much is this?"]
    (got,) = server.received
    assert got.path == "/v1/audio/transcriptions"
    assert got.headers["Authorization"] == "Bearer sk-test"
    assert got.fields == {
        "model": "large-v3", "response_format": "json",
        "prompt": "Hey Oculi. How much is this?", "language": "en",
    }  # fmt: skip
    assert got.wav == {"rate": 16000, "channels": 1, "width": 2, "frames": audio.size}


def test_a_base_url_ending_in_v1_is_not_doubled(server: FakeServer) -> None:
    server.answer(200, REPLY)
    recognizer = RemoteWhisperRecognizer(RemoteAsrSettings(server.url + "/v1/", language=""))
    recognizer.transcribe(_speech())
    (got,) = server.received
    assert got.path == "/v1/audio/transcriptions"
    assert "language" not in got.fields and "prompt" not in got.fields
    assert "Authorization" not in got.headers


def test_silence_is_not_sent(server: FakeServer) -> None:
    recognizer = RemoteWhisperRecognizer(RemoteAsrSettings(server.url))
    assert recognizer.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32)).text == ""
    assert recognizer.transcribe(_speech(0.05)).text == ""
    assert server.received == []


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, {"error": {"message": "model not loaded"}}, "HTTP 500: model not loaded"),
        (401, b"unauthorised", "HTTP 401"),
        (200, b"<html>proxy login</html>", "non-JSON"),
        (200, {"segments": []}, "no text"),
        (200, b"[1, 2]", "no text"),
    ],
)
def test_a_bad_answer_is_a_clear_error(
    server: FakeServer, status: int, body: bytes | dict[str, Any], message: str
) -> None:
    server.answer(status, body)
    recognizer = RemoteWhisperRecognizer(RemoteAsrSettings(server.url))
    with pytest.raises(RemoteAsrError, match=message) as caught:
        recognizer.transcribe(_speech())
    assert isinstance(caught.value, SpeechError)
    assert server.url in str(caught.value)
    assert recognizer.last_error == str(caught.value)


def test_a_server_that_does_not_answer_in_time_is_an_error(server: FakeServer) -> None:
    server.answer(200, REPLY, delay_s=1.0)
    recognizer = RemoteWhisperRecognizer(RemoteAsrSettings(server.url, timeout_s=0.2))
    with pytest.raises(RemoteAsrError, match="did not answer"):
        recognizer.transcribe(_speech())


def test_a_refused_connection_is_an_error() -> None:
    recognizer = RemoteWhisperRecognizer(RemoteAsrSettings(_closed_port_url()))
    with pytest.raises(RemoteAsrError, match="did not answer"):
        recognizer.transcribe(_speech())


def test_the_local_engine_answers_when_the_server_is_down() -> None:
    local = LocalEngine()
    recognizer = RemoteWhisperRecognizer(RemoteAsrSettings(_closed_port_url()), fallback=local)
    transcript = recognizer.transcribe(_speech(), hint="Hey Oculi.")
    assert transcript.text == "how much is this"
    assert transcript.engine == "local"
    assert local.calls == ["Hey Oculi."]
    assert recognizer.last_error is not None and "did not answer" in recognizer.last_error


def test_after_a_failure_the_server_is_left_alone_for_a_while(server: FakeServer) -> None:
    server.answer(500, b"{}")
    server.answer(200, REPLY)
    local = LocalEngine()
    recognizer = RemoteWhisperRecognizer(
        RemoteAsrSettings(server.url, retry_after_s=3600), fallback=local
    )
    assert recognizer.transcribe(_speech()).engine == "local"
    assert recognizer.transcribe(_speech()).engine == "local"
    assert len(server.received) == 1 and len(local.calls) == 2


def test_the_server_is_tried_again_after_the_pause(server: FakeServer) -> None:
    server.answer(500, b"{}")
    server.answer(200, REPLY)
    local = LocalEngine()
    recognizer = RemoteWhisperRecognizer(
        RemoteAsrSettings(server.url, retry_after_s=0), fallback=local
    )
    assert recognizer.transcribe(_speech()).engine == "local"
    assert recognizer.transcribe(_speech()).engine == "remote"
    assert recognizer.last_error is None
    assert len(server.received) == 2


def test_make_recognizer_builds_the_remote_engine() -> None:
    settings = RemoteAsrSettings("http://homebox:8000")
    recognizer = make_recognizer("remote", settings=settings)
    assert isinstance(recognizer, RemoteWhisperRecognizer) and recognizer.fallback is None
    with pytest.raises(ConfigError, match="remote"):
        make_recognizer("remote", window_s=6.0)
    with pytest.raises(ConfigError, match="http"):
        RemoteAsrSettings("homebox:8000")


def test_config_selects_the_remote_engine_with_its_key_and_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEBOX_KEY", "sk-home")
    env = {
        "OCULI_DATA_DIR": str(tmp_path), "OCULI_VOICE__ASR_ENGINE": "remote",
        "OCULI_VOICE__ASR_URL": "http://homebox:8000", "OCULI_VOICE__ASR_MODEL": "small",
        "OCULI_VOICE__ASR_API_KEY_ENV": "HOMEBOX_KEY", "OCULI_VOICE__ASR_TIMEOUT_S": "3",
    }  # fmt: skip
    recognizer = recognizer_from(load_config(env=env))
    assert isinstance(recognizer, RemoteWhisperRecognizer)
    assert recognizer.settings.model == "small" and recognizer.settings.api_key == "sk-home"
    assert recognizer.settings.timeout_s == 3.0
    assert recognizer.fallback is not None and recognizer.fallback.name == "whisper"
    alone = recognizer_from(load_config(env={**env, "OCULI_VOICE__ASR_FALLBACK": "false"}))
    assert isinstance(alone, RemoteWhisperRecognizer) and alone.fallback is None
    with pytest.raises(ConfigError, match=r"voice\.asr_url"):
        recognizer_from(load_config(env={**env, "OCULI_VOICE__ASR_URL": ""}))
    with pytest.raises(ConfigError, match=r"voice\.asr_url"):
        load_config(env={**env, "OCULI_VOICE__ASR_URL": "homebox:8000"})


def test_a_session_hears_the_wearer_through_the_remote_engine(
    server: FakeServer, tmp_path: Path
) -> None:
    server.answer(200, REPLY)
    env = {
        "OCULI_DATA_DIR": str(tmp_path), "OCULI_VOICE__ASR_ENGINE": "remote",
        "OCULI_VOICE__ASR_URL": server.url, "OCULI_VOICE__ASR_FALLBACK": "false",
        "OCULI_VOICE__REQUIRE_WAKE": "false", "OCULI_AGENT__EMBEDDING": "off",
    }  # fmt: skip
    session = Session(load_config(env=env))
    try:
        pad = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
        speech = np.concatenate([pad, tts_command("how much is this"), pad, pad])
        chunk = AudioChunk(pcm=to_pcm16(speech), sample_rate=SAMPLE_RATE, channels=1, last=True)
        events = asyncio.run(session.feed(chunk))
    finally:
        session.close()
    utterances = [e for e in events if isinstance(e, Utterance)]
    assert [u.text for u in utterances] == ["how much is this"]
    assert server.received and server.received[0].fields["prompt"].startswith("Hey Oculi.")
