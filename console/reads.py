"""The console's read queries, one function each.

Why a module of its own: handlers stay thin (parse, call, render) and every statement the console reads a table with
has one home, beside the writes in console/actions.py. Queue order is the rule's (`conv.QUEUE_ORDER`), never
re-spelt here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from console.roles import STAFF
from handoff.domain import conversations as conv
from handoff.store.models import Conversation, Escalation, Message, Record, User
from handoff.store.values import EscalationStatus


async def conversation_page(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], limit: int, offset: int
) -> tuple[int, Sequence[Conversation]]:
    """Conversations matching `where` in queue order (then the latest first), and how many match in all."""
    total = int(await session.scalar(select(func.count()).select_from(Conversation).where(*where)) or 0)
    rows = (await session.scalars(
        select(Conversation).where(*where)
        .order_by(*conv.QUEUE_ORDER, Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(limit).offset(offset)
    )).unique().all()
    return total, rows


async def messages_of(session: AsyncSession, conversation_id: int) -> Sequence[Message]:
    """A conversation's turns in the order they happened (the id breaks ties within one moment)."""
    query = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.event_at, Message.id)
    return (await session.scalars(query)).all()


async def users_by_id(session: AsyncSession, ids: Iterable[int]) -> dict[int, User]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {u.id: u for u in (await session.scalars(select(User).where(User.id.in_(wanted)))).all()}


async def records_of(session: AsyncSession, conversation_id: int) -> Sequence[Record]:
    query = select(Record).where(Record.conversation_id == conversation_id).order_by(Record.id)
    return (await session.scalars(query)).all()


async def active_staff(session: AsyncSession) -> Sequence[User]:
    """Counsellors and supervisors who may be assigned a chat (not disabled)."""
    query = select(User).where(User.role.in_(STAFF), User.disabled.is_(False)).order_by(User.role, User.name)
    return (await session.scalars(query)).all()


async def all_users(session: AsyncSession) -> Sequence[User]:
    """Every account for the admin page: active ones first, by role and name."""
    return (await session.scalars(select(User).order_by(User.disabled, User.role, User.name))).all()


async def record_page(session: AsyncSession, limit: int, offset: int) -> tuple[int, list[tuple[Record, str | None]]]:
    """Records, newest first, with their author's login name; and how many there are."""
    total = int(await session.scalar(select(func.count()).select_from(Record)) or 0)
    rows = (await session.execute(
        select(Record, User.name).outerjoin(User, User.id == Record.author_id)
        .order_by(Record.created_at.desc()).limit(limit).offset(offset)
    )).all()
    return total, [(record, name) for record, name in rows]


async def records_between(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> list[tuple[Record, Any]]:
    """Records created in [since, until) with their author's login name, oldest first (for exports)."""
    query = select(Record, User.name).outerjoin(User, User.id == Record.author_id).order_by(Record.id)
    if since is not None:
        query = query.where(Record.created_at >= since)
    if until is not None:
        query = query.where(Record.created_at < until)
    return [(record, author) for record, author in (await session.execute(query)).all()]


async def escalations(session: AsyncSession, where: Sequence[ColumnElement[bool]], limit: int) -> Sequence[Escalation]:
    """Cases matching `where` (the caller's status and holder filters), the newest first."""
    query = select(Escalation).join(Conversation, Conversation.id == Escalation.conversation_id).where(*where)
    return (await session.scalars(query.order_by(Escalation.opened_at.desc()).limit(limit))).all()


async def open_case(session: AsyncSession, conversation_id: int) -> Escalation | None:
    """The conversation's open crisis case, if one is open (there is at most one)."""
    return await session.scalar(select(Escalation).where(
        Escalation.conversation_id == conversation_id, Escalation.status == EscalationStatus.OPEN))


async def latest_record(session: AsyncSession, conversation_id: int) -> Record | None:
    """The newest record written for a conversation."""
    return await session.scalar(select(Record).where(Record.conversation_id == conversation_id)
                                .order_by(Record.id.desc()).limit(1))


async def user_named(session: AsyncSession, name: str) -> User | None:
    """The console user with this login name."""
    return await session.scalar(select(User).where(User.name == name)) if name else None


async def wrote_record(session: AsyncSession, conversation_id: int, user_id: int) -> bool:
    """Whether this user wrote a consultation record for the conversation (such a counsellor may follow it up)."""
    return await session.scalar(select(Record.id).where(
        Record.conversation_id == conversation_id, Record.author_id == user_id).limit(1)) is not None
