"""Conversation states and the one transition table that governs them.

Every status change goes through `transition`, which rejects anything not in the table and records who moved
the conversation, when and why; Chatwoot's scattered status updates are the cautionary tale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload, raiseload

from handoff.domain.contacts import new_contact
from handoff.domain.safety import CONCERN, CRISIS, EMERGENCY_OTHER
from handoff.store.models import Contact, Conversation, StatusChange


class Status(StrEnum):
    """`conversations.status`."""

    BOT = "bot"  # Rasa answers
    QUEUED = "queued"  # waiting for a counsellor
    OPEN = "open"  # a counsellor is answering
    RESOLVED = "resolved"  # closed with a record; the user's next message goes to the bot
    BLOCKED = "blocked"  # the user unfollowed


BOT: Final = Status.BOT
QUEUED: Final = Status.QUEUED
OPEN: Final = Status.OPEN
RESOLVED: Final = Status.RESOLVED
BLOCKED: Final = Status.BLOCKED
STATUSES: Final = tuple(Status)

# (from, to): the only moves there are. Anything else is a bug or a race and is refused.
TRANSITIONS: Final[frozenset[tuple[str, str]]] = frozenset(
    {
        (BOT, QUEUED),  # user asked for a human, profile done, crisis, or Rasa unavailable
        (BOT, BLOCKED),  # unfollow
        (QUEUED, OPEN),  # a counsellor claims or is assigned
        (QUEUED, RESOLVED),  # a supervisor closes it with a record (e.g. nothing to answer)
        (QUEUED, BLOCKED),
        (OPEN, QUEUED),  # released back to the queue
        (OPEN, RESOLVED),  # record written
        (OPEN, BLOCKED),
        (RESOLVED, BOT),  # the user writes again
        (RESOLVED, QUEUED),  # the user writes again in crisis
        (RESOLVED, BLOCKED),
        (BLOCKED, BOT),  # friend added again
        (QUEUED, BOT),  # Rasa answers again: only for ONLY_FOR's reason
    }
)
# Moves allowed for one reason only. Rasa answering again gives back to the bot what was queued only because it
# did not (handoff.pipeline.bot_step.give_back); a counsellor never sends a waiting user back to the bot.
ONLY_FOR: Final[dict[tuple[str, str], str]] = {(QUEUED, BOT): "bot_available"}

# The one queue rule (issue 13): risk level first — crisis, then someone else in danger, then concern — then
# waiting time; the level is stored as a priority so the queue can be ordered by columns, and risk_level reads it
# back.
RISK_PRIORITY: Final[dict[str, int]] = {CRISIS: 100, EMERGENCY_OTHER: 90, CONCERN: 50}
CRISIS_PRIORITY: Final = RISK_PRIORITY[CRISIS]
# Among waiting conversations of one priority that started waiting at the same instant, the older conversation
# (lower id) goes first, so no two waiting users ever share a place. Rows that are not waiting have no tie-break
# here (NULL), and a caller may order them after the queue as it likes.
_WAITING_ID = case((Conversation.waiting_since.is_not(None), Conversation.id))
# The queue's order: priority (risk) descending, then waiting since ascending (rows not waiting last), then id.
# The console lists conversations in this order and queue_position counts the rows ahead in exactly this order.
QUEUE_ORDER: Final = (
    Conversation.priority.desc(),
    Conversation.waiting_since.is_(None),
    Conversation.waiting_since,
    _WAITING_ID,
)


def ahead_in_queue(conversation: Conversation) -> ColumnElement[bool]:
    """Rows that come before `conversation` in QUEUE_ORDER (for a waiting one: the same three keys, compared in
    the same order, so the position a user is told is the row the console shows)."""
    priority, since = conversation.priority, conversation.waiting_since
    return (Conversation.priority > priority) | (
        (Conversation.priority == priority)
        & (
            (Conversation.waiting_since < since)
            | ((Conversation.waiting_since == since) & (Conversation.id < conversation.id))
        )
    )


class InvalidTransition(ValueError):
    def __init__(self, conversation_id: int, current: str, wanted: str) -> None:
        super().__init__(f"conversation {conversation_id}: {current} → {wanted} is not allowed")
        self.current = current
        self.wanted = wanted


@dataclass(frozen=True)
class Change:
    from_status: str
    to_status: str


async def transition(
    session: AsyncSession,
    conversation: Conversation,
    to: str,
    *,
    actor: str,
    reason: str,
    at: datetime,
) -> Change:
    """Move `conversation` to `to` or raise InvalidTransition; the caller's unit of work commits it."""
    current = conversation.status
    if (current, to) not in TRANSITIONS or ONLY_FOR.get((current, to), reason) != reason:
        raise InvalidTransition(conversation.id, current, to)
    conversation.status = to
    conversation.updated_at = at
    if to == QUEUED:
        conversation.waiting_since = conversation.waiting_since or at
        conversation.queue_reason = reason
        conversation.assignee_id = None
    elif to == OPEN:
        pass  # waiting_since stays: it measures how long the user waited before a human answered
    else:
        conversation.waiting_since = None
        conversation.queue_reason = None
        if to in (RESOLVED, BLOCKED, BOT):
            conversation.assignee_id = None
        if to in (RESOLVED, BOT):
            conversation.crisis = False
            conversation.priority = 0
            conversation.risk = None
            conversation.risk_reason = None
    session.add(
        StatusChange(
            conversation_id=conversation.id, from_status=current, to_status=to, actor=actor, reason=reason, at=at
        )
    )
    await session.flush()
    return Change(current, to)


