"""The typed events that flow between stages, and their one JSON form.

Scenario recordings, the event log and the wire protocol all use `to_json` / `event_from_json`,
so an event written by one part of Oculi can be read back by any other.
"""

from __future__ import annotations

import base64
import dataclasses
import time
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

from oculi.errors import EventError

SCHEMA_VERSION = 1
"""Bumped whenever a field changes meaning; readers refuse versions they do not know."""

TOUCH_GESTURES = ("tap", "double_tap", "long_press", "swipe_forward", "swipe_back")

_REGISTRY: dict[str, type[Event]] = {}

E = TypeVar("E", bound="Event")


def _register(cls: type[E]) -> type[E]:
    _REGISTRY[cls.kind] = cls
    return cls


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every event: a timestamp and a kind that names its type on the wire."""

    kind: ClassVar[str] = "event"
    t: float = field(default_factory=time.time)
    """Wall-clock seconds (Unix time) when the event was made."""

    def to_json(self) -> dict[str, Any]:
        """The event as plain JSON values, with its kind and the schema version."""
        body: dict[str, Any] = {"v": SCHEMA_VERSION, "kind": self.kind}
        for f in dataclasses.fields(self):
            body[f.name] = _encode(getattr(self, f.name))
        return body


# --- sensor input -------------------------------------------------------------------------------


@_register
@dataclass(frozen=True, kw_only=True)
class AudioChunk(Event):
    """A slice of microphone audio, all channels interleaved."""

    kind: ClassVar[str] = "audio_chunk"
    pcm: bytes
    """Signed 16-bit little-endian samples, interleaved by channel."""
    sample_rate: int
    channels: int
    last: bool = False
    """The stream pauses or ends after this chunk (end of a recording, microphone closed)."""

    def __post_init__(self) -> None:
        if self.channels < 1 or self.sample_rate < 1:
            raise EventError("audio_chunk needs channels >= 1 and sample_rate >= 1")
        if len(self.pcm) % (2 * self.channels):
            raise EventError(f"audio_chunk pcm length {len(self.pcm)} is not whole frames")


@_register
@dataclass(frozen=True, kw_only=True)
class VideoFrame(Event):
    """One camera frame, kept encoded (JPEG/PNG) as the camera delivers it."""

    kind: ClassVar[str] = "video_frame"
    image: bytes
    """The encoded image file."""
    media_type: str = "image/jpeg"
    source: str = ""
    """Where the frame came from (file name, device camera), for logs and reports."""


@_register
@dataclass(frozen=True, kw_only=True)
class Gaze(Event):
    """Where the wearer looks, as a fraction of the frame (0,0 top left; 1,1 bottom right)."""

    kind: ClassVar[str] = "gaze"
    x: float
    y: float

    def __post_init__(self) -> None:
        if not (0.0 <= self.x <= 1.0 and 0.0 <= self.y <= 1.0):
            raise EventError(f"gaze ({self.x}, {self.y}) must lie within 0..1 on both axes")


@_register
@dataclass(frozen=True, kw_only=True)
class Touch(Event):
    """A touch or button gesture on the temple."""

    kind: ClassVar[str] = "touch"
    gesture: str

    def __post_init__(self) -> None:
        if self.gesture not in TOUCH_GESTURES:
            raise EventError(
                f"touch gesture {self.gesture!r}: allowed are {', '.join(TOUCH_GESTURES)}"
            )


@_register
@dataclass(frozen=True, kw_only=True)
class GpsFix(Event):
    """A position from the phone or the glasses' own receiver."""

    kind: ClassVar[str] = "gps_fix"
    lat: float
    lon: float
    accuracy_m: float = 5.0

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            raise EventError(f"gps fix ({self.lat}, {self.lon}) is not a valid latitude/longitude")


@_register
@dataclass(frozen=True, kw_only=True)
class TextInput(Event):
    """Text typed by the wearer (companion app, emulator) instead of spoken."""

    kind: ClassVar[str] = "text_input"
    text: str


# --- percepts -----------------------------------------------------------------------------------


@_register
@dataclass(frozen=True, kw_only=True)
class Utterance(Event):
    """What the wearer said, as text."""

    kind: ClassVar[str] = "utterance"
    text: str
    source: str = "asr"
    """`asr` for recognised speech, `script` for a scenario's `say:` step."""
    confidence: float = 1.0
    wake: bool = False
    """The wake phrase opened this utterance."""
    own_voice_score: float | None = None
    """0..1 from the bone-conduction check; None when the device cannot tell."""


@_register
@dataclass(frozen=True, kw_only=True)
class BarcodeSeen(Event):
    """A product barcode read in the frame, closest to where the wearer looks."""

    kind: ClassVar[str] = "barcode_seen"
    gtin: str
    """The normalised 13-digit GTIN (check digit verified)."""
    symbology: str
    raw: str
    """The text exactly as the reader decoded it."""
    x: float
    y: float
    """Centre of the code as a fraction of the frame."""


