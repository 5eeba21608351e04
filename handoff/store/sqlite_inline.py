"""SQLite for the async engine without a thread hop per call: sqlite3 runs in the event loop's own thread.

Why: aiosqlite sends every cursor operation (execute, fetch, close, commit) to its own thread and back, about
fifty microseconds each through the loop's self-pipe. A bot turn made ~140 of them, ~7 ms of the gateway's ~11 ms
(profiled in-process, bench/bench_pipeline.py). A statement on a small SQLite file takes microseconds, so running it
in place is cheaper than handing it over, and a unit of work that only touches the database no longer yields to the
loop between statements.

What it must never do is block the loop on a lock. In this process the units of work already take turns
(`Database._turn`), so a lock can only be held by another process (the worker in `YCC_WORKER=process`, a `ycc`
command). Connections therefore run with `busy_timeout=0`, and a statement refused with "database is locked" is
retried after an `asyncio.sleep`, for as long as SQLite's own busy handler would have waited. That is only safe for
a statement that opens the transaction (SQLAlchemy's pysqlite mode begins one before the first write and runs reads
in autocommit, so nothing was read under the transaction yet); inside a transaction the error is raised as before.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

LOCKED = "database is locked"
RETRY_SECONDS = 0.002


class Cursor:
    """The subset of aiosqlite's cursor that SQLAlchemy's adapter uses, answered at once."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._cursor = connection.raw.cursor()

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        await self._connection.run(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Any]) -> Cursor:
        rows = list(seq_of_parameters)  # a generator could not be replayed after a retry
        await self._connection.run(self._cursor.executemany, sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class Connection:
    """The subset of aiosqlite's connection that SQLAlchemy's adapter uses."""

    def __init__(self, raw: sqlite3.Connection, patience: float) -> None:
        self.raw = raw
        self.patience = patience

    @property
    def _connection(self) -> sqlite3.Connection | None:
        """SQLAlchemy's adapter checks this before commit and rollback (aiosqlite: None once closed)."""
        return self.raw

    @property
    def isolation_level(self) -> str | None:
        return self.raw.isolation_level

    async def run(self, call: Callable[..., Any], *args: Any) -> Any:
        """Run `call` now; while another process holds the write lock, wait for it without blocking the loop."""
        deadline: float | None = None
        while True:
            opening = not self.raw.in_transaction
            try:
                return call(*args)
            except sqlite3.OperationalError as exc:
                if LOCKED not in str(exc) or not opening:
                    raise
                if self.raw.in_transaction:
                    self.raw.rollback()  # the BEGIN went through and the write did not: start clean
                now = time.monotonic()
                deadline = deadline or now + self.patience
                if now > deadline:
                    raise
            await asyncio.sleep(RETRY_SECONDS)

    def cursor(self) -> Cursor:
        return Cursor(self)

    async def commit(self) -> None:
        self.raw.commit()

    async def rollback(self) -> None:
        self.raw.rollback()

    async def close(self) -> None:
        self.raw.close()

    def stop(self) -> None:
        self.raw.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.raw.create_function(*args, **kwargs)


def connector(path: str, patience: float) -> Callable[[], Any]:
    """The engine's `async_creator`: a coroutine function opening one connection to `path`."""

    async def connect() -> Connection:
        raw = sqlite3.connect(path, check_same_thread=False)
        return Connection(raw, patience)

    return connect
