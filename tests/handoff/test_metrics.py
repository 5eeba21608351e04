"""`/metrics` after real traffic through `ycc serve` (worker in its own process) and the fake LINE platform.

The counters move where the work happened: the webhook in the web process, Rasa turns and LINE calls in the worker,
so a scrape of the web process that shows the worker's figures shows prometheus_client's multiprocess mode at work.
A second web process counting into the same directory proves one scrape of either reports the totals.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from handoff.domain.backlog import Backlog, backlog
from handoff.http.metrics import refusal
from handoff.pipeline.inbox import store_events
from handoff.pipeline.rasa import Breaker
from handoff.settings import normalise_database_url
from handoff.store.migrate import upgrade
from handoff.store.types import utcnow
from tests.handoff.test_webhook import sign
from tests.support.databases import database
from tests.support.inprocess import in_process, text_event
from tests.support.receiver import Receiver
from tests.support.servers import (
    Proc,
    Stack,
    always_open_data,
    free_port,
    gateway_env,
    gateway_proc,
    start_stack,
    wait_for,
)
from tests.support.stub_rasa import StubRasa

TOKEN = "metrics-token-for-the-tests-0123"
ROOT = Path(__file__).resolve().parents[2]
MARKER = "zq7Kmetrics"  # in every text sent; never in a scrape
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Proc]]:
    """Gateway A (worker in a child process, token set) behind the fake LINE, and web process B on the same
    database and metrics directory (no worker of its own, no token: loopback only)."""
    tmp = tmp_path_factory.mktemp("metrics")
    rasa, alerts = StubRasa(free_port()).start(), Receiver(free_port())
    shared = {"YCC_METRICS_DIR": str(tmp / "metrics"), "YCC_RASA_URL": rasa.url,
              "YCC_DATA_DIR": always_open_data(tmp)}  # bot turns whatever the hour in Japan
    with database("sqlite", tmp) as url:
        stack = start_stack(tmp, url, YCC_WORKER="process", YCC_METRICS_TOKEN=TOKEN,
                            YCC_ALERT_WEBHOOK_URL=alerts.url, **shared)
        env = gateway_env(url, free_port(), LINE_CHANNEL_SECRET="test-channel-secret",
                          LINE_CHANNEL_ACCESS_TOKEN="test-access-token", LINE_API_BASE_URL=stack.fake.url,
                          YCC_WORKER="off", YCC_RUN_DIR=str(tmp / "run-b"), **shared)
        (tmp / "b").mkdir()
        other = gateway_proc(tmp / "b", env).start()
        try:
            yield stack, other
        finally:
            other.stop()
            stack.stop()
            rasa.stop()
            alerts.stop()


def scrape(url: str, headers: dict[str, str] | None = None) -> str:
    response = httpx.get(f"{url}/metrics", headers=headers or {}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def total(found: Samples, name: str) -> float:
    return sum(v for (n, _), v in found.items() if n == name)


def test_counters_move_with_real_traffic_and_the_scrape_holds_no_text(gateways: tuple[Stack, Proc]) -> None:
    stack, _ = gateways
    talker, in_crisis = "U" + "a" * 32, "U" + "b" * 32
    stack.send(talker, {"type": "text", "text": f"{MARKER} こんにちは"})
    stack.send(in_crisis, {"type": "text", "text": f"{MARKER} もう しにたい"})
    stack.wait_delivered(talker, 1)
    stack.wait_delivered(in_crisis, 1)
    with httpx.Client(base_url=stack.url) as client:  # a wrong password at the console
        page = client.get("/console/login")
        form = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        wrong = client.post("/console/login", data={"csrf_token": form, "username": "nobody", "password": "x"})
        assert wrong.status_code == 401

    def scraped() -> Samples | None:
        found = samples(scrape(stack.url, AUTH))
        return found if value(found, "ycc_line_api_responses_total", call="reply", status="200") >= 2 else None

    found = wait_for(scraped, what="the worker's two replies counted")
    assert value(found, "ycc_webhook_seconds_count", status="200") >= 2  # web process
    assert value(found, "ycc_webhook_seconds_bucket", status="200", le="2.0") >= 2
    assert value(found, "ycc_rasa_seconds_count", outcome="ok") >= 1  # worker process
    assert value(found, "ycc_rasa_breaker_open") == 0
    assert value(found, "ycc_risk_raised_total", level="crisis") == 1
    assert value(found, "ycc_queue_length", level="crisis") == 1
    assert value(found, "ycc_queue_oldest_waiting_seconds", level="crisis") > 0
    assert value(found, "ycc_queue_length", level="none") == 0
    assert value(found, "ycc_console_logins_failed_total", step="password") == 1
    assert ("ycc_outbox_backlog", frozenset()) in found
    assert {"pending", "bot"} <= {dict(labels)["status"] for n, labels in found if n == "ycc_inbox_backlog"}
    text = scrape(stack.url, AUTH)
    assert MARKER not in text and "しにたい" not in text
    assert talker not in text and in_crisis not in text and "U" + "a" * 8 not in text


def test_the_token_is_required_when_set(gateways: tuple[Stack, Proc]) -> None:
    stack, _ = gateways
    missing = httpx.get(f"{stack.url}/metrics", timeout=5)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert "ycc_" not in missing.text
    for wrong in (f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", TOKEN, f"Basic {TOKEN}"):
        assert httpx.get(f"{stack.url}/metrics", headers={"Authorization": wrong}, timeout=5).status_code == 401
    assert httpx.get(f"{stack.url}/metrics", headers={"Authorization": f"bearer {TOKEN}"}, timeout=5).is_success


def test_without_a_token_only_unforwarded_loopback_clients_may_scrape(gateways: tuple[Stack, Proc]) -> None:
    _, other = gateways
    assert "ycc_webhook_seconds" in scrape(other.url)
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        proxied = httpx.get(f"{other.url}/metrics", headers={header: "203.0.113.9"}, timeout=5)
        assert proxied.status_code == 403


def _request(ip: str, token: str = "", **headers: str) -> Any:
    settings = SimpleNamespace(metrics_token=token)
    return SimpleNamespace(ip=ip, headers={k.lower(): v for k, v in headers.items()},
                           app=SimpleNamespace(ctx=SimpleNamespace(settings=settings)))


def test_refusal_tells_loopback_from_other_hosts() -> None:
    assert refusal(_request("127.0.0.1")) is None
    assert refusal(_request("::1")) is None
    assert refusal(_request("192.168.1.20")).status == 403  # type: ignore[union-attr]
    assert refusal(_request("10.0.0.5", token=TOKEN)).status == 401  # type: ignore[union-attr]
    assert refusal(_request("10.0.0.5", TOKEN, Authorization=f"Bearer {TOKEN}")) is None


def test_one_scrape_of_either_web_process_reports_the_totals(gateways: tuple[Stack, Proc]) -> None:
    stack, other = gateways
    before = samples(scrape(stack.url, AUTH))
    users = [f"U{n:032x}" for n in range(3)]
    events = [text_event(user, f"{MARKER} {n}", 900 + n) for n, user in enumerate(users)]
    body = json.dumps({"destination": "Uxx", "events": events}).encode()
    posted = httpx.post(f"{other.url}/line/webhook", content=body, timeout=10,
                        headers={"content-type": "application/json", "x-line-signature": sign(body)})
    assert posted.status_code == 200  # B stores; A's worker answers
    stack.send("U" + "c" * 32, {"type": "text", "text": f"{MARKER} A"})
    for user in [*users, "U" + "c" * 32]:
        stack.wait_delivered(user, 1)

    def both() -> tuple[Samples, Samples] | None:
        a, b = samples(scrape(stack.url, AUTH)), samples(scrape(other.url))
        replies = value(a, "ycc_rasa_seconds_count", outcome="ok") - value(before, "ycc_rasa_seconds_count",
                                                                            outcome="ok")
        return (a, b) if replies >= 4 else None

    a, b = wait_for(both, what="four more bot turns counted")
    for name in ("ycc_webhook_seconds_count", "ycc_rasa_seconds_count", "ycc_line_api_responses_total"):
        assert total(a, name) == total(b, name), name
    assert total(a, "ycc_webhook_seconds_count") - total(before, "ycc_webhook_seconds_count") == 2  # one each


def test_the_breaker_gauge_follows_the_breaker() -> None:
    """In this test process (one process, prometheus_client's default mode)."""
    breaker = Breaker(threshold=1, cooldown=60.0)
    breaker.failure()
    assert REGISTRY.get_sample_value("ycc_rasa_breaker_open") == 1
    breaker.success()
    assert REGISTRY.get_sample_value("ycc_rasa_breaker_open") == 0


def test_the_metrics_directory_is_private_and_holds_each_process_files(gateways: tuple[Stack, Proc]) -> None:
    stack, other = gateways
    directory = Path(stack.gateway.env["YCC_METRICS_DIR"])
    assert directory.stat().st_mode & 0o777 == 0o700
    pids = {f.stem.rsplit("_", 1)[-1] for f in directory.glob("*.db")}
    assert len(pids) >= 3  # web process A, its worker, web process B
    assert stack.gateway.proc is not None and other.proc is not None
    assert {str(stack.gateway.proc.pid), str(other.proc.pid)} <= pids


def test_backlog_reads_the_queue_inbox_and_outbox_on_both_databases(db_url: str) -> None:
    """The scrape-time figures straight from handoff.domain.backlog, on SQLite and PostgreSQL."""
    url = normalise_database_url(db_url)
    upgrade(url)
    in_crisis, waiting = "U" + "f" * 32, "U" + "0" * 32
    events = [text_event(in_crisis, "もう しにたい", 1), text_event(waiting, "こんにちは", 2)]

    async def run() -> Backlog:
        async with in_process(url) as worker:
            await store_events(worker.res.db, events)
            await worker.inbox.drain(in_crisis)  # crisis: queued at the top; the other stays pending in the inbox
            async with worker.res.db.session() as session:
                return await backlog(session, utcnow() + timedelta(seconds=30))

    figures = asyncio.run(run())
    assert figures.queued == {"crisis": 1, "emergency_other": 0, "concern": 0, "none": 0}
    assert 30 <= figures.oldest_wait["crisis"] < 120 and figures.oldest_wait["none"] == 0
    assert figures.inbox["pending"] == 1
    assert figures.outbox == 1  # the crisis reply, stored for the sender (not run here)


def test_building_the_command_line_loads_no_prometheus_client() -> None:
    """`ycc serve` sets the shared metrics directory after parsing its arguments; a command module that imported
    prometheus_client at parse time (console/retention_views.py once did) made every process count alone."""
    import subprocess
    import sys

    probe = "import sys, handoff.cli as c; c.build_parser(); print('prometheus_client' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.stdout.strip() == "False", done.stderr