@_register
@dataclass(frozen=True, kw_only=True)
class QrSeen(Event):
    """A QR code read in the frame (a merchant's payment code…), raw: apps decide what it means."""

    kind: ClassVar[str] = "qr_seen"
    payload: str
    x: float
    y: float


# --- agent --------------------------------------------------------------------------------------


@_register
@dataclass(frozen=True, kw_only=True)
class Intent(Event):
    """A decision to call one app action: the tool call the agent makes."""

    kind: ClassVar[str] = "intent"
    app: str
    action: str
    args: dict[str, Any] = field(default_factory=dict)
    path: str = "parser"
    """How it was understood: `parser`, `embedding` or `llm`."""
    confidence: float = 1.0
    text: str = ""
    """The words that led to it."""


# --- presentation -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CardRow:
    """One line of a card: a label and its value; `highlight` marks the line that matters most."""

    label: str
    value: str = ""
    highlight: bool = False


@dataclass(frozen=True, kw_only=True)
class Card:
    """What an app wants on the display; the HUD decides how it looks for the profile."""

    layout: str
    """The card template: `price`, `message`, `error`."""
    title: str
    subtitle: str = ""
    rows: tuple[CardRow, ...] = ()
    footer: str = ""


@_register
@dataclass(frozen=True, kw_only=True)
class Answer(Event):
    """An app's reply: always a spoken form, and a card for profiles with a display."""

    kind: ClassVar[str] = "answer"
    app: str
    action: str
    speech: str
    card: Card | None = None
    language: str = "en"
    """Language of `speech` (`en`, `zh`): the wearer is answered in the language they asked in."""


@_register
@dataclass(frozen=True, kw_only=True)
class CardShown(Event):
    """A card rendered for the display at the profile's resolution."""

    kind: ClassVar[str] = "card_shown"
    card: Card
    png: bytes
    width: int
    height: int
    seconds: float = 8.0
    """How long the display keeps the card before it fades (`hud.card_seconds`)."""


@_register
@dataclass(frozen=True, kw_only=True)
class SpeechOut(Event):
    """A spoken reply, synthesised to audio for the ear speaker."""

    kind: ClassVar[str] = "speech_out"
    text: str
    wav: bytes
    duration_s: float


@_register
@dataclass(frozen=True, kw_only=True)
class RecordingState(Event):
    """What is being captured for someone right now: the device's recording indicator follows it."""

    kind: ClassVar[str] = "recording_state"
    camera: bool
    """A camera frame is being taken or handed to a recipient."""
    microphone: bool
    """A recording of the microphone is being handed to a recipient."""
    recipient: str = ""
    """Who gets it: an app's name, or an LLM endpoint's host; empty when capture stops."""
    reason: str = ""
    """Why the state changed, in a few words (`frame released to shop`, `done`)."""


@_register
@dataclass(frozen=True, kw_only=True)
class ErrorEvent(Event):
    """Something went wrong in a stage; the session carries on."""

    kind: ClassVar[str] = "error"
    stage: str
    message: str


EVENT_KINDS: tuple[str, ...] = tuple(_REGISTRY)


def event_from_json(body: Any) -> Event:
    """Rebuild an event from its JSON form; anything malformed raises EventError naming it."""
    if not isinstance(body, dict):
        raise EventError(f"an event must be a JSON object, got {type(body).__name__}")
    version = body.get("v")
    if version != SCHEMA_VERSION:
        raise EventError(
            f"event schema version {version!r} is not supported (want {SCHEMA_VERSION})"
        )
    kind = body.get("kind")
    cls = _REGISTRY.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EventError(f"unknown event kind {kind!r}; known: {', '.join(EVENT_KINDS)}")
    event: Event = _decode_dataclass(cls, body, cls.kind)
    return event


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


def _decode_dataclass(cls: type[Any], body: dict[str, Any], where: str) -> Any:
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in body:
            no_default = (
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            )
            if no_default:
                raise EventError(f"{where}: missing field {f.name!r}")
            continue
        values[f.name] = _decode(hints[f.name], body[f.name], f"{where}.{f.name}")
    try:
        return cls(**values)
    except EventError as err:
        raise EventError(f"{where}: {err}") from err


def _decode(hint: Any, value: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return _decode(inner, value, where)
    if hint is Any:
        return value
    if hint is bytes:
        if not isinstance(value, str):
            raise EventError(f"{where}: expected base64 text")
        try:
            return base64.b64decode(value, validate=True)
        except ValueError as err:
            raise EventError(f"{where}: not valid base64") from err
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise EventError(f"{where}: expected an object")
        return _decode_dataclass(typing.cast(type[Any], hint), value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise EventError(f"{where}: expected a list")
        (item,) = get_args(hint)[:1]
        return tuple(_decode(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise EventError(f"{where}: expected an object")
        return value
    return _decode_scalar(hint, value, where)


def _decode_scalar(hint: Any, value: Any, where: str) -> Any:
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and type(value) is hint:
        return value
    raise EventError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r:.40}")
