"""Figures for the production shape (issue 18.7): `make run-prod` — two web processes on one port, a worker,
PostgreSQL, Redis, the real Rasa and action servers, a standalone fake LINE — and, in the same run, the gateway
against the usual open-source connector (bench/naive_connector.py) while Rasa slows down.

    .venv/bin/python -m bench.bench_prod [--rate 100] [--seconds 10] [--turns 30] [--burst 50] [--crises 20]
        [--counsellors 20] [--messages 100] [--delays 0,1,2.5,4] [--per-delay 12] [--skip-prod] [--skip-naive]

Targets: webhook ack p99 < 20 ms; bot turn p95 < 250 ms; crisis → alert p95 < 1 s; console fan-out p95 < 50 ms
with the counsellors' sockets spread over both web processes. LINE waits 2 s for a webhook's answer: above that the
delivery counts as failed (LINE redelivers at most later, and only when redelivery is switched on).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.bench_console import run as console_run
from bench.bench_console import sessions
from bench.bench_pipeline import pct, steady_acks
from handoff.settings import SIMULATOR_CHANNEL_SECRET
from tests.support.databases import database, rows
from tests.support.prodrun import ProdRun, run_prod
from tests.support.receiver import Receiver
from tests.support.servers import SECRET, TOKEN, Proc, fakeline_proc, free_ports, start_stack
from tests.support.stub_rasa import StubRasa

LINE_LIMIT_MS = 2000
HARMLESS = "今日は学校のあと買い物して、ごはん作った"
CRISIS = "もう消えたい。今日で終わりにする"


def line(name: str, values: list[float], note: str = "") -> str:
    if not values:
        return f"  {name:<40}{'(none)':>8}"
    return (f"  {name:<40}{len(values):>6}{statistics.median(values):>9.1f}{pct(values, 0.95):>9.1f}"
            f"{pct(values, 0.99):>9.1f}{max(values):>9.1f}  {note}")


async def _turn(http: httpx.AsyncClient, fake: str, user: str, text: str, wait_s: float = 20) -> float:
    """A text sent on the fake LINE → the first bot message delivered back to that user, in ms."""
    start = time.perf_counter()
    response = await http.post(f"{fake}/_fake/users/{user}/events", json={"type": "text", "text": text})
    response.raise_for_status()
    got = await http.get(f"{fake}/_fake/users/{user}/messages", params={"wait_for": 1, "timeout": wait_s},
                         timeout=wait_s + 5)
    if not got.json()["messages"]:
        return float("nan")
    return (time.perf_counter() - start) * 1000


async def bot_turns(fake: str, turns: int) -> list[float]:
    async with httpx.AsyncClient(timeout=30) as http:
        for i in range(3):  # warm up: Rasa's first turn loads its pipeline
            await _turn(http, fake, f"Uwarm{secrets.token_hex(13)}{i}", "こんにちは", wait_s=60)
        return [await _turn(http, fake, f"Uturn{secrets.token_hex(13)}", "こんにちは") for _ in range(turns)]


async def crisis_under_burst(fake: str, receiver: Receiver, rate: int,
                             crises: int) -> tuple[list[float], list[float], int]:
    """Harmless messages from 50 users at `rate`/s while, every 0.5 s, a new user writes a crisis message."""
    arrived: list[float] = []
    stop, all_in = threading.Event(), threading.Event()

    def watch() -> None:
        seen = len(receiver.bodies)
        while not stop.is_set():
            while seen < len(receiver.bodies):
                if receiver.bodies[seen].get("type") == "crisis":
                    arrived.append(time.perf_counter())
                seen += 1
            if len(arrived) >= crises:
                all_in.set()
            time.sleep(0.001)

    threading.Thread(target=watch, daemon=True).start()
    background = [f"Uburst{secrets.token_hex(12)}{i:02d}" for i in range(50)]
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200)) as http:
        sent = 0

        async def pump(until: float) -> None:
            nonlocal sent
            tasks, begin = [], time.perf_counter()
            while time.perf_counter() < until:
                user = background[sent % len(background)]
                tasks.append(asyncio.create_task(http.post(f"{fake}/_fake/users/{user}/events",
                                                           json={"type": "text", "text": HARMLESS})))
                sent += 1
                await asyncio.sleep(max(0.0, begin + sent / rate - time.perf_counter()))
            await asyncio.gather(*tasks, return_exceptions=True)

        starts: list[float] = []
        acked: list[float] = []
        pumping = asyncio.create_task(pump(time.perf_counter() + crises * 0.5 + 2))
        await asyncio.sleep(1)
        for _ in range(crises):
            starts.append(time.perf_counter())
            await http.post(f"{fake}/_fake/users/Ucris{secrets.token_hex(13)}/events",
                            json={"type": "text", "text": CRISIS})
            acked.append((time.perf_counter() - starts[-1]) * 1000)
            await asyncio.sleep(0.5)
        await pumping
    await asyncio.to_thread(all_in.wait, 60)  # the last alerts, if still on their way
    stop.set()
    # Alerts arrive in the order the crises were sent closely enough to pair them by rank (each is one user).
    return [(a - s) * 1000 for s, a in zip(starts, sorted(arrived), strict=False)], acked, sent


def settle(database_url: str, timeout: float = 600) -> tuple[float, int]:
    """Wait until the worker has finished every stored event, Rasa's turns included; (seconds waited, events that
    were left). Why: the burst leaves a few hundred bot turns for Rasa, which answers about 10 a second here. The
    console figure measured behind that backlog was the worker and Rasa sharing two cores with it, not the fan-out
    (docs/decisions/0005-live-fan-out.md); each measure starts from a worker with nothing left to do."""
    start = time.monotonic()
    sql = "SELECT count(*) AS n FROM inbox WHERE status IN ('pending', 'bot')"
    left = first = int(rows(database_url, sql)[0]["n"])
    while left and time.monotonic() - start < timeout:
        time.sleep(0.5)
        left = int(rows(database_url, sql)[0]["n"])
    if left:
        raise RuntimeError(f"{left} events were still unfinished after {timeout:.0f} s")
    return time.monotonic() - start, first


def web_sockets_per_process(run: ProdRun) -> dict[str, int]:
    """Established connections on the gateway's port, by the web process that holds them (ss -tnp)."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{run.port} )"],
                         capture_output=True, text=True).stdout
    counts: dict[str, int] = {}
    for name, pid in run.children().items():
        if name.startswith("web-"):
            counts[name] = len(re.findall(rf"pid={pid},", out))
    return counts


