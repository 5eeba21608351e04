"""The login throttle's arithmetic and storage on SQLite and PostgreSQL (console/throttle.py, issue 12.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console import throttle
from handoff.store.db import Database

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)



async def fail(db: Database, name: str, source: str, at: datetime) -> float:
    async with db.session() as session:
        return (await throttle.failed(session, name, source, at)).total_seconds()


async def left(db: Database, name: str, source: str, at: datetime) -> float:
    async with db.session() as session:
        return await throttle.wait_left(session, name, source, at)


async def test_delays_double_after_three_failures_per_name_and_source_and_are_forgotten(db: Database) -> None:
    delays = [await fail(db, "yamada", "198.51.100.1", T0 + timedelta(minutes=i)) for i in range(6)]
    assert delays == [0, 0, 1, 2, 4, 8]
    assert await left(db, "yamada", "198.51.100.1", T0 + timedelta(minutes=5)) == 8
    assert await left(db, "yamada", "198.51.100.2", T0 + timedelta(minutes=5)) == 0  # another address
    assert await left(db, "sato", "198.51.100.1", T0 + timedelta(minutes=5)) == 0  # another name
    assert throttle.delay_after(40) == throttle.MAX_DELAY
    later = T0 + throttle.FORGET_AFTER + timedelta(hours=1)
    assert await fail(db, "yamada", "198.51.100.1", later) == 0  # a day without failures starts again
    async with db.session() as session:
        await throttle.cleared(session, "yamada", "198.51.100.1")
    assert [await fail(db, "yamada", "198.51.100.1", later) for _ in range(3)] == [0, 0, 1]
