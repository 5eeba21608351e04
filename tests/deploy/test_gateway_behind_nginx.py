"""The production layout for real, minus systemd: two `ycc serve --no-migrate` web processes and one `ycc worker`
with deploy/env/ycc.env.example (YCC_WORKER=off, a shared YCC_RUN_DIR) on PostgreSQL, behind a real nginx with
deploy/nginx/ycc.conf. LINE is the fake LINE platform. Shows: a signed webhook through the public name is stored
once and answered by the separate worker, still accepted while one web process is killed, the console's pages and
WebSocket pass through for the office, and the gateway sees the browser's address (SANIC_REAL_IP_HEADER)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.deploy.nginx import CONSOLE_NAME, PUBLIC_NAME, curl, running
from tests.deploy.units import DEPLOY, ROOT
from tests.support.databases import database, rows
from tests.support.servers import (
    SECRET,
    TOKEN,
    Proc,
    fakeline_proc,
    free_ports,
    gateway_env,
    wait_for,
)

pytestmark = pytest.mark.postgres
BINARY = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
YCC = str(Path(sys.executable).parent / "ycc")
START_TIMEOUT = 120.0  # a web process is ready in ~5 s on an idle machine, far later on a busy CI runner


def _env_file(name: str) -> dict[str, str]:
    lines = (DEPLOY / "env" / name).read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    if BINARY is None:
        pytest.fail("nginx is not installed (Debian: apt-get install nginx; .ci/run installs it)")
    tmp = tmp_path_factory.mktemp("stack")
    web_ports = free_ports(3)
    fake_port = web_ports.pop()
    with database("postgres", tmp) as url:
        fake = fakeline_proc(tmp, fake_port, web_ports[0]).start()
        # The host's settings, but this test's database, wake-up directory and (absent) Rasa and action server.
        local = ("YCC_DATABASE_URL", "YCC_RUN_DIR", "YCC_RASA_URL", "YCC_ACTION_SERVER_URL")
        shared = {k: v for k, v in _env_file("ycc.env.example").items() if k not in local}
        shared.update(YCC_RUN_DIR=str(tmp / "run"), LINE_CHANNEL_SECRET=SECRET, LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
                      SANIC_REAL_IP_HEADER=_env_file("gateway.env.example")["SANIC_REAL_IP_HEADER"],
                      LINE_API_BASE_URL=f"http://127.0.0.1:{fake_port}")
        env = gateway_env(url, web_ports[0], **shared)
        subprocess.run([YCC, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)  # ycc-migrate.service
        procs = [Proc([YCC, "serve", "--no-migrate"], {**env, "YCC_PORT": str(port)}, f"http://127.0.0.1:{port}",
                      "/healthz", tmp / f"web-{port}.log") for port in web_ports]
        worker = Proc([YCC, "worker"], env, "", "", tmp / "worker.log")
        try:
            for proc in procs:
                proc.start(timeout=START_TIMEOUT)
            worker.proc = subprocess.Popen(worker.args, env=env, cwd=ROOT, stdout=open(tmp / "worker.log", "ab"),
                                           stderr=subprocess.STDOUT)
            with running(BINARY, tmp / "nginx", (web_ports[0], web_ports[1])) as ports:
                yield {"url": url, "ports": ports, "prefix": tmp / "nginx", "web": procs, "fake": fake.url}
        finally:
            for proc in [*procs, worker, fake]:
                proc.stop()


def _webhook(stack: dict[str, object], user: str, text: str, event_id: str) -> int:
    body = json.dumps({"destination": "Uxxx", "events": [{
        "type": "message", "mode": "active", "timestamp": 1767225600000, "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": False}, "replyToken": uuid.uuid4().hex,
        "source": {"type": "user", "userId": user},
        "message": {"type": "text", "id": uuid.uuid4().hex[:12], "quoteToken": "q", "text": text}}]})
    signature = base64.b64encode(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest()).decode()
    prefix = Path(str(stack["prefix"]))
    (prefix / "body.json").write_text(body)
    return curl(prefix, stack["ports"], PUBLIC_NAME, "/line/webhook", extra=(  # type: ignore[arg-type]
        "-H", "Content-Type: application/json", "-H", f"X-Line-Signature: {signature}",
        "--data-binary", f"@{prefix / 'body.json'}"))[0]


def _inbox(stack: dict[str, object], event_id: str) -> list[dict[str, object]]:
    return rows(str(stack["url"]), "SELECT status FROM inbox WHERE webhook_event_id = :e", e=event_id)


def test_a_signed_webhook_is_stored_once_and_the_separate_worker_answers_it(stack: dict[str, object]) -> None:
    user, event = "U" + uuid.uuid4().hex, uuid.uuid4().hex
    assert _webhook(stack, user, "こんにちは", event) == 200
    assert _webhook(stack, user, "こんにちは", event) == 200  # LINE's redelivery
    assert len(_inbox(stack, event)) == 1
    wait_for(lambda: _inbox(stack, event)[0]["status"] not in ("pending", "bot"), 20, "the worker to take the event")
    sent = wait_for(lambda: [r for r in httpx.get(f"{stack['fake']}/_fake/requests").json()["requests"]
                             if user in json.dumps(r, ensure_ascii=False)], 20, "an answer to reach LINE")
    assert sent


def test_an_unsigned_webhook_is_refused_by_the_gateway(stack: dict[str, object]) -> None:
    status, _ = curl(Path(str(stack["prefix"])), stack["ports"], PUBLIC_NAME, "/line/webhook",  # type: ignore[arg-type]
                     extra=("-X", "POST", "-H", "X-Line-Signature: AAAA", "-d", '{"events": []}'))
    assert status == 400


def test_webhooks_are_accepted_while_one_web_process_is_down(stack: dict[str, object]) -> None:
    first = stack["web"][0]  # type: ignore[index]
    first.kill()
    try:
        events = [uuid.uuid4().hex for _ in range(5)]
        assert [_webhook(stack, "U" + uuid.uuid4().hex, "ねえ", e) for e in events] == [200] * 5
        assert all(len(_inbox(stack, e)) == 1 for e in events)
    finally:
        first.start(timeout=START_TIMEOUT)


def test_the_console_passes_through_for_the_office_with_one_hsts(stack: dict[str, object]) -> None:
    prefix, ports = Path(str(stack["prefix"])), stack["ports"]
    status, headers = curl(prefix, ports, CONSOLE_NAME, "/console/login", office=True)  # type: ignore[arg-type]
    assert status == 200
    lower = headers.lower()
    assert lower.count("strict-transport-security:") == 1 and "content-security-policy:" in lower
    assert curl(prefix, ports, CONSOLE_NAME, "/console/login")[0] == 403  # type: ignore[arg-type]


def test_the_live_websocket_is_upgraded_through_nginx(stack: dict[str, object]) -> None:
    status, _ = curl(Path(str(stack["prefix"])), stack["ports"], CONSOLE_NAME, "/console/live", office=True,  # type: ignore[arg-type]
                     extra=("--http1.1", "--max-time", "3", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
                            "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                            "-H", f"Origin: https://{CONSOLE_NAME}"))
    assert status == 101  # then closed with 4401: nobody is logged in


def test_the_gateway_throttles_the_browsers_address_not_nginxs(stack: dict[str, object]) -> None:
    prefix, ports = Path(str(stack["prefix"])), stack["ports"]
    jar = prefix / "cookies.txt"
    page = prefix / "login.html"
    curl(prefix, ports, CONSOLE_NAME, "/console/login", office=True,  # type: ignore[arg-type]
         extra=("-c", str(jar)), output=page)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.read_text()).group(1)  # type: ignore[union-attr]
    name = "nobody" + uuid.uuid4().hex[:6]
    curl(prefix, ports, CONSOLE_NAME, "/console/login", office=True, extra=(  # type: ignore[arg-type]
        "-b", str(jar), "-H", f"Origin: https://{CONSOLE_NAME}",
        "--data-urlencode", f"username={name}", "--data-urlencode", "password=wrong", "--data-urlencode",
        f"csrf_token={token}"))
    sources = rows(str(stack["url"]), "SELECT source FROM console_login_throttle WHERE name = :n", n=name)
    assert sources == [{"source": "127.0.0.2"}]
