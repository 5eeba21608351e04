"""Live fan-out between processes: Redis pub/sub against PostgreSQL LISTEN/NOTIFY, measured in the same run.

Why: with several web processes (issue 18.2) an event committed in one must reach the consoles connected to the
others. Both servers are on every production host; this prints publish → receive latency from one process to a
listener in another, and what each costs per event, so the choice (docs/decisions/0005-live-fan-out.md) rests on a
measurement. Events are the catalogue's size (ids and kinds, ~80 bytes).

    .venv/bin/python -m bench.bench_fanout_backends [--events 2000] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import time
from typing import Any

REDIS_URL = "redis://127.0.0.1:6379/0"
PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"
CHANNEL = "ycc_bench_fanout"


def _event(n: int) -> str:
    return json.dumps({"type": "message", "conversation_id": n, "at": time.time()})


async def _listen_redis(count: int, ready: Any, out: Any) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    ready.set()
    lags: list[float] = []
    async for item in pubsub.listen():
        if item.get("type") == "message":
            lags.append(time.time() - json.loads(item["data"])["at"])
            if len(lags) == count:
                break
    await client.aclose()
    out.put(lags)


async def _listen_pg(count: int, ready: Any, out: Any) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_DSN)
    lags: list[float] = []
    done = asyncio.Event()

    def on(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
        lags.append(time.time() - json.loads(payload)["at"])
        if len(lags) == count:
            done.set()

    await conn.add_listener(CHANNEL, on)
    ready.set()
    await done.wait()
    await conn.close()
    out.put(lags)


def _listener(kind: str, count: int, ready: Any, out: Any) -> None:
    asyncio.run((_listen_redis if kind == "redis" else _listen_pg)(count, ready, out))


async def _publish(kind: str, count: int, rate: float) -> list[float]:
    """Publish at `rate` events/s; returns what each publish call cost the publisher."""
    costs: list[float] = []
    if kind == "redis":
        import redis.asyncio as aioredis

        client = aioredis.from_url(REDIS_URL)

        async def send(n: int) -> None:
            await client.publish(CHANNEL, _event(n))
    else:
        import asyncpg

        client = await asyncpg.connect(PG_DSN)

        async def send(n: int) -> None:
            await client.execute("SELECT pg_notify($1, $2)", CHANNEL, _event(n))

    for n in range(count):
        started = time.perf_counter()
        await send(n)
        costs.append(time.perf_counter() - started)
        await asyncio.sleep(max(0.0, 1 / rate - costs[-1]))
    if kind == "redis":
        await client.aclose()
    else:
        await client.close()
    return costs


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


def run(kind: str, count: int, rate: float) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    ready, out = ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_listener, args=(kind, count, ready, out))
    proc.start()
    ready.wait(30)
    time.sleep(0.2)
    costs = asyncio.run(_publish(kind, count, rate))
    lags = out.get(timeout=60)
    proc.join(10)
    return {"p50": _pct(lags, 50), "p95": _pct(lags, 95), "p99": _pct(lags, 99), "publish_p50": _pct(costs, 50)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    args = parser.parse_args()
    print(f"{args.events} events at {args.rate:.0f}/s, one publisher process, one listener process")
    print(f"{'backend':<22}{'lag p50':>10}{'p95':>10}{'p99':>10}{'publish p50':>14}   (ms)")
    results = {kind: run(kind, args.events, args.rate) for kind in ("redis", "postgres")}
    for kind, r in results.items():
        name = "Redis pub/sub" if kind == "redis" else "PostgreSQL NOTIFY"
        print(f"{name:<22}{r['p50']:>10.2f}{r['p95']:>10.2f}{r['p99']:>10.2f}{r['publish_p50']:>14.2f}")
    ratio = results["postgres"]["p95"] / results["redis"]["p95"]
    print(f"PostgreSQL / Redis, lag p95: {ratio:.2f}")


if __name__ == "__main__":
    main()
