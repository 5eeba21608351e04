"""The gateway's own share of a bot turn, in-process: no Rasa, no LINE, no HTTP, only the code and the database.

    .venv/bin/python -m bench.bench_turn [--turns 300] [--storage sqlite,postgres]

Why beside bench_pipeline: its end-to-end ratio to bare Rasa moves by about ±0.05 from run to run on this VM, and
cannot say which part of the turn a change made faster. Here a text message is stored (as the webhook does), then
routed, answered by a Rasa stand-in that replies at once, stored and handed to a LINE stand-in, and the send is
recorded, for each storage in the same run. Printed per turn: milliseconds from the start of the worker's turn until
the answer is handed to LINE (what the user waits for, less Rasa), the whole turn including the record of the send,
the webhook's insert, and the SQL statements each runs. The first contact of each user is left out (warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.bench_pipeline import pct
from handoff.pipeline.inbox import store_events
from handoff.settings import normalise_database_url
from handoff.store.migrate import upgrade
from tests.support.databases import database
from tests.support.inprocess import InProcess, in_process, text_event

USERS = 20


async def _turns(url: str, turns: int) -> dict[str, list[float]]:
    async with in_process(url) as worker:
        return await _measure(worker, turns)


async def _measure(worker: InProcess, turns: int) -> dict[str, list[float]]:
    res, inbox, line = worker.res, worker.inbox, worker.line
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    for engine in {res.db.engine, res.db.ingest_engine}:
        event.listen(engine.sync_engine, "before_cursor_execute", count)
    figures: dict[str, list[float]] = {"answer": [], "turn": [], "ingest": [], "ingest_sql": [], "turn_sql": []}
    for i in range(turns + USERS):
        ev, warm = text_event(f"U{i % USERS:032x}", "こんにちは", i), i >= USERS
        before, start = statements[0], time.perf_counter()
        await store_events(res.db, [ev])
        stored, after_ingest = time.perf_counter(), statements[0]
        await inbox.drain(ev["source"]["userId"])
        done = time.perf_counter()
        if warm:
            figures["ingest"].append((stored - start) * 1000)
            figures["answer"].append((line.replied_at - stored) * 1000)
            figures["turn"].append((done - stored) * 1000)
            figures["ingest_sql"].append(after_ingest - before)
            figures["turn_sql"].append(statements[0] - after_ingest)
    return figures


def bench(kind: str, turns: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as raw_url:
        url = normalise_database_url(raw_url)
        upgrade(url)
        return asyncio.run(_turns(url, turns))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--storage", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"one bot turn in-process, {args.turns} turns of {USERS} users (first contacts left out)")
    print(f"{'storage':<10}{'part':<34}{'p50 ms':>9}{'p95 ms':>9}{'SQL':>6}")
    for kind in (k.strip() for k in args.storage.split(",")):
        f = bench(kind, args.turns)
        sql_turn, sql_ingest = statistics.median(f["turn_sql"]), statistics.median(f["ingest_sql"])
        for label, key, sql in (
            ("webhook insert", "ingest", f"{sql_ingest:.0f}"),
            ("worker: turn until answer handed on", "answer", ""),
            ("worker: whole turn with its record", "turn", f"{sql_turn:.0f}"),
        ):
            p50, p95 = statistics.median(f[key]), pct(f[key], 0.95)
            print(f"{kind:<10}{label:<34}{p50:>9.2f}{p95:>9.2f}{sql:>6}", flush=True)


if __name__ == "__main__":
    main()
