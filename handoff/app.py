"""The gateway's app factory: resources are opened in listeners and hung on `app.ctx`, one blueprint per feature.

Nothing is created at import time, so tests build as many apps as they like, each with its own settings. The web
process answers LINE, the console and the action server; the worker (`handoff.runtime.worker`) does the slow work, in a
child process on PostgreSQL and in this process on SQLite (`YCC_WORKER=auto`); a child and the web process wake
each other with datagrams (`handoff.runtime.signals`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from linebot.v3 import SignatureValidator
from sanic import Sanic

from handoff.http import health, internal, metrics, securechat
from handoff.http.errors import QuietErrorHandler
from handoff.line import webhook
from handoff.runtime.gc import tune_gc
from handoff.runtime.hub import Hub
from handoff.runtime.resources import Resources
from handoff.runtime.signals import Signals
from handoff.runtime.worker import Worker, chain_publish, wake_after
from handoff.runtime.worker_process import WorkerProcess
from handoff.settings import Settings

log = logging.getLogger(__name__)


def _mount_simulator(app: Sanic, settings: Settings) -> None:
    """Simulator mode: a fake LINE platform inside the gateway, driving the real webhook with signed events."""
    from handoff.simulator.api import create_fakeline_blueprint, create_simulator_blueprint
    from handoff.simulator.fakeline import FakeLine

    fake = FakeLine(
        settings.effective_channel_secret,
        settings.effective_access_token,
        f"http://{settings.host}:{settings.port}/line/webhook",
    )
    app.ctx.fake_line = fake
    app.blueprint(create_fakeline_blueprint(fake, url_prefix="/simulator/line", name="simulator_line"))
    app.blueprint(create_simulator_blueprint(fake, url_prefix="/simulator", api_prefix="/simulator/line"))


def _wire_worker(app: Sanic, settings: Settings, res: Resources, spawned: WorkerProcess | None) -> None:
    """ctx.wake(kind) reaches the worker wherever it runs; committed changes reach the consoles either way."""
    ctx = app.ctx
    ctx.worker = ctx.worker_process = ctx.signals = None
    if settings.worker_mode == "inline":
        ctx.worker = Worker(settings, res)
        ctx.wake = ctx.worker.wake
        res.db.publish = chain_publish(ctx.worker.wake_after_commit, ctx.hub.publish)
        return
    pending: set[asyncio.Task[Any]] = set()

    def from_worker(message: dict[str, Any]) -> None:
        event = message.get("event")
        if isinstance(event, dict):
            task = asyncio.create_task(ctx.hub.publish(event))
            pending.add(task)
            task.add_done_callback(pending.discard)

    ctx.signals = Signals(settings.run_dir, f"web-{os.getpid()}", "worker", from_worker)  # one per web process

    def wake(kind: str, keys: list[str] | None = None, urgent: list[str] | None = None) -> None:
        ctx.signals.send({"wake": kind, **({"keys": keys} if keys else {}), **({"urgent": urgent} if urgent else {})})

    def wake_worker(event: dict[str, Any]) -> None:
        for kind, keys in wake_after(event):
            wake(kind, keys)

    ctx.wake = wake
    res.db.publish = chain_publish(wake_worker, ctx.hub.publish)
    if settings.worker_mode == "process":
        ctx.worker_process = spawned or WorkerProcess(settings)


def create_app(
    settings: Settings, name: str = "ycc", with_console: bool = True, worker: WorkerProcess | None = None
) -> Sanic:
    """`worker`: a worker child that `ycc serve` already spawned (YCC_WORKER=process); supervised from here."""
    app = Sanic(name, error_handler=QuietErrorHandler())  # logs no URL query, no exception text
    app.config.MOTD = False
    app.config.ACCESS_LOG = False
    app.config.REQUEST_MAX_SIZE = 5_000_000
    app.config.KEEP_ALIVE_TIMEOUT = 30
    app.ctx.settings = settings
    app.ctx.signature_validator = SignatureValidator(settings.effective_channel_secret)

    app.blueprint(health.bp)
    app.blueprint(webhook.bp)
    app.blueprint(internal.bp)
    app.blueprint(securechat.bp)  # the secure chat off LINE (issue 16), for users' browsers
    app.blueprint(metrics.bp)  # counting into YCC_METRICS_DIR was set up by `ycc serve` (handoff.http.metrics_dir)
    if settings.simulator:
        _mount_simulator(app, settings)
    if with_console:
        from console import register

        register(app)

    @app.before_server_start
    async def open_resources(app: Sanic) -> None:
        ctx = app.ctx
        ctx.resources = res = Resources.open(settings)
        ctx.db, ctx.content, ctx.hours, ctx.http = res.db, res.content, res.hours, res.http
        ctx.line, ctx.rasa = res.line, res.rasa  # console (read receipts, typing dots) and /readyz
        ctx.hub = Hub(settings.redis_url)
        await ctx.hub.start()
        _wire_worker(app, settings, res, worker)
        if ctx.signals is not None:
            ctx.signals.open()

    @app.after_server_start
    async def start_worker(app: Sanic) -> None:
        if app.ctx.worker is not None:
            app.ctx.worker.start()
        if app.ctx.worker_process is not None:
            await app.ctx.worker_process.start()
        tune_gc()
        mode = "simulator" if settings.simulator else "LINE"
        where = (settings.host, settings.port, mode, settings.worker_mode)
        log.info("gateway ready on %s:%s (%s mode, worker %s)", *where)

    @app.before_server_stop
    async def stop_worker(app: Sanic) -> None:
        if app.ctx.worker is not None:
            await app.ctx.worker.stop()
        if app.ctx.worker_process is not None:
            await app.ctx.worker_process.stop()

    @app.after_server_stop
    async def close_resources(app: Sanic) -> None:
        if app.ctx.signals is not None:
            app.ctx.signals.close()
        await app.ctx.hub.stop()
        await app.ctx.resources.close()

    return app
