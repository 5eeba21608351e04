"""Wrong passwords slow down the source that sends them, not the account (ASVS 2.2.1).

A hard lock on the password step let anyone lock any named account (five wrong passwords, repeatable, and the first
admin's name was known). Instead each (login name as typed, source address) pair has its own growing delay: the
first `FREE_FAILURES` wrong passwords cost nothing, then each further one doubles the wait (1 s, 2 s, 4 s … up to
`MAX_DELAY`). A guesser on one address gets a few dozen tries a day per name; the account's owner, from their own
address, is not held up by someone else's guessing. The hard lock stays on the second factor, which only someone
who knows the password reaches (console/login.py).

Names that do not exist are throttled exactly like names that do, so the answers never tell which names exist.
The state is in the database so that every gateway worker applies the same delay.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.store.models_console import LoginThrottle

FREE_FAILURES = 3
FIRST_DELAY = timedelta(seconds=1)
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)  # a pair with no wrong password for this long starts from zero again


def delay_after(failures: int, first: timedelta = FIRST_DELAY) -> timedelta:
    """How long a source waits after its `failures`-th wrong password for one name (YCC_LOGIN_DELAY_SECONDS)."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(first * 2 ** min(failures - FREE_FAILURES, 20), MAX_DELAY)


def _key(name: str, source: str) -> tuple[str, str]:
    return name[:64], source[:64]


async def wait_left(session: AsyncSession, name: str, source: str, now: datetime) -> float:
    """Seconds this source must still wait before trying this name again (0: it may try now)."""
    key = _key(name, source)
    retry_at = await session.scalar(select(LoginThrottle.retry_at).where(
        LoginThrottle.name == key[0], LoginThrottle.source == key[1],
        LoginThrottle.last_failed_at > now - FORGET_AFTER))
    return max(0.0, (retry_at - now).total_seconds()) if retry_at else 0.0


async def failed(session: AsyncSession, name: str, source: str, now: datetime,
                 first: timedelta = FIRST_DELAY) -> timedelta:
    """Count a wrong password; returns the delay now imposed. One upsert, so concurrent failures all count."""
    key = _key(name, source)
    insert = sqlite_insert if session.bind.dialect.name == "sqlite" else pg_insert
    stale = LoginThrottle.last_failed_at <= now - FORGET_AFTER
    statement = insert(LoginThrottle).values(name=key[0], source=key[1], failures=1, last_failed_at=now,
                                             retry_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["name", "source"],
        set_={"failures": case((stale, 1), else_=LoginThrottle.failures + 1), "last_failed_at": now},
    ).returning(LoginThrottle.failures)
    failures = int((await session.execute(statement)).scalar_one())
    delay = delay_after(failures, first)
    await session.execute(update(LoginThrottle).where(LoginThrottle.name == key[0], LoginThrottle.source == key[1])
                          .values(retry_at=now + delay))
    await session.execute(delete(LoginThrottle).where(stale))  # keeps the table small under a spraying attack
    return delay


async def cleared(session: AsyncSession, name: str, source: str) -> None:
    """The right password from this source: its count for this name starts again."""
    key = _key(name, source)
    await session.execute(delete(LoginThrottle).where(LoginThrottle.name == key[0], LoginThrottle.source == key[1]))
