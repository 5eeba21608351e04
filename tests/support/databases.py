"""Storage backends for tests: a SQLite file, or a fresh PostgreSQL database on 127.0.0.1:5432 that is dropped
afterwards. Queries from tests use a plain synchronous engine so assertions read like SQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield a database URL for `kind` ('sqlite' or 'postgres')."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'ycc.sqlite3'}"
        return
    name = "ycc_t_" + secrets.token_hex(6)
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", poolclass=NullPool)  # survives a server restart
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sync_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def execute(url: str, sql: str, **params: Any) -> None:
    """Run one statement and commit it, as another program writing to the database would."""
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def rows(url: str, sql: str, **params: Any) -> list[dict[str, Any]]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()
