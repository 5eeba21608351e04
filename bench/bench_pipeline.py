"""Pipeline figures: webhook ack latency at a steady rate, sustained events/s with zero loss, and the bot turn
through the gateway against a bare call to Rasa's REST channel in the same run.

    .venv/bin/python -m bench.bench_pipeline [--rate 300] [--seconds 10] [--skip-postgres] [--workers process,inline]

The ack figures are measured for each worker mode in the same run: `process` (the default: worker in its own, niced
process) against `inline` (worker in the web process's event loop), to show what the split buys.

Targets (issue 2): ack p99 < 20 ms at 300 events/s on 2 cores; bot turn p95 < 250 ms; overhead ≤ 1.3× bare Rasa.
The bot-turn part uses the real Rasa server and action server when a model is trained (models/ycc.tar.gz and
.venv-bot exist) and says so; otherwise it reports the stub it used instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.databases import database, rows
from tests.support.fullstack import FullStack, real_rasa
from tests.support.servers import SECRET


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def signed_event(i: int, run: str) -> tuple[bytes, dict[str, str]]:
    import base64
    import hashlib
    import hmac

    event = {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": f"U{run}{i % 200:024x}"},
        "webhookEventId": f"B{run}{i:019d}",
        "deliveryContext": {"isRedelivery": False},
        "replyToken": f"r{i:031d}",
        "message": {"type": "sticker", "id": str(i), "packageId": "1", "stickerId": "1"},
    }
    body = json.dumps({"destination": "Ubench", "events": [event]}).encode()
    sig = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return body, {"content-type": "application/json", "x-line-signature": sig}


async def steady_acks(url: str, rate: int, seconds: float, run: str) -> list[float]:
    """Fire events at a fixed rate (open loop, as LINE does) and record each 200's latency in ms.

    aiohttp rather than httpx: on two cores the client shares the CPU with the gateway, and httpx's own overhead
    at 300 requests/s was larger than the gateway's.
    """
    import aiohttp

    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as client:

        async def one(i: int) -> None:
            body, headers = signed_event(i, run)
            start = time.perf_counter()
            async with client.post(f"{url}/line/webhook", data=body, headers=headers) as response:
                await response.read()
                if response.status == 200:
                    latencies.append((time.perf_counter() - start) * 1000)

        tasks = []
        begin = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return latencies


def wait_processed(database_url: str, expected: int, timeout: float = 120) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        done = rows(database_url, "SELECT count(*) AS n FROM inbox WHERE status IN ('done','ignored')")[0]["n"]
        if done >= expected:
            return time.perf_counter() - start
        time.sleep(0.2)
    raise RuntimeError("events were not all processed")


def bench_storage(kind: str, rate: int, seconds: float, worker: str = "process") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        stack = FullStack(Path(tmp), url, real=False, YCC_WORKER=worker).start()
        try:
            run = f"{int(time.time()) % 100000:05d}"
            begin = time.perf_counter()
            acks = asyncio.run(steady_acks(stack.url, rate, seconds, run))
            sent = int(rate * seconds)
            drain = wait_processed(url, sent)
            total = time.perf_counter() - begin
            stored = rows(url, "SELECT count(*) AS n FROM inbox")[0]["n"]
            return {
                "storage": kind,
                "worker": worker,
                "sent": sent,
                "acked": len(acks),
                "stored": stored,
                "p50": statistics.median(acks),
                "p99": pct(acks, 0.99),
                "processed_per_s": sent / total,
                "drain_after_last_s": drain,
            }
        finally:
            stack.stop()


def bench_bot_turn(turns: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, database("sqlite", Path(tmp)) as url:
        stack = FullStack(Path(tmp), url, real=real_rasa()).start()
        try:
            bare, piped = [], []
            with httpx.Client(timeout=30) as client:
                for i in range(turns):
                    start = time.perf_counter()
                    client.post(
                        f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": f"bare{i}", "message": "こんにちは"}
                    ).raise_for_status()
                    bare.append((time.perf_counter() - start) * 1000)
                    user = f"U{i:032x}"
                    start = time.perf_counter()
                    stack.send(user, "こんにちは")
                    stack.wait_first_message(user)
                    piped.append((time.perf_counter() - start) * 1000)
            return {
                "rasa": "real" if stack.real else "stub",
                "turns": turns,
                "bare_p50": statistics.median(bare),
                "bare_p95": pct(bare, 0.95),
                "gw_p50": statistics.median(piped),
                "gw_p95": pct(piped, 0.95),
            }
        finally:
            stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--workers", default="process,inline", help="worker modes to compare (YCC_WORKER)")
    args = parser.parse_args()
    kinds = ["sqlite"] + ([] if args.skip_postgres else ["postgres"])
    print(f"webhook ack at {args.rate} events/s for {args.seconds:.0f} s (target p99 < 20 ms), zero loss required")
    print(
        f"{'storage':<9}{'worker':<9}{'sent':>7}{'acked':>7}{'stored':>8}{'p50 ms':>9}{'p99 ms':>9}{'done/s':>9}"
        f"{'drain s':>9}"
    )
    for kind in kinds:
        for mode in args.workers.split(","):
            r = bench_storage(kind, args.rate, args.seconds, mode.strip())
            print(
                f"{r['storage']:<9}{r['worker']:<9}{r['sent']:>7}{r['acked']:>7}{r['stored']:>8}"
                f"{r['p50']:>9.1f}{r['p99']:>9.1f}"
                f"{r['processed_per_s']:>9.0f}{r['drain_after_last_s']:>9.1f}"
            )
    t = bench_bot_turn(args.turns)
    print(f"\nbot turn, {t['turns']} turns, {t['rasa']} Rasa (targets: gateway p95 < 250 ms, ratio ≤ 1.3)")
    print(f"{'path':<34}{'p50 ms':>9}{'p95 ms':>9}")
    print(f"{'bare Rasa REST channel':<34}{t['bare_p50']:>9.1f}{t['bare_p95']:>9.1f}")
    print(f"{'LINE webhook → gateway → LINE':<34}{t['gw_p50']:>9.1f}{t['gw_p95']:>9.1f}")
    print(f"ratio p50 {t['gw_p50'] / t['bare_p50']:.2f}×, p95 {t['gw_p95'] / t['bare_p95']:.2f}×")


if __name__ == "__main__":
    main()
