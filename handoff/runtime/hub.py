"""Live fan-out of conversation changes to connected consoles.

In one process an asyncio queue per subscriber is enough; with several web processes (YCC_REUSE_PORT) every event is
published on Redis (YCC_REDIS_URL), by the web process or the worker that committed it, and every web process relays
it to its own subscribers. Redis pub/sub rather than PostgreSQL LISTEN/NOTIFY: see docs/decisions/0005-live-fan-out.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)
CHANNEL = "ycc:console"


class Hub:
    def __init__(self, redis_url: str = "") -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()
        self._redis_url = redis_url
        self._redis: Any = None
        self._relay: asyncio.Task[None] | None = None

    async def start(self, *, relay: bool = True) -> None:
        """`relay=False` for a process with no consoles of its own (the worker): it only publishes."""
        if not self._redis_url:
            return
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(self._redis_url)
        if relay:
            self._relay = asyncio.create_task(self._relay_from_redis())

    async def stop(self) -> None:
        if self._relay:
            self._relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay
        if self._redis is not None:
            await self._redis.aclose()

    async def _relay_from_redis(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(CHANNEL)
        async for item in pubsub.listen():
            if item.get("type") == "message":
                self._deliver(json.loads(item["data"]))

    def _deliver(self, event: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            if queue.qsize() < 1000:
                queue.put_nowait(event)

    async def publish(self, event: dict[str, Any]) -> None:
        """Events carry ids and kinds; consoles fetch content through the audited API."""
        if not await self.publish_remote(event):
            self._deliver(event)

    async def publish_remote(self, event: dict[str, Any]) -> bool:
        """On Redis, for every web process's consoles (this one's through its relay); False without Redis or when
        Redis failed, so the caller can fall back."""
        if self._redis is None:
            return False
        try:
            await self._redis.publish(CHANNEL, json.dumps(event))
            return True
        except Exception as exc:
            log.warning("redis publish failed: %s", type(exc).__name__)
            return False

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
