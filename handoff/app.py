"""The gateway's app factory: resources are opened in listeners and hung on `app.ctx`, one blueprint per feature.

Nothing is created at import time, so tests build as many apps as they like, each with its own settings.
"""

from __future__ import annotations

import logging

import httpx
from linebot.v3 import SignatureValidator
from sanic import Sanic

from handoff import health, internal
from handoff.alerts import AlertSender
from handoff.content import Content
from handoff.hours import HoursPolicy
from handoff.hub import Hub
from handoff.inbox import InboxWorker
from handoff.keyed import KeyedRunner
from handoff.line import webhook
from handoff.line.client import LineClient
from handoff.outbox import OutboxSender
from handoff.rasa import RasaClient
from handoff.router import Router
from handoff.safety import SafetyScreen
from handoff.settings import Settings
from handoff.store.db import Database

log = logging.getLogger(__name__)


def _mount_simulator(app: Sanic, settings: Settings) -> None:
    """Simulator mode: a fake LINE platform inside the gateway, driving the real webhook with signed events."""
    from handoff.line.fakeline import FakeLine
    from handoff.line.fakeline_api import create_fakeline_blueprint, create_simulator_blueprint

    fake = FakeLine(
        settings.effective_channel_secret,
        settings.effective_access_token,
        f"http://{settings.host}:{settings.port}/line/webhook",
    )
    app.ctx.fake_line = fake
    app.blueprint(create_fakeline_blueprint(fake, url_prefix="/simulator/line", name="simulator_line"))
    app.blueprint(create_simulator_blueprint(fake, url_prefix="/simulator", api_prefix="/simulator/line"))


def create_app(settings: Settings, name: str = "ycc", with_console: bool = True) -> Sanic:
    app = Sanic(name)
    app.config.MOTD = False
    app.config.ACCESS_LOG = False
    app.config.REQUEST_MAX_SIZE = 5_000_000
    app.config.KEEP_ALIVE_TIMEOUT = 30
    app.ctx.settings = settings
    app.ctx.signature_validator = SignatureValidator(settings.effective_channel_secret)

    app.blueprint(health.bp)
    app.blueprint(webhook.bp)
    app.blueprint(internal.bp)
    if settings.simulator:
        _mount_simulator(app, settings)
    if with_console:
        from console import register

        register(app)

    @app.before_server_start
    async def open_resources(app: Sanic) -> None:
        ctx = app.ctx
        ctx.db = Database(settings.database_url)
        ctx.content = Content.load(settings.data_dir)
        ctx.hours = HoursPolicy.load(settings.data_dir / "hours.yml")
        ctx.http = httpx.AsyncClient(timeout=10.0)
        ctx.line = LineClient(settings.effective_line_api_base_url, settings.effective_access_token)
        ctx.rasa = RasaClient(settings.rasa_url, ctx.http, settings.rasa_timeout)
        ctx.hub = Hub(settings.redis_url)
        await ctx.hub.start()
        ctx.db.publish = ctx.hub.publish
        ctx.safety = SafetyScreen.load(settings.data_dir / "safety.yml")
        ctx.router = Router(ctx.db, ctx.content, ctx.hours, ctx.rasa, ctx.line, ctx.safety)
        inbox = InboxWorker(ctx.db, ctx.router)
        outbox = OutboxSender(ctx.db, ctx.line, settings.outbox_max_attempts)
        alerts = AlertSender(ctx.db, settings.alert_webhook_url, ctx.http)
        poll = settings.worker_poll_seconds
        # A few users at a time is enough to keep up, and leaves the event loop free to answer LINE at once.
        width = 4
        ctx.outbox_runner = KeyedRunner("outbox", outbox.due_recipients, outbox.drain, poll, concurrency=width)
        ctx.alert_runner = KeyedRunner("alerts", alerts.due, alerts.drain, max(poll, 1.0), concurrency=1)
        ctx.inbox_runner = KeyedRunner("inbox", inbox.due_users, inbox.drain, poll, concurrency=width)
        original_publish = ctx.hub.publish

        async def publish_and_wake(event: dict[str, object]) -> None:
            # Whatever committed a change may have queued messages or alerts: send them now, not at the next poll.
            ctx.outbox_runner.wake()
            if event.get("type") in ("alert", "crisis"):
                ctx.alert_runner.wake()
            await original_publish(event)

        ctx.db.publish = publish_and_wake

    @app.after_server_start
    async def start_workers(app: Sanic) -> None:
        for runner in (app.ctx.inbox_runner, app.ctx.outbox_runner, app.ctx.alert_runner):
            runner.start()
        mode = "simulator" if settings.simulator else "LINE"
        log.info("gateway ready on %s:%s (%s mode)", settings.host, settings.port, mode)

    @app.before_server_stop
    async def stop_workers(app: Sanic) -> None:
        for runner in (app.ctx.inbox_runner, app.ctx.outbox_runner, app.ctx.alert_runner):
            await runner.stop()

    @app.after_server_stop
    async def close_resources(app: Sanic) -> None:
        await app.ctx.line.close()
        await app.ctx.http.aclose()
        await app.ctx.hub.stop()
        await app.ctx.db.close()

    return app
