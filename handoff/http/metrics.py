"""`GET /metrics`: Prometheus text format from prometheus_client, one scrape summing every process of the gateway.

The counters and histograms are defined where things happen (the webhook, the LINE client, the Rasa client,
escalation, console login). Each web process and the worker count their own, in files in YCC_METRICS_DIR
(prometheus_client's multiprocess mode), and a scrape of any web process adds all files up. prometheus_client
chooses that mode once, when it is first imported, from PROMETHEUS_MULTIPROC_DIR: so the entry points call
`handoff.http.metrics_dir.use_metrics_dir` before anything imports it. What waits in the database (queue, inbox,
outbox) is counted from the tables at each scrape (handoff.domain.backlog).

Labels are fixed sets (levels, statuses, endpoint names): never a message's text, a LINE user id or any other id.
Who may scrape: with YCC_METRICS_TOKEN, whoever sends it as a bearer token (compared in constant time); without,
only a client on this host's loopback whose request no proxy forwarded (an nginx in front sets X-Forwarded-For).
"""

from __future__ import annotations

import glob
import hmac
import ipaddress
import os
from pathlib import Path
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from handoff.domain.backlog import Backlog, backlog
from handoff.http.metrics_dir import MULTIPROC_ENV, multiprocess
from handoff.store.types import utcnow

bp = Blueprint("metrics")
FORWARDED = ("forwarded", "x-forwarded-for", "x-real-ip")


def _forget_dead_gauges(path: str) -> None:
    """A live gauge (the breaker) of a process that is gone would be summed forever: drop its files."""
    from prometheus_client import multiprocess as mp

    pids = {Path(f).stem.rsplit("_", 1)[-1] for f in glob.glob(os.path.join(path, "gauge_live*_*.db"))}
    for pid in pids:
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            mp.mark_process_dead(int(pid), path)


class _BacklogCollector:
    """The database's figures of this scrape, as gauges."""

    def __init__(self, figures: Backlog) -> None:
        self.figures = figures

    def collect(self) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        queued = GaugeMetricFamily("ycc_queue_length", "Conversations waiting for a counsellor", labels=["level"])
        oldest = GaugeMetricFamily(
            "ycc_queue_oldest_waiting_seconds", "How long the longest-waiting conversation has waited",
            labels=["level"],
        )
        for level, count in self.figures.queued.items():
            queued.add_metric([level], count)
            oldest.add_metric([level], self.figures.oldest_wait.get(level, 0.0))
        inbox = GaugeMetricFamily("ycc_inbox_backlog", "LINE events stored and not yet handled", labels=["status"])
        for status, count in self.figures.inbox.items():
            inbox.add_metric([status], count)
        yield from (queued, oldest, inbox)
        yield GaugeMetricFamily("ycc_outbox_backlog", "Messages to LINE still to be sent", value=self.figures.outbox)


def exposition(figures: Backlog) -> tuple[bytes, str]:
    """Every process's metrics (or this one's, outside multiprocess mode) and the database's figures."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    if multiprocess():
        path = os.environ[MULTIPROC_ENV]
        _forget_dead_gauges(path)
        MultiProcessCollector(registry, path)
    else:
        registry.register(_Everything(REGISTRY))
    registry.register(_BacklogCollector(figures))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Everything:
    """The process's default registry as one collector of the scrape's registry."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Any:
        return self.registry.collect()


def _loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip.strip("[]")).is_loopback
    except ValueError:
        return False


def refusal(request: Request) -> HTTPResponse | None:
    """None if this request may read the metrics, else the answer that says why not."""
    token = request.app.ctx.settings.metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        return json({"error": "unauthorized", "message": "send YCC_METRICS_TOKEN as a bearer token"}, status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    if _loopback(request.ip) and not any(h in request.headers for h in FORWARDED):
        return None
    return json({"error": "forbidden", "message": "set YCC_METRICS_TOKEN to scrape from another host"}, status=403)


@bp.get("/metrics")
async def metrics(request: Request) -> HTTPResponse:
    refused = refusal(request)
    if refused is not None:
        return refused
    async with request.app.ctx.db.session() as session:
        figures = await backlog(session, utcnow())
    body, content_type = exposition(figures)
    return HTTPResponse(body, content_type=content_type)
