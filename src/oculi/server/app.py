"""The ASGI app of `oculi serve`: `/ws` for devices, `/health`, `/pairing`, `/emulator/`.

Store work runs on one thread (`StoreThread`); runtime sessions are built off the event loop, one
at a time; everything else is the event loop's. `serve` runs it with uvicorn, `ServerThread`
runs it inside another program (tests, benchmarks). Several `oculi serve` processes may share one
store (and a Redis, `server.redis_url`) behind a load balancer: see `hub.py`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from oculi.errors import OculiError
from oculi.net import tcp_listener
from oculi.runtime.config import Config
from oculi.runtime.session import Session
from oculi.server.connection import DeviceConnection
from oculi.server.devices import DeviceRegistry
from oculi.server.emulator import emulator_routes
from oculi.server.handshake import Context
from oculi.server.hub import Ownership, SessionHub, new_instance_id
from oculi.server.pairing import PairingCode
from oculi.server.peers import make_peers
from oculi.server.protocol import PROTOCOL, Limits
from oculi.server.store import SessionStore, StoreThread

STATIC_DIR = Path(__file__).parent / "static"
"""The browser emulator's files, served at /emulator/ when they are installed."""
LOOPBACK = ("127.0.0.1", "::1")
PING_S = 20.0

log = logging.getLogger("oculi.server")


class ServerError(OculiError):
    """The server cannot start (address in use, store unreadable)."""


def limits_from(config: Config) -> Limits:
    keys = ("max_text_bytes", "max_binary_bytes", "window", "resume_s", "stall_s",
            "max_pending_inputs", "handshake_timeout_s", "pairing_ttl_s")  # fmt: skip
    return Limits(**{key: config.get(f"server.{key}") for key in keys})


def ownership_from(config: Config, instance: str | None = None) -> Ownership:
    return Ownership(
        instance or new_instance_id(),
        lease_s=config.get("server.lease_s"),
        handover_s=config.get("server.handover_s"),
    )


def store_path(config: Config) -> Path:
    path = config.get("server.store_path")
    return Path(path) if path else config.data_dir / "server.sqlite3"


def token_path(config: Config) -> Path:
    """Where `oculi serve` leaves the token that `oculi device pair-code` shows to `/pairing`."""
    return store_path(config).with_name("server-admin.token")


class DeviceServer:
    """The app (`.app`) over one store; sessions are `Session(config)` unless told otherwise."""

    def __init__(
        self,
        config: Config,
        *,
        limits: Limits | None = None,
        store: Path | None = None,
        pairing_code: str | None = None,
        admin_token: str | None = None,
        make_runtime: Callable[[str], Session] | None = None,
        clock: Callable[[], float] = time.time,
        reap_every_s: float = 5.0,
        warm_up: bool = True,
        on_ready: Callable[[], None] | None = None,
        ownership: Ownership | None = None,
    ) -> None:
        self.config = config
        self.limits = limits or limits_from(config)
        self.ownership = ownership or ownership_from(config)
        self.store_path = store or store_path(config)
        self.pairing = PairingCode(self.limits.pairing_ttl_s)
        self.pairing_code = self.pairing.issue(clock(), pairing_code)
        self._admin_token = admin_token
        self._make_runtime = make_runtime or (
            lambda profile: Session(config.with_overrides(profile=profile))
        )
        self._clock = clock
        self._reap_every_s = reap_every_s
        self._warm_up = warm_up
        self._on_ready = on_ready
        self.hub: SessionHub | None = None
        self._context: Context | None = None
        routes: list[Any] = [
            WebSocketRoute("/ws", self._websocket),
            Route("/health", self._health, methods=["GET"]),
            Route("/pairing", self._new_pairing_code, methods=["POST"]),
        ]
        if STATIC_DIR.is_dir():
            routes += emulator_routes(config)  # its API first: the Mount would hide it
            routes.append(Mount("/emulator", StaticFiles(directory=STATIC_DIR, html=True)))
        self.app = Starlette(routes=routes, lifespan=self._lifespan)

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        db = StoreThread()
        path = self.store_path
        try:
            store = await db.run(lambda: SessionStore(path))
            devices = await db.run(lambda: DeviceRegistry(path))
        except OculiError:
            db.shutdown()
            raise
        if self._warm_up:  # the first session would otherwise pay for loading shared models
            runtime = await self._runtime_off_loop()
            runtime.close()
        peers = make_peers(self.config.get("server.redis_url"), self.ownership.instance)
        hub = SessionHub(
            store, db, self._make_runtime, self.limits, profile=self.config.profile,
            clock=self._clock, reap_every_s=self._reap_every_s, ownership=self.ownership,
            peers=peers,
        )  # fmt: skip
        try:
            await hub.start()
        except Exception as err:
            await hub.close()
            await db.run(store.close)
            await db.run(devices.close)
            db.shutdown()
            raise ServerError(f"cannot start the server: {err}") from err
        self.hub = hub
        self._context = Context(hub, devices, db, self.pairing, self.limits, self._clock)
        if self._on_ready:
            self._on_ready()
        try:
            yield
        finally:
            await hub.close()
            await db.run(store.close)
            await db.run(devices.close)
            db.shutdown()

    async def _runtime_off_loop(self) -> Session:
        return await asyncio.to_thread(self._make_runtime, self.config.profile)

    async def _websocket(self, websocket: WebSocket) -> None:
        assert self._context is not None, "the server has not started"
        await DeviceConnection(websocket, self._context).run()

    async def _health(self, request: Request) -> JSONResponse:
        sessions = self.hub.sessions if self.hub else []
        return JSONResponse({
            "status": "ok", "protocol": PROTOCOL, "sessions": len(sessions),
            "connected": sum(s.connection is not None for s in sessions),
            "instance": self.ownership.instance,
        })  # fmt: skip

    async def _new_pairing_code(self, request: Request) -> JSONResponse:
        """A fresh code, for someone at the server's own machine who can read the token file."""
        host = request.client.host if request.client else ""
        if host not in LOOPBACK:
            return _refusal(403, "pairing codes are only handed out on the server's own machine")
        offered = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        token = self._admin_token
        if not token or not hmac.compare_digest(offered.encode(), token.encode()):
            return _refusal(401, "send the token from the server's data folder (Bearer …)")
        code = self.pairing.issue(self._clock())
        log.warning("a fresh pairing code was handed out")
        return JSONResponse({"code": code, "expires_in_s": self.limits.pairing_ttl_s})


