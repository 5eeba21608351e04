"""Alembic environment: runs migrations on the async engine the gateway itself uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

# Console and work log tables join the metadata autogenerate compares.
import handoff.store.models_broadcasts
import handoff.store.models_console
import handoff.store.models_contact
import handoff.store.models_duty
import handoff.store.models_insight
import handoff.store.models_referral
import handoff.store.models_securechat
import handoff.store.models_survey
import handoff.store.models_training
import handoff.store.models_worklog  # noqa: F401
from handoff.store.db import new_engine
from handoff.store.models import Base

config = context.config
MIGRATION_LOCK = 7_301_001  # any constant of ours; pg_advisory_xact_lock is released at commit
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several processes may start at once (two web processes and the worker of `make run-prod`): the first
            # migrates, the others wait here and then find the schema at head.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = new_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "the database URL is set by handoff.store.migrate"
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async(url))


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
