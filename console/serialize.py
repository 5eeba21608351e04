"""JSON shapes of the stable API (docs/console.md, console/openapi.py): conversation, message, escalation, record.

The console pages use exactly these shapes, so what the API promises is what counsellors see.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from console.routing import Counsellor, online_counsellors, suggest, topic_of
from handoff.domain import contacts, profile
from handoff.domain.conversations import risk_level
from handoff.store.models import Conversation, Escalation, Message, Record, User
from handoff.store.types import utcnow
from handoff.store.values import EscalationStatus
from handoff.timeutil import to_tokyo

PROFILE_KEYS = tuple(profile.FIELDS)  # handoff/domain/profile.yml
SENDER_LABELS = {"user": "利用者", "bot": "ボット", "agent": "相談員", "system": "自動応答"}


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in Asia/Tokyo (+09:00), as the API promises."""
    return to_tokyo(value).isoformat(timespec="seconds") if value else None


def user_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.id, "name": user.name, "display_name": user.display_name or user.name}


def counsellor_ref(c: Counsellor | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {"id": c.id, "name": c.name, "display_name": c.display_name, "qualifications": c.qualifications}


async def conversation_extras(session: AsyncSession, ids: Sequence[int]) -> tuple[set[int], dict[int, int]]:
    """Which conversations had an earlier consultation (returning user), and their open crisis case ids."""
    if not ids:
        return set(), {}
    returning = set((await session.scalars(
        select(Conversation.id).where(Conversation.id.in_(ids), contacts.returning(Conversation.contact_id))
    )).all())
    cases = dict((await session.execute(
        select(Escalation.conversation_id, Escalation.id)
        .where(Escalation.conversation_id.in_(ids), Escalation.status == EscalationStatus.OPEN)
    )).all())
    return returning, cases


def conversation_json(
    conversation: Conversation, *, returning: bool = False, escalation_id: int | None = None,
    suggested: Counsellor | None = None, now: datetime | None = None,
) -> dict[str, Any]:
    contact = conversation.contact
    profile = dict(contact.profile or {}) if contact.consent else {}
    waiting = conversation.waiting_since
    now = now or utcnow()
    return {
        "id": conversation.id,
        "status": conversation.status,
        "priority": conversation.priority,
        "crisis": bool(conversation.crisis),
        "risk": conversation.risk,
        "risk_reason": conversation.risk_reason,
        "risk_level": risk_level(conversation),
        "assignee": user_ref(conversation.assignee),
        "assignee_id": conversation.assignee_id,
        "line_user_id": contact.line_user_id,
        "contact_key": contact.key,
        "waiting_since": iso(waiting),
        "waiting_seconds": (
            int((now - waiting).total_seconds()) if waiting and conversation.status == "queued" else None),
        "queue_reason": conversation.queue_reason,
        "unread": conversation.unread,
        "channel": conversation.channel,  # where replies go now: line | web
        "last_message_at": iso(conversation.last_message_at),
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
        "returning": returning,
        "escalation_id": escalation_id,
        "topic": topic_of(profile, conversation.queue_reason),
        "suggested_assignee": counsellor_ref(suggested),
        "contact": {
            "key": contact.key,
            "consent": contact.consent,
            "eligibility": contact.eligibility,
            "following": contact.following,
            "profile": {k: profile.get(k) for k in PROFILE_KEYS},
        },
    }


async def conversations_json(
    session: AsyncSession, rows: Sequence[Conversation], idle_seconds: int, *, with_suggestion: bool = True
) -> list[dict[str, Any]]:
    returning, cases = await conversation_extras(session, [c.id for c in rows])
    online = await online_counsellors(session, idle_seconds) if with_suggestion and any(
        c.status == "queued" for c in rows) else []
    now = utcnow()
    items = []
    for c in rows:
        profile = dict(c.contact.profile or {}) if c.contact.consent else {}
        suggested = suggest(topic_of(profile, c.queue_reason), online) if c.status == "queued" else None
        items.append(conversation_json(c, returning=c.id in returning, escalation_id=cases.get(c.id),
                                       suggested=suggested, now=now))
    return items


def message_json(message: Message, agents: dict[int, User]) -> dict[str, Any]:
    agent = agents.get(message.agent_id) if message.agent_id else None
    return {
        "id": message.id,
        "direction": message.direction,
        "sender": message.sender,
        "sender_label": SENDER_LABELS.get(message.sender, message.sender),
        "agent": user_ref(agent),
        "kind": message.kind,
        "text": message.text,
        "internal": bool(message.internal),
        "delivery": message.delivery,
        "crisis": bool(message.crisis),
        "risk_level": message.risk_level,
        "risk_category": message.risk_category,
        "at": iso(message.event_at),
        "read_at": iso(message.read_at),
        "unsent": message.unsent_at is not None,
        "channel": message.channel,  # line | web (the secure chat, issue 16)
    }


def escalation_json(escalation: Escalation) -> dict[str, Any]:
    return {
        "id": escalation.id,
        "conversation_id": escalation.conversation_id,
        "opened_at": iso(escalation.opened_at),
        "source": escalation.source,
        "level": escalation.level,
        "category": escalation.category,
        "message_id": escalation.message_id,
        "in_hours": escalation.in_hours,
        "status": escalation.status,
        "checklist": escalation.checklist or {},
        "outcome": escalation.outcome,
        "closed_at": iso(escalation.closed_at),
        "closed_by": escalation.closed_by,
        "close_reason": escalation.close_reason,
    }


def record_json(record: Record) -> dict[str, Any]:
    return {
        "id": record.id,
        "conversation_id": record.conversation_id,
        "author_id": record.author_id,
        "created_at": iso(record.created_at),
        "topics": record.topics,
        "care_recipients": record.care_recipients,
        "referral": record.referral,
        "follow_up": record.follow_up,
        "summary": record.summary,
    }