def _refusal(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def listen(host: str, port: int) -> socket.socket:
    return tcp_listener(host, port, ServerError)


def uvicorn_config(server: DeviceServer, log_level: str = "warning") -> uvicorn.Config:
    """Frames over twice the app's binary limit are refused by the WebSocket layer, unread."""
    return uvicorn.Config(
        server.app, log_level=log_level, lifespan="on", ws="websockets-sansio",
        ws_max_size=2 * server.limits.max_binary_bytes, ws_ping_interval=PING_S,
        ws_ping_timeout=PING_S,
    )  # fmt: skip


def http_url(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class ServerThread:
    """The server on a free port in a background thread: `with ServerThread(server) as url:`."""

    def __init__(self, server: DeviceServer, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = server
        self._sock = listen(host, port)
        self.url = http_url(host, self._sock.getsockname()[1])
        self._runner = uvicorn.Server(uvicorn_config(server, log_level="critical"))
        self._thread = threading.Thread(
            target=self._runner.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/ws"

    def start(self, timeout_s: float = 60.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._runner.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ServerError("the device server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._runner.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    config: Config,
    *,
    host: str,
    port: int,
    out: Callable[[str], None] = print,
) -> None:
    """Run until interrupted; prints the pairing code, then the addresses once ready."""
    _log_to_console()
    token = secrets.token_urlsafe(24)
    _write_token(token_path(config), token)
    sock = listen(host, port)
    url = http_url(host, sock.getsockname()[1])
    server = DeviceServer(config, admin_token=token, on_ready=lambda: _ready(out, url))
    out(
        f"pairing code: {server.pairing_code} (pairs one device, valid"
        f" {server.limits.pairing_ttl_s / 60:.0f} minutes; `oculi device pair-code` for a new one)"
    )
    if host not in (*LOOPBACK, "localhost"):
        out("warning: plain WebSocket: messages are signed, not private. Put TLS in front.")
    runner = uvicorn.Server(uvicorn_config(server))
    runner.run(sockets=[sock])
    if not runner.started:
        raise ServerError(f"the device server on {url} did not start; see the log above")


def _ready(out: Callable[[str], None], url: str) -> None:
    out(f"devices connect to {url.replace('http://', 'ws://', 1)}/ws (protocol {PROTOCOL})")
    if STATIC_DIR.is_dir():
        out(f"emulator at {url}/emulator/")


def _log_to_console() -> None:
    """Connections, pairings and refusals, one line each, for the person running the server."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def _write_token(path: Path, token: str) -> None:
    """Written aside and renamed into place: processes starting together on one data folder
    do not trip over each other (the last one's token is the file's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    aside.unlink(missing_ok=True)
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    os.replace(aside, path)
