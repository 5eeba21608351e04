"""SQLite in the event loop's thread: a lock held by another process is waited for without blocking the loop,
and a unit of work that cannot get it in time fails cleanly, storing nothing."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from handoff.pipeline.inbox import store_events
from handoff.store.db import Database
from handoff.store.migrate import upgrade
from handoff.store.models import InboxEvent
from handoff.store.types import utcnow


def _event(n: int) -> dict[str, object]:
    return {
        "type": "message",
        "webhookEventId": f"EV{n:08d}",
        "timestamp": 1_760_000_000_000,
        "source": {"type": "user", "userId": "U" + "a" * 32},
        "message": {"type": "text", "id": str(n), "text": "こんにちは🙂"},
    }


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "inline.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another process's writer (a `ycc` command, say): holds SQLite's write lock until it commits."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


async def _ticks_while(task: asyncio.Task[object], seconds: float) -> int:
    """How often a 1 ms timer fired while `task` waited: the loop is free only if this is high."""
    ticks = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(0.001)
        ticks += 1
    assert not task.done(), "the write did not wait for the lock"
    return ticks


async def _stored(db: Database) -> list[str]:
    async with db.session() as session:
        return list(await session.scalars(select(InboxEvent.webhook_event_id).order_by(InboxEvent.id)))


def test_a_write_waits_for_another_process_without_blocking_the_loop(db_path: Path) -> None:
    async def scenario() -> tuple[int, int, list[str]]:
        db = Database(f"sqlite+aiosqlite:///{db_path}")
        other = _hold_write_lock(db_path)
        try:
            task = asyncio.create_task(store_events(db, [_event(1)]))
            ticks = await _ticks_while(task, 0.2)
            other.execute("COMMIT")
            new = await asyncio.wait_for(task, 5)
            return ticks, new, await _stored(db)
        finally:
            other.close()
            await db.close()

    ticks, new, stored = asyncio.run(scenario())
    assert ticks > 50  # ≈ 200 on a free loop; a busy handler in the loop's thread would leave it near 0
    assert new == 1
    assert stored == ["EV00000001"]


def test_a_lock_held_past_the_patience_fails_the_unit_of_work_and_stores_nothing(db_path: Path) -> None:
    async def scenario() -> tuple[str, float, list[str]]:
        db = Database(f"sqlite+aiosqlite:///{db_path}", lock_patience=0.3)
        other = _hold_write_lock(db_path)
        started = time.monotonic()
        try:
            with pytest.raises(OperationalError) as failed:
                await store_events(db, [_event(2)])
            waited = time.monotonic() - started
        finally:
            other.execute("ROLLBACK")
            other.close()
        try:
            return str(failed.value.orig), waited, await _stored(db)
        finally:
            await db.close()

    error, waited, stored = asyncio.run(scenario())
    assert "database is locked" in error
    assert 0.25 < waited < 3
    assert stored == []


def test_a_unit_of_work_is_atomic_and_sees_its_own_writes(db_path: Path) -> None:
    """Implicit transactions as with pysqlite: a failed unit of work leaves nothing behind."""

    async def scenario() -> list[str]:
        db = Database(f"sqlite+aiosqlite:///{db_path}")
        try:
            with pytest.raises(RuntimeError):
                async with db.session() as session:
                    session.add(
                        InboxEvent(
                            webhook_event_id="EVrolled", source_key="U1", event_type="message", body={"x": 1},
                            received_at=utcnow(), status="pending", attempts=0,
                        )
                    )
                    await session.flush()
                    seen = await session.scalar(select(InboxEvent.id).where(InboxEvent.webhook_event_id == "EVrolled"))
                    assert seen is not None
                    raise RuntimeError("the unit of work fails after its write")
            await store_events(db, [_event(3)])
            return await _stored(db)
        finally:
            await db.close()

    assert asyncio.run(scenario()) == ["EV00000003"]

