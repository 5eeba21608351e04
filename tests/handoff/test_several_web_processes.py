"""Several web processes on one port (YCC_REUSE_PORT, `make run-prod`, deploy/): one worker keeps each user's events
in order and once, and a counsellor's live updates reach them whichever process their browser is connected to
(issue 18.2). Real PostgreSQL, real Redis, the standalone fake LINE, two `ycc serve` and one `ycc worker`."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from handoff.runtime.hub import Hub
from handoff.runtime.signals import Signals
from handoff.settings import Settings, SettingsError, normalise_database_url
from handoff.store.migrate import upgrade
from tests.console.conftest import Console, Gateway
from tests.support.databases import database, rows
from tests.support.servers import SECRET, TOKEN, Proc, Stack, always_open_data, fakeline_proc, free_ports, gateway_env
from tests.support.stub_rasa import StubRasa

REDIS = "redis://127.0.0.1:6379/0"
YCC = str(Path(sys.executable).parent / "ycc")


def test_several_web_processes_need_redis_and_one_separate_worker() -> None:
    base = {"YCC_DATABASE_URL": "postgresql://u@h/db", "YCC_REUSE_PORT": "1"}
    with pytest.raises(SettingsError, match="YCC_REDIS_URL"):
        Settings.from_mapping({**base, "YCC_WORKER": "off"})
    with pytest.raises(SettingsError, match="YCC_WORKER=off"):
        Settings.from_mapping({**base, "YCC_REDIS_URL": REDIS})  # auto on PostgreSQL would spawn a worker each
    assert Settings.from_mapping({**base, "YCC_REDIS_URL": REDIS, "YCC_WORKER": "off"}).reuse_port


def test_the_worker_signals_every_web_process_and_forgets_a_dead_ones_socket(tmp_path: Path) -> None:
    async def run() -> tuple[list[Any], list[Any], bool]:
        got_1: list[Any] = []
        got_2: list[Any] = []
        web_1 = Signals(tmp_path, "web-1", "worker", got_1.append)
        web_2 = Signals(tmp_path, "web-2", "worker", got_2.append)
        worker = Signals(tmp_path, "worker", "web-*", lambda _m: None)
        for s in (web_1, web_2, worker):
            s.open()
        dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # a process killed with its socket file left behind
        dead.bind(str(tmp_path / "web-3.sock"))
        dead.close()
        sent = worker.send({"event": {"type": "message", "conversation_id": 7}})
        await asyncio.sleep(0.1)
        for s in (web_1, web_2, worker):
            s.close()
        return got_1, got_2, sent and not (tmp_path / "web-3.sock").exists()

    got_1, got_2, cleaned = asyncio.run(run())
    assert got_1 == got_2 == [{"event": {"type": "message", "conversation_id": 7}}]
    assert cleaned


def test_an_event_published_by_one_process_reaches_the_consoles_of_another_through_redis() -> None:
    async def run() -> dict[str, Any]:
        web_a, web_b, worker = Hub(REDIS), Hub(REDIS), Hub(REDIS)
        await web_a.start()
        await web_b.start()
        await worker.start(relay=False)
        try:
            await asyncio.sleep(0.2)  # the relays have subscribed
            async with web_a.subscribe() as queue:
                assert await worker.publish_remote({"type": "message", "conversation_id": 41})
                first = await asyncio.wait_for(queue.get(), 5)
                await web_b.publish({"type": "status", "conversation_id": 42})
                second = await asyncio.wait_for(queue.get(), 5)
                return {"first": first, "second": second}
        finally:
            for hub in (web_a, web_b, worker):
                await hub.stop()

    got = asyncio.run(run())
    assert got["first"]["conversation_id"] == 41 and got["second"]["conversation_id"] == 42


@dataclass
class Prod:
    stack: Stack
    web: list[Proc]
    worker: Proc
    gateway: Gateway


def _wait_log(proc: Proc, text: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in proc.log():
        if proc.proc is not None and proc.proc.poll() is not None:
            raise AssertionError(f"exited:\n{proc.log()[-3000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen {text!r}:\n{proc.log()[-3000:]}")
        time.sleep(0.1)


@pytest.fixture
def prod(tmp_path: Path, rasa: StubRasa) -> Iterator[Prod]:
    with database("postgres", tmp_path) as url:
        port, fake_port = free_ports(2)
        env = gateway_env(
            url, port, LINE_CHANNEL_SECRET=SECRET, LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
            LINE_API_BASE_URL=f"http://127.0.0.1:{fake_port}", YCC_RASA_URL=rasa.url, YCC_REDIS_URL=REDIS,
            YCC_WORKER="off", YCC_REUSE_PORT="1", YCC_RUN_DIR=str(tmp_path / "run"),
            YCC_DATA_DIR=always_open_data(tmp_path),  # bot turns whatever the hour in Japan
        )
        upgrade(normalise_database_url(url))
        fake = fakeline_proc(tmp_path, fake_port, port).start()
        base = f"http://127.0.0.1:{port}"
        worker = Proc([YCC, "worker"], env, base, "/healthz", tmp_path / "worker.log")
        web = [Proc([YCC, "serve", "--no-migrate"], env, base, "/healthz", tmp_path / f"web{n}.log") for n in (1, 2)]
        try:
            for proc in web:
                proc.start(timeout=60)
                _wait_log(proc, "Starting worker")  # Sanic's line: this process is serving too
            worker.start()  # (its health is the web's: it has no port of its own)
            _wait_log(worker, "worker ready")
            yield Prod(Stack(web[0], fake, url), web, worker, Gateway(base, url, web[0], env))
        finally:
            for proc in (*web, worker):
                proc.stop()
            fake.stop()


def test_two_web_processes_answer_every_user_in_order_and_once(prod: Prod) -> None:
    users = [f"U{n:032x}" for n in range(1, 13)]
    with ThreadPoolExecutor(6) as pool:  # users write at the same time; each user's three in order
        list(pool.map(lambda u: [prod.stack.send(u, {"type": "text", "text": f"{u[-2:]}-{i}"}) for i in range(3)],
                      users))
    for user in users:
        delivered = prod.stack.wait_delivered(user, 3, timeout=30)
        assert [m["text"] for m in delivered] == [f"bot:{user[-2:]}-{i}" for i in range(3)]
    stored = rows(prod.stack.database_url, "SELECT text FROM messages WHERE direction = 'in' ORDER BY id")
    assert sorted(r["text"] for r in stored) == sorted(f"{u[-2:]}-{i}" for u in users for i in range(3))
    for user in users:  # per user, in the order they were written
        own = [r["text"] for r in stored if r["text"].startswith(user[-2:])]
        assert own == [f"{user[-2:]}-{i}" for i in range(3)]
    sent = rows(prod.stack.database_url, "SELECT count(*) AS n FROM outbox WHERE status = 'sent'")[0]["n"]
    assert sent == 36  # no answer twice


def test_live_updates_reach_counsellors_on_either_process(prod: Prod) -> None:
    supervisor: Console = prod.gateway.login(prod.gateway.add_user("supervisor"))
    cookie = {"Cookie": f"ycc_session={supervisor.client.cookies.get('ycc_session')}"}
    url = prod.web[0].url.replace("http://", "ws://") + "/console/live"
    user = "U" + "ab" * 16

    async def watch() -> list[list[dict[str, Any]]]:
        # Eight browsers: the kernel spreads their connections over both processes (all on one: 1 in 128).
        socks = [await websockets.connect(url, additional_headers=cookie) for _ in range(8)]
        try:
            for sock in socks:
                assert json.loads(await sock.recv())["type"] == "hello"
            await asyncio.to_thread(prod.stack.send, user, {"type": "text", "text": "人と話したい"})
            got: list[list[dict[str, Any]]] = []
            for sock in socks:
                seen: list[dict[str, Any]] = []
                while not any(e["type"] == "message" for e in seen):
                    seen.append(json.loads(await asyncio.wait_for(sock.recv(), 15)))
                got.append(seen)
            return got
        finally:
            for sock in socks:
                await sock.close()

    with ThreadPoolExecutor(1) as pool:
        got = pool.submit(lambda: asyncio.run(watch())).result()
    assert len(got) == 8 and all(any(e["type"] == "message" for e in seen) for seen in got)
    assert "人と話したい" not in json.dumps(got, ensure_ascii=False)
    assert httpx.get(prod.web[0].url + "/healthz", timeout=5).status_code == 200


def test_a_killed_web_process_leaves_the_other_answering_and_a_redelivery_fills_any_gap(prod: Prod) -> None:
    users = [f"U{n:032x}" for n in range(101, 107)]
    for user in users:
        prod.stack.send(user, {"type": "text", "text": f"{user[-2:]}-first"})
    prod.web[0].kill()  # kill -9: what it had accepted and not answered is LINE's to deliver again
    for user in users:
        outcome = prod.stack.send(user, {"type": "text", "text": f"{user[-2:]}-after"})
        if outcome.get("webhook_status") != 200:  # LINE redelivers what did not get its 200
            event_id = outcome["event"]["webhookEventId"]
            again = prod.stack.http.post(f"{prod.stack.fake.url}/_fake/redeliver/{event_id}").json()
            assert again["webhook_status"] == 200, again
    for user in users:
        delivered = prod.stack.wait_delivered(user, 2, timeout=30)
        assert [m["text"] for m in delivered] == [f"bot:{user[-2:]}-first", f"bot:{user[-2:]}-after"]
    assert httpx.get(prod.web[1].url + "/healthz", timeout=5).status_code == 200


def test_run_prod_restarts_a_dead_process_but_not_one_that_keeps_dying() -> None:
    from handoff.run_prod import Restarts

    restarts = Restarts()
    assert all(restarts.allow("worker", float(t)) for t in range(5))  # five deaths in a minute: started again
    assert not restarts.allow("worker", 5.0)  # the sixth: broken, not unlucky
    assert restarts.allow("rasa", 5.0)  # counted per process
    assert restarts.allow("worker", 70.0)  # a minute later it may try again
