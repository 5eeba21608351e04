"""How many more conversations can be answered now (R5): the one capacity rule, for what a waiting user is told
and for what a counsellor may claim.

A line (回線, the contract's unit, at least one) is one conversation a counsellor is answering (status `open`).
Two limits hold at once: the service answers at most `YCC_LINES` conversations at a time (what the operator
staffs), and a counsellor holds at most their own `max_chats`. So

    free lines = min(YCC_LINES − open conversations,
                     Σ over counsellors on duty of (max_chats − their open chats, never below 0))

where "on duty" is signed in to the console now (a live session past the second factor). With nobody signed in
the second term says nothing yet (the shift has not logged in), and only `YCC_LINES` counts: the user is queued
and told their place, not that everyone is busy with someone else. No free line → the user hears `all_busy`.

A counsellor may claim while they are below their own `max_chats`. `YCC_LINES` does not stop a claim: it is the
number of conversations the service promises to answer at once, and a counsellor who takes one more answers a
waiting user sooner than promised; until the open conversations fall below it again, new users hear `all_busy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain.conversations import OPEN
from handoff.store.models import ConsoleSession, Conversation, User
from handoff.store.types import utcnow
from handoff.store.values import Role


def has_room(open_chats: int, max_chats: int) -> bool:
    """May a counsellor holding `open_chats` conversations take one more?"""
    return open_chats < max_chats


def free_lines(lines: int, open_chats: dict[int, int], on_duty: Sequence[tuple[User, int]]) -> int:
    """The rule of the module docstring: how many more conversations can be answered now (0 or less: none)."""
    by_lines = lines - sum(open_chats.values())
    if not on_duty:
        return by_lines
    return min(by_lines, sum(max(0, user.max_chats - held) for user, held in on_duty))


async def open_chats(session: AsyncSession) -> dict[int, int]:
    """Open conversations per assignee (user id → count); users holding none are absent."""
    rows = await session.execute(
        select(Conversation.assignee_id, func.count())
        .where(Conversation.status == OPEN, Conversation.assignee_id.is_not(None))
        .group_by(Conversation.assignee_id)
    )
    return {int(user_id): int(count) for user_id, count in rows.all()}


async def open_chats_of(session: AsyncSession, user_id: int) -> int:
    """Open conversations one person holds (the claim check)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.status == OPEN, Conversation.assignee_id == user_id)
        )
        or 0
    )


async def on_duty(
    session: AsyncSession, idle_seconds: int, held: dict[int, int], now: datetime | None = None
) -> list[tuple[User, int]]:
    """Counsellors signed in now (a session used within `idle_seconds`), by id, with the open chats each holds."""
    since = (now or utcnow()) - timedelta(seconds=idle_seconds)
    live = select(ConsoleSession.user_id).where(
        ConsoleSession.revoked.is_(False),
        ConsoleSession.second_factor_done.is_(True),
        ConsoleSession.last_seen_at >= since,
    )
    users = (
        await session.scalars(
            select(User)
            .where(User.role == Role.COUNSELLOR, User.disabled.is_(False), User.id.in_(live))
            .order_by(User.id)
        )
    ).all()
    return [(user, held.get(user.id, 0)) for user in users]


@dataclass(frozen=True)
class Lines:
    """The settings the rule reads: YCC_LINES and how long a console session counts as signed in."""

    lines: int
    idle_seconds: int

    async def all_busy(self, session: AsyncSession) -> bool:
        """No free line now: what R5 asks the user to be told."""
        held = await open_chats(session)
        return free_lines(self.lines, held, await on_duty(session, self.idle_seconds, held)) <= 0
