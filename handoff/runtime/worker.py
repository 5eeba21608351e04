"""The slow half of the gateway: the inbox (routing, Rasa), the outbox (LINE) and staff alerts.

Why its own process on PostgreSQL (`YCC_WORKER=process`): LINE's 200 must not wait behind routing, Rasa turns or
LINE calls in the same event loop. Measured at 300 events/s on two cores (bench/bench_pipeline.py, 2026-11-24) the
webhook's p99 was 5–6 ms split and 10–11 ms inline (it had been 27–37 ms inline before the turn lost most of its
round trips). On SQLite both modes now measure alike (p99 ≈ 8–10 ms; bot turn within 1.3× of bare Rasa either
way), since the driver waits for another process's lock without blocking the loop (handoff/store/sqlite_inline.py),
so SQLite stays inline: one process to run, and units of work take turns in asyncio (handoff/store/db.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from handoff.domain import securechat
from handoff.events import WAKES_ALERTS, EventType, for_consoles
from handoff.pipeline.alerts import AlertSender
from handoff.pipeline.broadcasts import BroadcastSender, FollowUpReleaser
from handoff.pipeline.inbox import InboxWorker
from handoff.pipeline.outbox import OutboxSender
from handoff.pipeline.router import Router
from handoff.runtime.gc import tune_gc
from handoff.runtime.hub import Hub
from handoff.runtime.keyed import KeyedRunner
from handoff.runtime.resources import Resources
from handoff.runtime.signals import Signals
from handoff.settings import Settings

log = logging.getLogger(__name__)
# A few Rasa turns at a time is enough to keep up (Rasa itself is one process), and leaves the event loop free.
BOT_WIDTH = 4
# Routing (the screen, the crisis reply, the alert, the queue) is short and mostly CPU: a few at once keep the
# event loop's turns short, so an urgent user's routing (which takes no slot) is not slowed by a crowd of others.
# The inbox runner starts every due user (each waits inside InboxWorker for a routing or a Rasa slot, holding
# neither while it waits), so no one waits behind another user's Rasa turn or a slow LINE call. All the slots
# together (4 + 8 + 4 + the two single runners) stay well within the worker's 32 database connections.
ROUTE_WIDTH = 4
SEND_WIDTH = 8
EVERY_DUE_USER = 1000  # due_users reads at most this many keys per poll


Wake = tuple[str, list[str] | None]


def wake_after(event: dict[str, Any]) -> list[Wake]:
    """A commit that queued messages or alerts has them sent now, not at the next poll."""
    kind = event.get("type")
    if kind == EventType.WAKE_OUTBOX:
        return [("outbox", [str(r) for r in event.get("recipients") or []])]
    return [("alerts", None)] if kind in WAKES_ALERTS else []


class Worker:
    def __init__(self, settings: Settings, res: Resources) -> None:
        outbox = OutboxSender(res.db, res.line, settings.outbox_max_attempts, settings.send_lease_seconds)
        router = Router(res.db, res.content, res.hours, res.rasa, res.line, res.safety, outbox,
                        securechat.Policy.of(settings))
        self.inbox = inbox = InboxWorker(res.db, router, route_width=ROUTE_WIDTH, bot_width=BOT_WIDTH)
        alerts = AlertSender(res.db, settings.alert_webhook_url, res.http)
        broadcasts = BroadcastSender(res.db, res.line)
        checkins = FollowUpReleaser(res.db)
        poll = settings.worker_poll_seconds
        self.runners = {
            "inbox": KeyedRunner("inbox", inbox.due_users, inbox.drain, poll, concurrency=EVERY_DUE_USER),
            "outbox": KeyedRunner("outbox", outbox.due_recipients, outbox.drain, poll, concurrency=SEND_WIDTH),
            "alerts": KeyedRunner("alerts", alerts.due, alerts.drain, max(poll, 1.0), concurrency=1),
            "rasa": KeyedRunner("rasa", router.bot.recovery_due, router.bot.recover, poll, concurrency=1),
            # information deliveries (issue 17 item 1): scheduled ones are found here, so they survive a restart
            "broadcasts": KeyedRunner("broadcasts", broadcasts.due, broadcasts.drain, max(poll, 1.0), concurrency=1),
            "follow_ups": KeyedRunner("follow_ups", checkins.due, checkins.drain, max(poll, 1.0), concurrency=1),
        }

    def wake(self, kind: str, keys: list[str] | None = None, urgent: list[str] | None = None) -> None:
        """`urgent`: users whose new text screened as a crisis (inbox.urgent_users); their routing goes first."""
        if kind == "inbox" and urgent:
            self.inbox.prioritise(urgent)
        runner = self.runners.get(kind)
        if runner is not None:
            runner.wake(keys)

    def wake_after_commit(self, event: dict[str, Any]) -> None:
        for kind, keys in wake_after(event):
            self.wake(kind, keys)

    def start(self) -> None:
        for runner in self.runners.values():
            runner.start()

    async def stop(self) -> None:
        for runner in self.runners.values():
            await runner.stop()


def chain_publish(
    first: Callable[[dict[str, Any]], None], then: Callable[[dict[str, Any]], Awaitable[None]] | None = None
) -> Callable[[dict[str, Any]], Awaitable[None]]:
    """The database's after-commit hook: a synchronous wake-up first, then the (optional) live event."""

    async def publish(event: dict[str, Any]) -> None:
        first(event)
        if then is not None and for_consoles(event):
            await then(event)

    return publish


async def run_worker(settings: Settings) -> None:
    """`ycc worker`: until SIGTERM/SIGINT. Live console events go to the web process, which fans them out."""
    res = Resources.open(settings, pre_ping=False)  # every unit of work here is retried if it fails (Database)
    worker = Worker(settings, res)
    def on_signal(message: dict[str, Any]) -> None:
        keys, urgent = message.get("keys"), message.get("urgent")
        worker.wake(str(message.get("wake", "")), [str(k) for k in keys] if isinstance(keys, list) else None,
                    [str(k) for k in urgent] if isinstance(urgent, list) else None)

    signals = Signals(settings.run_dir, "worker", "web-*", on_signal)
    hub = Hub(settings.redis_url)  # with Redis, live events go to every web process's consoles that way
    await hub.start(relay=False)

    async def to_web(event: dict[str, Any]) -> None:
        if not await hub.publish_remote(event):
            signals.send({"event": event})

    res.db.publish = chain_publish(worker.wake_after_commit, to_web)
    signals.open()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    tune_gc()
    worker.start()
    log.info("worker ready (database %s)", settings.database_url.split("://")[0])
    try:
        await stop.wait()
    finally:
        await worker.stop()
        signals.close()
        with contextlib.suppress(Exception):
            await hub.stop()
        with contextlib.suppress(Exception):
            await res.close()
    log.info("worker stopped")
