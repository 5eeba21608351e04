"""An in-memory SQLite session with every table, for the unit tests of the core rules.

Why not the migrated file the pipeline tests use: these tests pin a rule (a transition, a routing decision, a
capacity figure), not the schema's history, and should run in milliseconds without a server or a file. The tables
come from the models (`handoff.lifecycle.tables.model_tables` imports every models module), which the migrations
are checked against elsewhere (tests/handoff/test_lifecycle_tables.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from handoff.domain import conversations as conv
from handoff.domain.contacts import new_contact
from handoff.lifecycle.tables import model_tables
from handoff.store.models import Base, Conversation

IN_HOURS = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # Wednesday 14:00 in Tokyo
OFF_HOURS = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # Wednesday 22:00 in Tokyo


def _foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # as the gateway's own connections (handoff/store/db.py)
    cursor.close()


@pytest.fixture(name="session")
async def memory_session() -> AsyncIterator[AsyncSession]:
    """`session`: one session on a fresh in-memory database; nothing is committed, nothing outlives the test.
    A test module imports `memory_session` to have the fixture."""
    model_tables()
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    event.listen(engine.sync_engine, "connect", _foreign_keys)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        yield s
    await engine.dispose()


async def conversation_in(session: AsyncSession, status: str, user: str = "U" + "0" * 32) -> Conversation:
    """A stored contact's conversation put straight into `status`, as earlier turns would have left it."""
    contact = new_contact(user, IN_HOURS)
    conversation = Conversation(contact=contact, status=status, created_at=IN_HOURS, updated_at=IN_HOURS)
    if status in (conv.QUEUED, conv.OPEN):
        conversation.waiting_since = IN_HOURS
    session.add(conversation)
    await session.flush()
    return conversation
