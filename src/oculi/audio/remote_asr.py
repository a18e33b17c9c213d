"""A bigger Whisper on a phone or home box, over any OpenAI-compatible transcription endpoint.

whisper.cpp's server, faster-whisper-server (speaches), vLLM and OpenAI itself all take
`POST {url}/v1/audio/transcriptions` as multipart/form-data (a WAV `file`, `model`, `prompt`,
`language`, `response_format=json`) and answer `{"text": ...}`; this engine speaks exactly that
over plain HTTP (stdlib). The glasses leave home: when the endpoint is down, slow or answers
garbage, the local engine (if given) transcribes instead, and the endpoint is left alone for a
while so that every utterance does not wait on the same dead connection.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
import wave
from dataclasses import dataclass, field, replace

import numpy as np

from oculi.audio.asr import MIN_SPEECH_S, Segment, SpeechRecognizer, Transcript, mono
from oculi.audio.signal import SAMPLE_RATE, Samples, to_pcm16
from oculi.errors import ConfigError, SpeechError

log = logging.getLogger("oculi.audio")
MAX_REPLY_BYTES = 1_000_000


class RemoteAsrError(SpeechError):
    """The transcription endpoint could not be reached, timed out, or answered no transcript."""


@dataclass(frozen=True)
class RemoteAsrSettings:
    url: str
    """Base URL of the server, without `/v1`: http://homebox:8000 (the config's voice.asr_url)."""
    model: str = "whisper-1"
    """The server's name for the model (whisper.cpp ignores it; speaches wants a hub name)."""
    api_key: str = field(default="", repr=False)
    timeout_s: float = 5.0
    """A command transcribed later than this is no use to the wearer: fall back instead."""
    language: str = "en"
    """ISO-639-1 code sent to the server; empty lets it detect the language."""
    retry_after_s: float = 30.0
    """After a failure, the fallback transcribes without trying the endpoint for this long."""

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"the remote ASR URL must start with http(s)://: {self.url!r}")
        if self.timeout_s <= 0 or self.retry_after_s < 0:
            raise ConfigError("the remote ASR timeout must be positive and the retry delay ≥ 0")

    @property
    def endpoint(self) -> str:
        base = self.url.rstrip("/")
        return (base if base.endswith("/v1") else base + "/v1") + "/audio/transcriptions"


class RemoteWhisperRecognizer:
    """`SpeechRecognizer` against a transcription endpoint, with an optional local fallback.
    Without a fallback a failure raises RemoteAsrError; with one, the transcript's `engine`
    names the engine that actually answered."""

    name = "remote"

    def __init__(
        self, settings: RemoteAsrSettings, fallback: SpeechRecognizer | None = None
    ) -> None:
        self.settings = settings
        self.fallback = fallback
        self.last_error: str | None = None
        """Why the endpoint last failed (None once it answers again)."""
        self._down_until = 0.0
        self._lock = threading.Lock()

    def transcribe(self, samples: Samples, hint: str = "") -> Transcript:
        started = time.perf_counter()
        audio = mono(samples)
        if audio.size < MIN_SPEECH_S * SAMPLE_RATE or not np.any(audio):
            return Transcript("", (), self.name, time.perf_counter() - started)
        if self.fallback is not None and time.monotonic() < self._down_until:
            return self._fall_back(audio, hint, started)
        try:
            text = self._post(audio, hint)
        except RemoteAsrError as err:
            with self._lock:
                self.last_error = str(err)
                self._down_until = time.monotonic() + self.settings.retry_after_s
            if self.fallback is None:
                raise
            log.warning("%s; transcribing on the device instead", err)
            return self._fall_back(audio, hint, started)
        with self._lock:
            self.last_error, self._down_until = None, 0.0
        duration = audio.size / SAMPLE_RATE
        segments = (Segment(0.0, duration, text),) if text else ()
        return Transcript(text, segments, self.name, time.perf_counter() - started)

    def _fall_back(self, audio: Samples, hint: str, started: float) -> Transcript:
        assert self.fallback is not None
        transcript = self.fallback.transcribe(audio, hint)
        return replace(transcript, seconds=time.perf_counter() - started)

    def _post(self, audio: Samples, hint: str) -> str:
        url = self.settings.endpoint
        fields = {"model": self.settings.model, "response_format": "json"}
        if hint:
            fields["prompt"] = hint
        if self.settings.language:
            fields["language"] = self.settings.language
        boundary = f"oculi-{uuid.uuid4().hex}"
        body = multipart(fields, "file", "speech.wav", wav_bytes(audio), boundary)
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        request = urllib.request.Request(url, body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout_s) as response:
                raw = response.read(MAX_REPLY_BYTES)
        except urllib.error.HTTPError as err:
            raise RemoteAsrError(
                f"the speech recognizer at {url} answered HTTP {err.code}{_detail(err)}"
            ) from err
        except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as err:
            reason = getattr(err, "reason", err) or type(err).__name__
            raise RemoteAsrError(f"the recognizer at {url} did not answer: {reason}") from err
        try:
            reply = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise RemoteAsrError(f"the speech recognizer at {url} answered non-JSON") from err
        text = reply.get("text") if isinstance(reply, dict) else None
        if not isinstance(text, str):
            raise RemoteAsrError(
                f"the speech recognizer at {url} answered no text: {str(reply)[:200]}"
            )
        return " ".join(text.split())


def _detail(err: urllib.error.HTTPError) -> str:
    """The server's own error message, when it sent one (OpenAI's {"error": {"message"}})."""
    try:
        reply = json.loads(err.read(10_000))
    except (OSError, ValueError, http.client.HTTPException):
        return ""
    error = reply.get("error") if isinstance(reply, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    return f": {str(message)[:200]}" if message else ""


def wav_bytes(samples: Samples) -> bytes:
    """Mono 16 kHz float samples as a 16-bit PCM WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(to_pcm16(samples))
    return buffer.getvalue()


def multipart(
    fields: dict[str, str], file_field: str, filename: str, content: bytes, boundary: str
) -> bytes:
    """A multipart/form-data body: text fields, then one file."""
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{filename}"\r\nContent-Type: audio/wav\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)
