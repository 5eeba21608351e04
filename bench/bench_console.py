"""Console live latency: a user's LINE message → counsellors' screens, 20 counsellors connected (p95 < 150 ms).

    .venv/bin/python -m bench.bench_console [--counsellors 20] [--messages 200] [--database sqlite|postgres]

A real gateway (`ycc serve`, simulator mode, Rasa down so every conversation waits for a human) receives signed
webhook events from its built-in fake LINE. Each counsellor holds a console WebSocket (/console/live). Measured:
- event: POST of the user's message to the fake LINE → the live event on each counsellor's socket (every
  counsellor, every message);
- screen: the same → the conversation fetched through the API by one counsellor (what the page then draws).
Sessions are created directly in the database (as after a login) so the figure is not about argon2 or TOTP.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from console import security
from console.users import create_user
from handoff.settings import normalise_database_url
from handoff.store.db import Database
from handoff.store.models import ConsoleSession
from handoff.store.types import utcnow
from tests.support.databases import database
from tests.support.servers import Proc, free_port, gateway_env


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def sessions(database_url: str, count: int) -> list[str]:
    """Counsellor accounts with a live console session each; returns the raw session cookies."""
    db = Database(normalise_database_url(database_url))
    raws = []
    try:
        async with db.session() as session:
            for i in range(count):
                enrolment = await create_user(
                    session,
                    name=f"bench{i:02d}_{secrets.token_hex(2)}",
                    role="counsellor",
                    password="bench password 123",
                    qualifications="AB",
                    actor="bench",
                )
                raw = secrets.token_urlsafe(32)
                session.add(
                    ConsoleSession(
                        id=security.token_hash(raw),
                        user_id=enrolment.user.id,
                        created_at=utcnow(),
                        last_seen_at=utcnow(),
                        csrf_token=secrets.token_urlsafe(16),
                        second_factor_done=True,
                    )
                )
                raws.append(raw)
    finally:
        await db.close()
    return raws


async def run(url: str, cookies: list[str], messages: int, users: int, fake: str = "",
              warm: str = "こんにちは") -> dict[str, list[float]]:
    """`fake`: the fake LINE's base URL, by default the gateway's own simulator (`ycc serve` in simulator mode);
    `warm`: what each user first writes so that the conversation waits for a counsellor (with Rasa down, anything;
    with a real bot, a request for a person)."""
    fake = fake or f"{url}/simulator/line"
    ws_url = url.replace("http://", "ws://") + "/console/live"
    sockets = [await websockets.connect(ws_url, additional_headers={"Cookie": f"ycc_session={raw}"}) for raw in cookies]
    for sock in sockets:
        assert json.loads(await sock.recv())["type"] == "hello"
    http = httpx.AsyncClient(base_url=url, timeout=10)
    viewer = httpx.AsyncClient(base_url=url, timeout=10, cookies={"ycc_session": cookies[0]})
    line_users = ["U" + secrets.token_hex(16) for _ in range(users)]
    conversation_of: dict[str, int] = {}
    for user in line_users:  # warm up: every user's conversation exists and waits in the queue
        await http.post(f"{fake}/_fake/users/{user}/events", json={"type": "text", "text": warm})
    deadline = time.monotonic() + 60
    while len(conversation_of) < users and time.monotonic() < deadline:
        listed = (await viewer.get("/api/conversations?status=queued&limit=1000")).json()["items"]
        conversation_of = {c["line_user_id"]: c["id"] for c in listed if c["line_user_id"] in line_users}
        await asyncio.sleep(0.2)
    assert len(conversation_of) == users, "warm-up conversations did not reach the queue"
    await asyncio.sleep(1.0)

    async def drain(sock: Any) -> None:
        try:
            while True:
                await asyncio.wait_for(sock.recv(), timeout=0.01)
        except TimeoutError:
            pass

    ack_ms: list[float] = []
    event_ms: list[float] = []
    worst_ms: list[float] = []
    screen_ms: list[float] = []
    for i in range(messages):
        await asyncio.gather(*(drain(s) for s in sockets))
        user = line_users[i % users]
        cid = conversation_of[user]

        async def wait_event(sock: Any, start: float, cid: int = cid) -> float:
            while True:
                event = json.loads(await sock.recv())
                if event.get("type") == "message" and event.get("conversation_id") == cid:
                    return (time.perf_counter() - start) * 1000

        async def wait_screen(sock: Any, start: float, cid: int = cid) -> float:
            await wait_event(sock, start, cid)
            response = await viewer.get(f"/api/conversations/{cid}")
            assert response.status_code == 200
            return (time.perf_counter() - start) * 1000

        async def send(start: float, user: str = user, i: int = i) -> float:
            await http.post(f"{fake}/_fake/users/{user}/events", json={"type": "text", "text": f"相談 {i}"})
            return (time.perf_counter() - start) * 1000

        start = time.perf_counter()
        results = await asyncio.gather(
            send(start), wait_screen(sockets[0], start), *(wait_event(s, start) for s in sockets[1:])
        )
        ack_ms.append(results[0])
        screen_ms.append(results[1])
        per_client = list(results[2:])
        event_ms.extend(per_client)
        worst_ms.append(max(per_client))
        await asyncio.sleep(0.02)
    for sock in sockets:
        await sock.close()
    await http.aclose()
    await viewer.aclose()
    return {
        "webhook acked (gateway ingress)": ack_ms,
        "event (each counsellor)": event_ms,
        "event (slowest of 20)": worst_ms,
        "screen (event + API fetch)": screen_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counsellors", type=int, default=20)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--users", type=int, default=10, help="LINE users the messages rotate over")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database(args.database, Path(tmp)) as url:
        port = free_port()
        env = gateway_env(url, port, YCC_WORKER_POLL_SECONDS="0.5")
        proc = Proc(
            [str(Path(sys.executable).parent / "ycc"), "serve"],
            env,
            f"http://127.0.0.1:{port}",
            "/healthz",
            log_path=Path(tmp) / "gateway.log",
        ).start()
        try:
            cookies = asyncio.run(sessions(url, args.counsellors))
            figures = asyncio.run(run(proc.url, cookies, args.messages, args.users))
        finally:
            proc.stop()
    print(
        f"console live latency — {args.database}, {args.counsellors} counsellors on WebSocket, "
        f"{args.messages} user messages (target p95 < 150 ms)"
    )
    print(f"{'measure':<34}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for name, values in figures.items():
        print(
            f"{name:<34}{len(values):>6}{statistics.median(values):>10.1f}{pct(values, 0.95):>10.1f}"
            f"{pct(values, 0.99):>10.1f}{max(values):>10.1f}"
        )
    p95 = pct(figures["screen (event + API fetch)"], 0.95)
    print(f"screen p95 {p95:.1f} ms: {'meets' if p95 < 150 else 'MISSES'} the 150 ms target")


if __name__ == "__main__":
    main()
