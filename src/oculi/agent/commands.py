"""`oculi ask`: one request through the whole session, as the glasses would make it.

The JSON it prints is a contract: `app`, `action`, `args`, `path`, `confidence`, `reply`, `card`
(more fields may be added, never renamed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from rich.console import Console

from oculi.errors import OculiError
from oculi.events import Answer, ErrorEvent, Event, Gaze, Intent, TextInput, VideoFrame
from oculi.runtime.config import PROFILES, Config

console = Console()

MEDIA_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


def add_commands(sub: Any) -> None:
    ask = sub.add_parser("ask", help="ask the agent something, as if said to the glasses")
    ask.add_argument("text", help="the request, e.g. 'how much is this?'")
    ask.add_argument("--image", type=Path, help="what the camera sees (JPEG/PNG)")
    ask.add_argument("--gaze", help="where the wearer looks in the image, X,Y as fractions 0..1")
    ask.add_argument("--profile", choices=PROFILES, help="device profile (default from config)")
    ask.add_argument("--json", action="store_true", help="print the result as JSON")
    ask.set_defaults(handler=_ask)


def parse_gaze(text: str) -> tuple[float, float]:
    try:
        x, y = (float(part) for part in text.split(","))
    except ValueError as err:
        raise OculiError(f"--gaze {text!r}: expected X,Y as two fractions, e.g. 0.5,0.4") from err
    if not (0 <= x <= 1 and 0 <= y <= 1):
        raise OculiError(f"--gaze {text!r}: both values must lie within 0..1")
    return x, y


def _inputs(args: argparse.Namespace) -> list[Event]:
    events: list[Event] = []
    if args.gaze:
        x, y = parse_gaze(args.gaze)
        events.append(Gaze(x=x, y=y))
    if args.image is not None:
        media = MEDIA_TYPES.get(args.image.suffix.lower())
        if media is None:
            raise OculiError(f"{args.image}: expected a .jpg or .png image")
        try:
            image = args.image.read_bytes()
        except OSError as err:
            raise OculiError(f"{args.image}: cannot read the image: {err.strerror}") from err
        events.append(VideoFrame(image=image, media_type=media, source=args.image.name))
    events.append(TextInput(text=args.text))
    return events


def ask(config: Config, inputs: list[Event]) -> dict[str, Any]:
    """Feed the inputs to a fresh session; the decision and reply the last one led to."""
    from oculi.runtime.session import Session

    async def feed_all() -> tuple[list[Event], list[Event]]:
        before: list[Event] = []
        last: list[Event] = []
        for event in inputs:
            before += last
            last = await session.feed(event)
        return before, last

    session = Session(config)
    try:
        before, last = asyncio.run(feed_all())
    finally:
        session.close()
    result = summarise(last)
    result["errors"] = [e.message for e in before if isinstance(e, ErrorEvent)] + result["errors"]
    return result


def summarise(events: list[Event]) -> dict[str, Any]:
    """The `oculi ask` JSON of the events one request caused."""
    intents = [e for e in events if isinstance(e, Intent)]
    answers = [e for e in events if isinstance(e, Answer) and e.speech]
    intent = intents[-1] if intents else None
    answer = answers[-1] if answers else None
    card = answer.card.__dict__ if answer is not None and answer.card is not None else None
    return {
        "app": intent.app if intent else None,
        "action": intent.action if intent else None,
        "args": intent.args if intent else {},
        "path": intent.path if intent else None,
        "confidence": intent.confidence if intent else 0.0,
        "reply": answer.speech if answer else "",
        "card": json.loads(json.dumps(card, default=lambda o: o.__dict__)) if card else None,
        "language": answer.language if answer else None,
        "errors": [e.message for e in events if isinstance(e, ErrorEvent)],
    }


def _ask(args: argparse.Namespace, config: Config) -> int:
    if args.profile:
        config = config.with_overrides(profile=args.profile)
    result = ask(config, _inputs(args))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    console.print(f"[bold]{result['reply']}[/]")
    console.print(
        f"{result['app']}.{result['action']} {result['args']} · via {result['path']} "
        f"({result['confidence']:.2f})",
        style="dim",
    )
    for error in result["errors"]:
        console.print(f"error: {error}", style="yellow")
    return 0
