"""`oculi serve` and `oculi device …`: run the device server, and be a device by hand.

Exit codes: 0 success, 2 bad input or a refusal (the message names the rule that refused it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import urllib.error
import urllib.request
import wave
from pathlib import Path
from typing import Any

from oculi.events import Event, Gaze
from oculi.runtime.config import PROFILES, Config
from oculi.server.app import http_url, serve, token_path
from oculi.server.client import DeviceClient
from oculi.server.errors import ConnectionEnded, ProtocolError
from oculi.server.protocol import AUDIO_RATE
from oculi.services.wallet.signing import DeviceKey

CHUNK_S = 0.02


def add_commands(sub: Any) -> None:
    """Add `serve` and `device` to the `oculi` subcommands (argparse's subparsers object)."""
    serve_cmd = sub.add_parser(
        "serve", help="serve sessions to glasses and the emulator over WebSocket (docs/protocol.md)"
    )
    serve_cmd.add_argument("--host", help="address to listen on (default: config server.host)")
    serve_cmd.add_argument(
        "--port", type=int, help="port (default: config server.port, 8750; 0: any free one)"
    )
    serve_cmd.add_argument("--profile", choices=PROFILES, help="device profile of the sessions")
    serve_cmd.set_defaults(handler=_serve)

    device = sub.add_parser("device", help="act as a device towards `oculi serve`")
    device_sub = device.add_subparsers(required=True, metavar="ACTION")
    code = device_sub.add_parser("pair-code", help="a fresh pairing code (on the server's machine)")
    code.add_argument("--url", help="the server, http://HOST:PORT (default: from config)")
    code.set_defaults(handler=_pair_code)

    send = device_sub.add_parser("send", help="send a photo, audio and/or text; print the replies")
    send.add_argument("--url", help="ws://HOST:PORT/ws (default: from config)")
    send.add_argument("--code", help="the server's pairing code (first connection only)")
    send.add_argument("--key", type=Path, help="device key file (default: <data_dir>/device.key)")
    send.add_argument("--image", type=Path, help="a JPEG: what the camera sees")
    send.add_argument("--gaze", help="where the wearer looks, X,Y in 0..1")
    send.add_argument("--audio", type=Path, help="a WAV, 16 kHz PCM16, mono or the array")
    send.add_argument("--text", help="typed input, e.g. 'how much is this'")
    send.add_argument("--wait", type=float, default=5.0, help="seconds of quiet that end it")
    send.add_argument("--json", action="store_true", help="print events as JSON lines")
    send.set_defaults(handler=_send)


def _serve(args: argparse.Namespace, config: Config) -> int:
    if args.profile:
        config = config.with_overrides(profile=args.profile)
    host = args.host or config.get("server.host")
    port = config.get("server.port") if args.port is None else args.port
    serve(config, host=host, port=port)
    return 0


def _local_url(config: Config) -> str:
    host = config.get("server.host")
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return http_url(local, config.get("server.port"))


def _pair_code(args: argparse.Namespace, config: Config) -> int:
    path = token_path(config)
    if not path.exists():
        raise ProtocolError("pairing_closed", f"no {path}: is `oculi serve` running here?")
    url = (args.url or _local_url(config)).rstrip("/") + "/pairing"
    request = urllib.request.Request(
        url, method="POST", headers={"Authorization": f"Bearer {path.read_text().strip()}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            answer = json.load(reply)
    except urllib.error.HTTPError as err:
        raise ProtocolError("pairing_closed", f"{url} refused: {err.read().decode()}") from err
    except OSError as err:
        raise ProtocolError("pairing_closed", f"cannot reach {url}: {err}") from err
    print(f"pairing code: {answer['code']} (valid {answer['expires_in_s'] / 60:.0f} minutes)")
    return 0


def _send(args: argparse.Namespace, config: Config) -> int:
    url = args.url or _local_url(config).replace("http://", "ws://", 1) + "/ws"
    key = DeviceKey.load_or_create(args.key or config.data_dir / "device.key")
    inputs: list[Event] = []
    if args.gaze:
        x, y = (float(v) for v in args.gaze.split(","))
        inputs.append(Gaze(x=x, y=y))
    client = DeviceClient(url, key, name="oculi device send")
    try:
        asyncio.run(_exchange(client, args, inputs))
    except ConnectionEnded as err:
        raise ProtocolError("session_ended", str(err)) from err
    return 0


async def _exchange(client: DeviceClient, args: argparse.Namespace, inputs: list[Event]) -> None:
    welcome = await client.connect(pairing_code=args.code)
    if not args.json:
        print(f"session {welcome['session']} ({welcome['profile']})")
    for event in inputs:
        await client.send(event)
    if args.image:
        await client.send_frame(args.image.read_bytes(), source=args.image.name)
    if args.audio:
        for chunk, last in _chunks(args.audio):
            await client.send_audio(chunk[0], channels=chunk[1], last=last)
    if args.text:
        await client.send_text(args.text)
    while True:
        try:
            message = await client.receive(timeout_s=args.wait)
        except TimeoutError:
            break
        if message.event is not None:
            _show(message.event, args.json)
        elif message.error is not None:
            print(f"refused: {message.error}")
    await client.bye()


def _chunks(path: Path) -> list[tuple[tuple[bytes, int], bool]]:
    with wave.open(str(path), "rb") as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        if rate != AUDIO_RATE or width != 2:
            raise ProtocolError("bad_frame", f"{path}: the protocol wants 16 kHz PCM16 audio")
        hop = int(AUDIO_RATE * CHUNK_S)
        frames = []
        while data := wav.readframes(hop):
            frames.append((data, channels))
    return [(chunk, i == len(frames) - 1) for i, chunk in enumerate(frames)]


def _show(event: Event, as_json: bool) -> None:
    body = event.to_json()
    for name in ("png", "wav", "pcm", "image"):
        if name in body:
            body[name] = f"<{len(getattr(event, name))} bytes>"
    if as_json:
        print(json.dumps(body, ensure_ascii=False))
        return
    said = body.get("speech") or body.get("text") or body.get("message") or ""
    print(f"{event.kind:12} {said}")