def resident_mb(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    return float("nan")


def prod_figures(args: argparse.Namespace) -> None:
    (alert_port,) = free_ports(1)
    receiver = Receiver(alert_port)
    with tempfile.TemporaryDirectory() as tmp, run_prod(Path(tmp), YCC_ALERT_WEBHOOK_URL=receiver.url) as run:
        gateway = f"http://127.0.0.1:{run.port}"
        print(f"run-prod: {', '.join(sorted(run.children()))}")
        print(f"  {'measure':<40}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
        turns = asyncio.run(bot_turns(run.fake_url, args.turns))
        print(line("bot turn (real Rasa), fake LINE → reply", turns, "target p95 < 250"))
        acks = asyncio.run(steady_acks(gateway, args.rate, args.seconds, secrets.token_hex(2),
                                       SIMULATOR_CHANNEL_SECRET))
        print(line(f"webhook ack at {args.rate}/s, 2 web processes", acks, "target p99 < 20"))
        waited, left = settle(run.database_url)  # the next measure starts with nothing left to do
        print(f"  (waited {waited:.0f} s for the worker to finish the {left} events left by the ack run)")
        alerts, acked, sent = asyncio.run(crisis_under_burst(run.fake_url, receiver, args.burst, args.crises))
        print(line(f"crisis webhook acked, {sent} harmless at {args.burst}/s", acked))
        print(line("crisis → alert, same burst", alerts, "target p95 < 1000"))
        waited, left = settle(run.database_url)
        print(f"  (waited {waited:.0f} s for the worker to finish the {left} events left by the burst)")
        cookies = asyncio.run(sessions(run.database_url, args.counsellors))
        spread: dict[str, int] = {}

        async def fan_out() -> dict[str, list[float]]:
            task = asyncio.create_task(console_run(gateway, cookies, args.messages, 10, fake=run.fake_url,
                                                   warm="相談員さんと話したいです"))
            await asyncio.sleep(3)
            spread.update(web_sockets_per_process(run))
            return await task

        figures = asyncio.run(fan_out())
        for name, values in figures.items():
            print(line(f"console: {name}", values, "target p95 < 50" if "slowest" in name else ""))
        print(f"  console sockets per web process (kernel's SO_REUSEPORT spread): {spread}")
        rss = {name: resident_mb(pid) for name, pid in sorted(run.children().items())}
        rss["supervisor"] = resident_mb(run.proc.pid)
        print("  resident memory MB: " + ", ".join(f"{k} {v:.0f}" for k, v in rss.items()))
    receiver.stop()


async def _deliveries(fake: str, users: list[str], wait_s: float) -> list[tuple[float, int, bool, bool]]:
    """Each user's text concurrently: (webhook round trip in ms as LINE sees it, its status, whether anything came
    back to the user, whether the bot's own answer did)."""
    async with httpx.AsyncClient(timeout=wait_s + 10) as http:

        async def one(user: str) -> tuple[float, int]:
            start = time.perf_counter()
            sent = (await http.post(f"{fake}/_fake/users/{user}/events",
                                    json={"type": "text", "text": "相談したいです"})).json()
            return (time.perf_counter() - start) * 1000, int(sent.get("webhook_status") or 0)

        acked = await asyncio.gather(*(one(u) for u in users))
        got = await asyncio.gather(*(http.get(f"{fake}/_fake/users/{u}/messages",
                                              params={"wait_for": 1, "timeout": wait_s}) for u in users))
    def bot_said(messages: list[dict[str, Any]]) -> bool:  # the stub Rasa answers "bot:<text>"
        return any(str(m.get("text", "")).startswith("bot:") for m in messages)

    return [(ms, status, bool(r.json()["messages"]), bot_said(r.json()["messages"]))
            for (ms, status), r in zip(acked, got, strict=True)]


def naive_vs_gateway(delays: list[float], per_delay: int) -> None:
    print(f"\nRasa slowed down: {per_delay} users write at once per delay; LINE's webhook limit {LINE_LIMIT_MS} ms")
    print(f"  {'Rasa delay s':<14}{'system':<22}{'ack p50 ms':>11}{'ack max ms':>11}{'over 2 s':>10}"
          f"{'heard back':>12}{'bot answered':>14}")
    rasa_port, naive_port, fake_port = free_ports(3)
    stub = StubRasa(rasa_port).start()
    with tempfile.TemporaryDirectory() as tmp, database("sqlite", Path(tmp)) as url:
        stack = start_stack(Path(tmp), url, YCC_RASA_URL=stub.url, YCC_RASA_TIMEOUT="6")  # the default
        naive = Proc([sys.executable, "-m", "bench.naive_connector", "--port", str(naive_port), "--rasa", stub.url,
                      "--line", f"http://127.0.0.1:{fake_port}", "--secret", SECRET, "--token", TOKEN],
                     dict(os.environ), f"http://127.0.0.1:{naive_port}", "/healthz", Path(tmp) / "naive.log").start()
        naive_fake = fakeline_proc(Path(tmp), fake_port, naive_port).start()
        try:
            for delay in delays:
                stub.delay = delay
                for system, fake in (("gateway (store first)", stack.fake.url), ("naive connector", naive_fake.url)):
                    users = [f"U{secrets.token_hex(16)}" for _ in range(per_delay)]
                    got = asyncio.run(_deliveries(fake, users, wait_s=delay * per_delay + 15))
                    acks = [ms for ms, *_ in got]
                    late = sum(1 for ms, status, *_ in got if ms > LINE_LIMIT_MS or status != 200)
                    heard = sum(1 for _, _, any_, _ in got if any_)
                    answered = sum(1 for *_, bot in got if bot)
                    print(f"  {delay:<14}{system:<22}{statistics.median(acks):>11.0f}{max(acks):>11.0f}"
                          f"{f'{late}/{len(got)}':>10}{f'{heard}/{len(got)}':>12}{f'{answered}/{len(got)}':>14}")
        finally:
            naive_fake.stop()
            naive.stop()
            stack.stop()
            stub.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--crises", type=int, default=20)
    parser.add_argument("--counsellors", type=int, default=20)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--delays", default="0,1,2.5,4")
    parser.add_argument("--per-delay", type=int, default=12)
    parser.add_argument("--skip-prod", action="store_true")
    parser.add_argument("--skip-naive", action="store_true")
    args: Any = parser.parse_args(argv)
    if not args.skip_prod:
        prod_figures(args)
    if not args.skip_naive:
        naive_vs_gateway([float(d) for d in args.delays.split(",")], args.per_delay)


if __name__ == "__main__":
    main()
