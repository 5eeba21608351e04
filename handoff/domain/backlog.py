"""How much work is waiting, read from the database when /metrics is scraped (handoff/http/metrics.py).

Counted from the rows rather than kept as counters in memory: the queue, the inbox and the outbox are shared by
every gateway process, and a figure read from the tables is right whichever process is asked and after any restart.
Only counts and ages leave here, never a row's content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain import conversations as conv
from handoff.store.models import Conversation, InboxEvent, Outbox
from handoff.store.values import InboxStatus, OutboxStatus

NO_RISK = "none"  # a queued conversation without a flag (asked for a human, profile done, Rasa unavailable)
# Every risk level the queue ranks by, so a level with nobody waiting is reported as 0 rather than missing.
LEVELS = (*conv.RISK_PRIORITY, NO_RISK)
INBOX_BACKLOG = (InboxStatus.PENDING, InboxStatus.BOT)  # stored and not handled yet; handled, bot still to ask


@dataclass(frozen=True)
class Backlog:
    queued: dict[str, int] = field(default_factory=dict)  # risk level → conversations waiting for a counsellor
    oldest_wait: dict[str, float] = field(default_factory=dict)  # risk level → seconds the longest one waited
    inbox: dict[str, int] = field(default_factory=dict)  # inbox status → events
    outbox: int = 0  # messages and leaves still to be sent


def _level(priority: int) -> str:
    """The queue's priority column read back as its level (the highest level at or below it)."""
    for level, value in sorted(conv.RISK_PRIORITY.items(), key=lambda item: -item[1]):
        if priority >= value:
            return level
    return NO_RISK


async def backlog(session: AsyncSession, now: datetime) -> Backlog:
    """Four grouped counts over indexed columns (ix_conversations_queue, ix_inbox_pending, ix_outbox_pending)."""
    queued = dict.fromkeys(LEVELS, 0)
    oldest = dict.fromkeys(LEVELS, 0.0)
    waiting = await session.execute(
        select(Conversation.priority, func.count(), func.min(Conversation.waiting_since))
        .where(Conversation.status == conv.QUEUED)
        .group_by(Conversation.priority)
    )
    for priority, count, since in waiting:
        level = _level(int(priority or 0))
        queued[level] += int(count)
        if since is not None:
            oldest[level] = max(oldest[level], (now - since).total_seconds(), 0.0)
    inbox = dict.fromkeys((str(s) for s in INBOX_BACKLOG), 0)
    pending = await session.execute(
        select(InboxEvent.status, func.count()).where(InboxEvent.status.in_(INBOX_BACKLOG)).group_by(InboxEvent.status)
    )
    for status, count in pending:
        inbox[str(status)] = int(count)
    outbox = await session.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == OutboxStatus.PENDING))
    return Backlog(queued, oldest, inbox, int(outbox or 0))
