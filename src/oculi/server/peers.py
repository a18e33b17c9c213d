"""Notices between the server processes that share one store, over Redis pub/sub.

The store decides who holds a session (claims, leases, fenced writes); notices only make the
other processes act at once instead of at their next lease renewal: "hand the session over" to
its owner, "released" to the process that asked, "claimed" / "ended" to a process that held it.
Pub/sub fits that: a notice is worth something only to a process that is running now, a lost one
costs time, never correctness, and nothing piles up to be trimmed (a stream would keep every
notice for a reader that may never come back). Each process listens on its own channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("oculi.server")

CHANNEL_PREFIX = "oculi/1:server:"
KINDS = frozenset({"hand_over", "released", "claimed", "ended"})
_RETRY_S = 1.0


@dataclass(frozen=True)
class Notice:
    """One process telling another about a session."""

    kind: str
    """hand_over (give it up, I have its device), released, claimed (it is mine now), ended."""
    session: str
    sender: str
    """The instance id of the process that sent it."""

    def encode(self) -> str:
        return json.dumps({"kind": self.kind, "session": self.session, "sender": self.sender})

    @classmethod
    def decode(cls, data: str | bytes) -> Notice | None:
        """The notice, or None for anything else on the channel."""
        try:
            body = json.loads(data)
        except ValueError:
            return None
        if not isinstance(body, dict) or body.get("kind") not in KINDS:
            return None
        session, sender = body.get("session"), body.get("sender")
        if not isinstance(session, str) or not isinstance(sender, str):
            return None
        return cls(str(body["kind"]), session, sender)


OnNotice = Callable[[Notice], Awaitable[None]]


class Peers(Protocol):
    """How a process reaches the others; `NoPeers` when there is no Redis."""

    instance: str

    async def start(self, on_notice: OnNotice) -> None: ...

    async def tell(self, instance: str, kind: str, session: str) -> None:
        """Send a notice to one process; best effort (the store is the truth)."""

    async def close(self) -> None: ...


class NoPeers:
    """One process, or several that learn of each other's claims from the store alone."""

    def __init__(self, instance: str) -> None:
        self.instance = instance

    async def start(self, on_notice: OnNotice) -> None:
        return None

    async def tell(self, instance: str, kind: str, session: str) -> None:
        return None

    async def close(self) -> None:
        return None


class RedisPeers:
    """Notices over Redis pub/sub (`server.redis_url`); Redis going away only slows takeovers."""

    def __init__(self, url: str, instance: str) -> None:
        from redis.asyncio import Redis

        self.instance = instance
        self.url = url
        self._redis: Any = Redis.from_url(url)
        self._listener: asyncio.Task[None] | None = None

    async def start(self, on_notice: OnNotice) -> None:
        """Subscribed before it returns, so no notice sent after the server is ready is missed."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL_PREFIX + self.instance)
        self._listener = asyncio.create_task(
            self._listen(pubsub, on_notice), name="oculi-server-peers"
        )

    async def _listen(self, pubsub: Any, on_notice: OnNotice) -> None:
        from redis.exceptions import RedisError

        while True:
            try:
                message = await pubsub.get_message(timeout=1.0)
            except (RedisError, OSError) as err:
                log.warning("redis %s: %s; retrying", self.url, err)
                await asyncio.sleep(_RETRY_S)
                continue
            if message is None or message.get("type") != "message":
                continue
            notice = Notice.decode(message["data"])
            if notice is None:
                continue
            try:
                await on_notice(notice)
            except Exception:
                log.exception("handling %s failed", notice)

    async def tell(self, instance: str, kind: str, session: str) -> None:
        from redis.exceptions import RedisError

        notice = Notice(kind, session, self.instance)
        try:
            await self._redis.publish(CHANNEL_PREFIX + instance, notice.encode())
        except (RedisError, OSError) as err:
            log.warning("redis %s: %s; %s of %s not sent", self.url, err, kind, session)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        with contextlib.suppress(Exception):
            await self._redis.aclose()


def make_peers(redis_url: str, instance: str) -> Peers:
    return RedisPeers(redis_url, instance) if redis_url else NoPeers(instance)
