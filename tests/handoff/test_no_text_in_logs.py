"""The README's promise "message text is never logged", checked after runs that take every failure path (R14).

Every text below carries MARKER. The runs include the events that used to make a statement fail (a NUL on
PostgreSQL, a lone surrogate, optional fields of the wrong type, an over-long user id, bodies LINE would never send)
and a database that goes away under the gateway; afterwards no log the run wrote may contain the marker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
import time
from typing import Any

import httpx
import pytest

from handoff.pipeline.inbox import store_events
from handoff.settings import normalise_database_url
from handoff.store.db import LOCK_PATIENCE
from handoff.store.migrate import upgrade
from tests.handoff.test_webhook import sign
from tests.support.databases import execute, rows
from tests.support.inprocess import InstantRasa, in_process, text_event
from tests.support.servers import Stack

MARKER = "zq7Kmarker"  # no log line has any other reason to contain this


def post_events(stack: Stack, events: list[Any]) -> httpx.Response:
    """A signed body as LINE sends it, ASCII-escaped so lone surrogates survive the trip."""
    body = json.dumps({"destination": "Uxx", "events": events}).encode()
    headers = {"content-type": "application/json", "x-line-signature": sign(body)}
    return httpx.post(f"{stack.url}/line/webhook", content=body, headers=headers, timeout=30)


def troublesome_events() -> dict[str, dict[str, Any]]:
    """One user per case, so a case that fails cannot hold back the others (per-user order)."""
    wrong_types = text_event("U" + "4" * 32, f"{MARKER} 型違い", 4)
    wrong_types["message"].update(id={"x": MARKER}, markAsReadToken=12345, quoteToken=[MARKER])
    return {
        "plain": text_event("U" + "1" * 32, f"{MARKER} ふつう", 1),
        "nul": text_event("U" + "2" * 32, f"{MARKER}\x00ぬる", 2),
        "surrogate": text_event("U" + "3" * 32, f"{MARKER}\ud800さろげーと", 3),
        "wrong_types": wrong_types,
        "long": text_event("U" + "5" * 32, (MARKER + "長") * 5000, 5),
    }


def unacceptable_events() -> list[Any]:
    too_long_id = text_event("U" + MARKER * 10, MARKER, 6)
    not_an_object = {**text_event("U" + "7" * 32, MARKER, 7), "source": MARKER}
    return [too_long_id, not_an_object]


def _hold_the_database(stack: Stack, seconds: float) -> threading.Thread:
    """PostgreSQL: every connection of the gateway is dropped, as by a server restart (this test's database only,
    so other tests on the shared server are untouched). SQLite: another process holds the write lock past the
    gateway's patience, so its statements fail for a while."""
    if stack.database_url.startswith("postgresql"):
        execute(stack.database_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        done = threading.Thread()
        done.start()
        return done
    path = stack.database_url.removeprefix("sqlite:///")

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        time.sleep(seconds)
        conn.execute("ROLLBACK")
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    time.sleep(0.2)
    return thread


def test_no_log_holds_message_text_after_bad_events_and_a_lost_database(any_stack: Stack) -> None:
    stack = any_stack
    cases = troublesome_events()
    for event in cases.values():
        post_events(stack, [event])
    post_events(stack, unacceptable_events())
    users = [e["source"]["userId"] for e in cases.values()]
    for user in users:
        with contextlib.suppress(AssertionError):  # checked below, after the logs
            stack.wait_delivered(user, 1, timeout=10)
    holder = _hold_the_database(stack, LOCK_PATIENCE + 1)
    after = text_event("U" + "8" * 32, f"{MARKER} 戻ったあと", 8)
    for _ in range(10):  # LINE redelivers what got no 200
        if post_events(stack, [after]).status_code == 200:
            break
    holder.join()
    answered = stack.wait_delivered(after["source"]["userId"], 1, timeout=30)
    logs = stack.gateway.log()
    assert "webhook" in logs  # the log is the gateway's, and it was written to
    assert MARKER not in logs
    assert answered and all(stack.delivered(user) for user in users)


def test_no_log_record_holds_message_text_at_debug_level(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """In process, everything at DEBUG, SQLAlchemy's own loggers included; a failing bot step is part of the run."""
    url = normalise_database_url(db_url)
    upgrade(url)
    caplog.set_level(logging.DEBUG)

    async def failing(sender: str, message: str, metadata: dict[str, Any]) -> None:
        if "壊れる" in message:
            raise RuntimeError(f"the bot broke on {message}")

    events = [*troublesome_events().values(), text_event("U" + "9" * 32, f"{MARKER} 壊れる", 9)]

    async def run() -> None:
        async with in_process(url, InstantRasa(failing)) as worker:
            await store_events(worker.res.db, events)
            for event in events:
                await worker.inbox.drain(event["source"]["userId"])

    asyncio.run(run())
    assert caplog.records  # DEBUG logging was on and saw the run
    leaked = [r.name for r in caplog.records if MARKER in r.getMessage() or MARKER in (r.exc_text or "")]
    assert leaked == []
    assert MARKER not in caplog.text
    assert rows(db_url, "SELECT count(*) AS n FROM messages WHERE direction = 'in'")[0]["n"] == len(events)
