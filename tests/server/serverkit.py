"""Helpers of the server tests: the running server, paired clients, a movable clock, replies."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from oculi.events import Event
from oculi.server.app import DeviceServer, ServerThread
from oculi.server.client import DeviceClient
from oculi.server.protocol import Limits
from oculi.services.wallet.signing import DeviceKey

TOKEN = "test-admin-token-0123456789"
LIMITS = Limits(max_text_bytes=16 * 1024, max_binary_bytes=256 * 1024, resume_s=30.0)
T = TypeVar("T")


@dataclass
class Clock:
    """Wall time plus an offset the tests can move."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Served:
    thread: ServerThread
    clock: Clock
    data_dir: Path
    clients: list[DeviceClient] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.thread.ws_url

    @property
    def server(self) -> DeviceServer:
        return self.thread.server

    def pairing_code(self) -> str:
        request = urllib.request.Request(
            self.thread.url + "/pairing",
            method="POST",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            return str(json.load(reply)["code"])

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.thread.url + "/health", timeout=10) as reply:
            data: dict[str, Any] = json.load(reply)
            return data

    def client(self, key: DeviceKey | None = None, **options: Any) -> DeviceClient:
        client = DeviceClient(self.url, key or DeviceKey.generate(), **options)
        self.clients.append(client)
        return client

    async def paired(self, **options: Any) -> DeviceClient:
        """A new device, paired and connected to a fresh session."""
        client = self.client(**options)
        code = await asyncio.to_thread(self.pairing_code)
        await client.connect(pairing_code=code)
        return client


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def reply(client: DeviceClient) -> list[Event]:
    """Everything the session sends back for one question, up to its card and its speech."""
    got: list[Event] = []
    while not {"answer", "card_shown", "speech_out"} <= {e.kind for e in got}:
        got += await client.events_until(lambda e: e.kind in ("card_shown", "speech_out"))
    return got