def raise_risk(conversation: Conversation, level: str, category: str | None) -> bool:
    """Mark the conversation at `level` (crisis, emergency_other or concern) in any state; True if that raised it.

    A level never lowers a higher one already there (a later concern leaves a crisis alone). emergency_other is a
    crisis of the conversation (`risk` "crisis") ranked just below the writer's own danger. This is the only place
    that sets `risk`, so `crisis` is kept equal to `risk == "crisis"` here.
    """
    priority = RISK_PRIORITY[level]
    if conversation.risk is not None and conversation.priority >= priority:
        return False
    conversation.priority = max(conversation.priority or 0, priority)
    conversation.risk = CONCERN if level == CONCERN else CRISIS
    conversation.risk_reason = category
    conversation.crisis = conversation.risk == CRISIS
    return True


def raise_to_crisis(conversation: Conversation, category: str | None = "counsellor") -> bool:
    """Crisis outranks everything in the queue, in any state."""
    return raise_risk(conversation, CRISIS, category)


def risk_level(conversation: Conversation) -> str | None:
    """The level the conversation is at (crisis, emergency_other, concern or None), read back from its priority."""
    if conversation.risk is None:
        return None
    return next((level for level, p in RISK_PRIORITY.items() if conversation.priority >= p), CONCERN)


async def conversation_for(session: AsyncSession, contact: Contact, at: datetime) -> Conversation:
    """The contact's one conversation, created on first contact."""
    conversation = await session.scalar(select(Conversation).where(Conversation.contact_id == contact.id))
    if conversation is None:
        conversation = Conversation(contact_id=contact.id, status=BOT, created_at=at, updated_at=at)
        conversation.contact = contact
        session.add(conversation)
        await session.flush()
    return conversation


# Selected beside its contact, a conversation needs neither of its joined eager loads: the contact is already in
# the row (and so in the identity map), and routing never reads the assignee (a users row, password hash included).
BESIDE_CONTACT = (lazyload(Conversation.contact), raiseload(Conversation.assignee))


async def contact_and_conversation(
    session: AsyncSession, line_user_id: str, at: datetime
) -> tuple[Contact, Conversation]:
    """Both rows a turn needs in one query (every event asks for them); created on first contact."""
    found = (
        await session.execute(
            select(Contact, Conversation)
            .outerjoin(Conversation, Conversation.contact_id == Contact.id)
            .where(Contact.line_user_id == line_user_id)
            .options(*BESIDE_CONTACT)
        )
    ).first()
    if found is None:
        return await first_contact(session, line_user_id, at)
    contact, conversation = found
    return contact, conversation or await conversation_for(session, contact, at)


async def first_contact(session: AsyncSession, line_user_id: str, at: datetime) -> tuple[Contact, Conversation]:
    """Both rows for a user heard from for the first time, in one flush, for a caller that has just looked and
    found no contact in this transaction. The times are those of the turn that creates them, so storing the turn
    changes nothing and costs no UPDATE."""
    contact = new_contact(line_user_id, at)
    conversation = Conversation(contact=contact, status=BOT, created_at=at, updated_at=at, last_message_at=at)
    session.add(conversation)
    await session.flush()
    return contact, conversation


async def queue_position(session: AsyncSession, conversation: Conversation) -> int:
    """1-based place in the queue, in QUEUE_ORDER (the order of the console's queue)."""
    if conversation.status != QUEUED or conversation.waiting_since is None:
        return 0
    ahead = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.status == QUEUED, Conversation.id != conversation.id, ahead_in_queue(conversation))
    )
    return int(ahead or 0) + 1

