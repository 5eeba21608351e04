"""Run work for many keys at once while keeping each key's work strictly in order.

Both the inbox worker (key: LINE user) and the outbox sender (key: recipient) need the same guarantee: one user's
events are never handled two at a time, and one slow user never holds up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

log = logging.getLogger(__name__)


class KeyedRunner:
    def __init__(
        self,
        name: str,
        due_keys: Callable[[], Awaitable[Iterable[str]]],
        drain_key: Callable[[str], Awaitable[None]],
        poll_seconds: float,
        concurrency: int = 16,
    ) -> None:
        self.name = name
        self._due_keys = due_keys
        self._drain_key = drain_key
        self._poll = poll_seconds
        self._busy: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self, keys: Iterable[str] | None = None) -> None:
        """With keys: start on them now, without first asking the database what is due (saves a query per turn)."""
        if keys is not None and self._loop_task is not None and not self._stopping:
            for key in keys:
                self._launch(key)
            return
        self._wake.set()

    def _launch(self, key: str) -> None:
        if key not in self._busy:
            self._busy[key] = asyncio.create_task(self._run(key), name=f"{self.name}:{key[-6:]}")

    def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name=f"{self.name}-loop")

    async def stop(self) -> None:
        """Let work under way finish its current step; what is left stays pending in the database."""
        self._stopping = True
        self._wake.set()
        if self._loop_task:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        tasks = list(self._busy.values())
        if tasks:
            await asyncio.wait(tasks, timeout=10)
        for task in tasks:
            task.cancel()

    async def idle(self) -> None:
        """Wait until nothing is pending or under way (used by tests and benchmarks)."""
        while True:
            if not self._busy and not list(await self._due_keys()):
                return
            await asyncio.sleep(0.02)

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                for key in await self._due_keys():
                    self._launch(key)
            except Exception as exc:  # by type only: an exception's text can quote what a user wrote
                log.warning("%s: could not read pending work (%s); retrying", self.name, type(exc).__name__)
                await asyncio.sleep(self._poll)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    async def _run(self, key: str) -> None:
        try:
            async with self._slots:
                await self._drain_key(key)
        except Exception as exc:
            log.warning("%s: work for one key failed (%s); it stays pending and is retried", self.name,
                        type(exc).__name__)
            await asyncio.sleep(self._poll)
        finally:
            self._busy.pop(key, None)
            self._wake.set()
