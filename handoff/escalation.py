"""Crisis escalation (R13): whatever the state, the user gets emergency numbers at once and staff are alerted.

Two paths lead here: the gateway's lexicon screen (before anything else) and the bot's crisis intent (through the
internal API). Both end in the same function, so the reply, queue priority, alert and case record never differ.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import conversations as conv
from handoff.alerts import raise_alert
from handoff.content import Content
from handoff.hours import HoursPolicy
from handoff.line.messages import text_message
from handoff.outbox import enqueue
from handoff.store.db import notify
from handoff.store.models import Contact, Conversation, Escalation

log = logging.getLogger(__name__)


async def escalate(
    session: AsyncSession,
    *,
    conversation: Conversation,
    contact: Contact,
    content: Content,
    hours: HoursPolicy,
    source: str,
    category: str | None,
    at: datetime,
    reply_token: str | None = None,
) -> Escalation:
    in_hours = hours.decide(at).open
    existing = await session.scalar(
        select(Escalation).where(Escalation.conversation_id == conversation.id, Escalation.status == "open")
    )
    conv.raise_to_crisis(conversation)
    if conversation.status in (conv.BOT, conv.RESOLVED):
        await conv.transition(session, conversation, conv.QUEUED, actor="system", reason="crisis", at=at)
    # A counsellor already with the user answers in person; an automatic text would cut across them.
    if conversation.status != conv.OPEN or existing is None:
        text = content.reply("crisis", hotlines=content.hotlines_text(only_24h=True))
        await enqueue(
            session,
            recipient=contact.line_user_id,
            messages=[text_message(text)],
            conversation_id=conversation.id,
            at=at,
            sender="system",
            reply_token=reply_token,
        )
    if existing is not None:
        notify(session, {"type": "crisis", "conversation_id": conversation.id, "escalation_id": existing.id})
        return existing
    escalation = Escalation(
        conversation_id=conversation.id,
        opened_at=at,
        source=source,
        category=category,
        in_hours=in_hours,
        checklist={},
    )
    session.add(escalation)
    await session.flush()
    await raise_alert(session, "crisis", conversation_id=conversation.id, at=at, in_hours=in_hours)
    notify(session, {"type": "crisis", "conversation_id": conversation.id, "escalation_id": escalation.id})
    log.warning("crisis escalation %s opened for conversation %s (source=%s)", escalation.id, conversation.id, source)
    return escalation
