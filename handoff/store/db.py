"""The async database handle the app opens in a listener and tests open per storage backend."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from handoff.store.sqlite_inline import connector

T = TypeVar("T")
LOCK_PATIENCE = 10.0  # seconds another process may hold SQLite's write lock before a unit of work fails
_holder: ContextVar[object | None] = ContextVar("sqlite_turn", default=None)


class _Turns:
    """A lock with two classes of waiter: urgent ones (webhook ingestion) go before all others."""

    def __init__(self) -> None:
        self._cond = asyncio.Condition()
        self._busy = False
        self._urgent = 0

    async def acquire(self, urgent: bool) -> None:
        async with self._cond:
            self._urgent += urgent
            try:
                await self._cond.wait_for(lambda: not self._busy and (urgent or self._urgent == 0))
            finally:
                self._urgent -= urgent
            self._busy = True

    async def release(self) -> None:
        async with self._cond:
            self._busy = False
            self._cond.notify_all()


def new_engine(url: str, *, echo: bool = False, **kwargs: Any) -> AsyncEngine:
    """Every engine of the gateway (the app's, migrations, export, purge, commands) is made here, so none can
    write what users wrote into a log: statement parameters are left out of error messages (`hide_parameters`;
    an IntegrityError or DataError would otherwise carry the message text into a traceback), and SQLAlchemy's
    statement and row logging stays off even when the root logger is at DEBUG, unless `echo` asks for it."""
    if not echo:
        logging.getLogger("sqlalchemy.engine.Engine").setLevel(logging.WARNING)
    return create_async_engine(url, echo=echo, hide_parameters=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets the webhook insert while the worker reads. busy_timeout=0: a lock held by another process is
    waited for by the driver with asyncio.sleep (sqlite_inline), never in SQLite's busy handler, which would block
    the loop (and sleeps up to 100 ms per try)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    def __init__(
        self,
        url: str,
        echo: bool = False,
        pool_size: int = 10,
        lock_patience: float = LOCK_PATIENCE,
        pre_ping: bool = True,
    ) -> None:
        """`pre_ping=False` is for the worker process: on asyncpg SQLAlchemy's pre-ping is three round trips per
        unit of work (BEGIN, a ping, ROLLBACK), a third of a bot turn's; a connection the server dropped then fails
        its first unit of work instead, which the worker retries (handoff/pipeline/inbox.py does not count it)."""
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo, "pool_size": pool_size, "max_overflow": pool_size}
        if self.is_sqlite:
            # sqlite3 in the loop's own thread (see sqlite_inline). Ingestion has its own engine: it never queues
            # behind a worker connection checked out of the pool.
            kwargs["async_creator"] = connector(make_url(url).database or ":memory:", lock_patience)
            self.engine: AsyncEngine = new_engine(url, **kwargs)
            self.ingest_engine = new_engine(url, **kwargs)
            for engine in (self.engine, self.ingest_engine):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self.engine = new_engine(url, pool_pre_ping=pre_ping, **kwargs)
            # Webhook ingestion has its own pool, so a burst of worker transactions never holds LINE's 200 back.
            # Ingestion is one INSERT … ON CONFLICT DO NOTHING, whole by itself and safe to repeat, so it runs in
            # autocommit (BEGIN and COMMIT would be two round trips for nothing) and without a pre-ping: after a
            # dropped connection it is simply tried again (`store_events`).
            self.ingest_engine = new_engine(
                url,
                pool_pre_ping=False,
                isolation_level="AUTOCOMMIT",
                **{**kwargs, "pool_size": 16, "max_overflow": 16},
            )
        self._ingesting = 0
        self._calm = asyncio.Event()
        self._calm.set()
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        self._turns = _Turns()
        self.publish: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @asynccontextmanager
    async def _turn(self, urgent: bool = False) -> AsyncIterator[None]:
        """On SQLite, one unit of work at a time in this process.

        SQLite has one writer; when two connections collide, its busy handler sleeps in steps of up to 100 ms,
        which showed up as 0.5 s webhook acknowledgements under load. Taking turns in asyncio costs microseconds.
        Re-entrant per task, so a unit of work opened inside another cannot deadlock.
        """
        if not self.is_sqlite or _holder.get() is self:
            yield
            return
        await self._turns.acquire(urgent)
        token = _holder.set(self)
        try:
            yield
        finally:
            _holder.reset(token)
            await self._turns.release()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits on success, rolls back on any error, then tells the consoles.

        Live events queued with `notify` go out only after the commit, so a console never fetches a change
        that was rolled back or is not visible yet.
        """
        await self._after_ingestion()
        async with self._turn(), self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            await self.announce(session.info.pop("events", []))

    async def _after_ingestion(self) -> None:
        """Let webhook requests under way finish first (bounded, so workers still progress in a long burst)."""
        if not self._calm.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._calm.wait(), 0.02)

    async def announce(self, events: list[dict[str, Any]]) -> None:
        """Publish live events of work that has committed (`session` does it after its commit)."""
        if self.publish is not None:
            for item in events:
                await self.publish(item)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A Core connection for the hot path (webhook ingestion, one statement): no ORM unit of work, and on
        SQLite it goes before any queued worker transaction, so LINE's 200 waits for at most the one under way."""
        self._ingesting += 1
        self._calm.clear()
        try:
            async with self._turn(urgent=True), self.ingest_engine.begin() as conn:
                yield conn
        finally:
            self._ingesting -= 1
            if not self._ingesting:
                self._calm.set()

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
        if self.ingest_engine is not self.engine:
            await self.ingest_engine.dispose()


def disconnected(exc: BaseException) -> bool:
    """The database dropped the connection (a restart): the pool has discarded it, and trying again will work."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


async def retry_on_disconnect(work: Callable[[], Awaitable[T]]) -> T:
    """Once more after the database dropped the connection, for work that is safe to repeat."""
    try:
        return await work()
    except Exception as exc:
        if not disconnected(exc):
            raise
        return await work()


def notify(session: AsyncSession, event: dict[str, Any]) -> None:
    """Queue a live event (made by handoff.events) to be published when this unit of work commits."""
    session.info.setdefault("events", []).append(event)
