"""The async database handle the app opens in a listener and tests open per storage backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

_holder: ContextVar[object | None] = ContextVar("sqlite_turn", default=None)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the webhook insert while the worker reads; busy_timeout waits instead of failing."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    def __init__(self, url: str, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo, "pool_size": pool_size, "max_overflow": pool_size}
        if url.startswith("postgresql"):
            kwargs.update(pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._lock = asyncio.Lock()
        self.publish: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """On SQLite, one unit of work at a time in this process.

        SQLite has one writer; when two connections collide, its busy handler sleeps in steps of up to 100 ms,
        which showed up as 0.5 s webhook acknowledgements under load. Taking turns in asyncio costs microseconds.
        Re-entrant per task, so a unit of work opened inside another cannot deadlock.
        """
        if not self.is_sqlite or _holder.get() is self:
            yield
            return
        async with self._lock:
            token = _holder.set(self)
            try:
                yield
            finally:
                _holder.reset(token)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits on success, rolls back on any error, then tells the consoles.

        Live events queued with `notify` go out only after the commit, so a console never fetches a change
        that was rolled back or is not visible yet.
        """
        async with self._turn(), self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            events = session.info.pop("events", [])
            if self.publish is not None:
                for item in events:
                    await self.publish(item)

    async def ping(self) -> bool:
        from sqlalchemy import text

        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.engine.dispose()


def notify(session: AsyncSession, event: dict[str, Any]) -> None:
    """Queue a live console event to be published when this unit of work commits."""
    session.info.setdefault("events", []).append(event)
