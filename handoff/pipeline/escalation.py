"""What a flag does (R13, issue 13): crisis, someone else in danger, or a concern a counsellor must read.

Two paths lead here: the gateway's safety screen (before anything else, in every state) and the bot's crisis
intent (through the internal API, which gives only `concern`). Both end in `escalate`, so the reply, queue
priority, alert and case record never differ between them.

- crisis: 110/119 and the 24-hour lines at once (off hours also when a counsellor will read it), top of the
  queue, a case opened, a "crisis" alert.
- emergency_other: at once a short calm 119 reply (never 110: the writer is not the one in danger), then the
  same crisis handling with an "emergency_other" alert, ranked just below the writer's own danger.
- concern: no crisis message. The conversation goes to the counsellors' queue below every crisis with a banner
  and a "concern" alert; the user hears the ordinary hand-off (off hours: the off-hours reply with the 24-hour
  lines). Why queue it rather than let the bot carry on: docs/decisions/0003-concern-level.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import events
from handoff.domain import conversations as conv
from handoff.domain.content import Content
from handoff.domain.handoff import closed_text
from handoff.domain.hours import HoursPolicy, format_next_open
from handoff.domain.outgoing import enqueue, raise_alert
from handoff.domain.safety import CONCERN, EMERGENCY_OTHER
from handoff.line.messages import text_message
from handoff.store.db import notify
from handoff.store.models import Contact, Conversation, Escalation, Message
from handoff.store.values import Direction, EscalationStatus, Sender
from handoff.timeutil import to_tokyo

log = logging.getLogger(__name__)
NLU_CRISIS_INTENT = "nlu_crisis_intent"  # category of a concern raised by the bot's crisis intent alone
RAISED = Counter("ycc_risk_raised", "Crises and concerns raised (an alert went out), by level", ["level"])


def _count_when_committed(session: AsyncSession, level: str) -> None:
    """Counted with the alert's commit: a turn that rolls back and is tried again raises it once, not twice."""
    event.listen(session.sync_session, "after_commit", lambda _: RAISED.labels(level).inc(), once=True)


@dataclass(frozen=True)
class Escalated:
    """What a flag did. `text` is what the user is told (None: nothing, a counsellor is with them or will be);
    `done` is False when the message must still be routed as usual (a concern in a conversation a human holds)."""

    level: str
    text: str | None
    escalation: Escalation | None = None
    done: bool = True


async def escalate(
    session: AsyncSession,
    *,
    conversation: Conversation,
    contact: Contact,
    content: Content,
    hours: HoursPolicy,
    source: str,
    level: str,
    category: str | None,
    at: datetime,
    reply_token: str | None = None,
    message: Message | None = None,
    deliver: bool = True,
    reply_channel: str | None = None,
) -> Escalated:
    """Act on one flag in any state. With `deliver`, the reply is queued in the outbox (by `reply_token` when
    given); without, the caller sends `text` itself (the bot utters it). `reply_channel`: where the flagged
    message was written, when not the conversation's channel (a LINE message in guideline mode gets its crisis
    reply on LINE: hotlines are no consultation content)."""
    if level not in conv.RISK_PRIORITY:
        raise ValueError(f"unknown risk level {level!r}")
    if message is not None:
        message.risk_level = level
        message.risk_category = category
        message.crisis = level != CONCERN
    in_hours = hours.decide(at).open
    held = conversation.status in (conv.QUEUED, conv.OPEN)
    was_open = conversation.status == conv.OPEN
    await _queue(session, conversation, level, at)
    raised = conv.raise_risk(conversation, level, category)
    if level == CONCERN:
        outcome = await _concern(session, conversation, content, hours, at, raised=raised, held=held)
    else:
        outcome = await _crisis(
            session, conversation, content, hours, source, level, category, at, in_hours, was_open, message
        )
    if outcome.text is not None and deliver:
        await enqueue(
            session,
            recipient=contact.line_user_id,
            messages=[text_message(outcome.text)],
            conversation_id=conversation.id,
            at=at,
            sender=Sender.SYSTEM,
            reply_token=reply_token,
            channel=reply_channel or conversation.channel,
        )
    return outcome


async def _queue(session: AsyncSession, conversation: Conversation, level: str, at: datetime) -> None:
    """Put the conversation in front of counsellors; one a counsellor already holds stays where it is."""
    if conversation.status == conv.BLOCKED:  # LINE delivers messages only from friends: the user came back
        await conv.transition(session, conversation, conv.BOT, actor="user", reason="new_message", at=at)
    if conversation.status in (conv.BOT, conv.RESOLVED):
        await conv.transition(session, conversation, conv.QUEUED, actor="system", reason=level, at=at)


async def _concern(
    session: AsyncSession,
    conversation: Conversation,
    content: Content,
    hours: HoursPolicy,
    at: datetime,
    *,
    raised: bool,
    held: bool,
) -> Escalated:
    """No crisis text. A conversation a human already holds is routed on as usual (the counsellor sees the
    banner); one just queued hears the hand-off, or off hours the off-hours reply."""
    if raised:
        in_hours = hours.decide(at).open
        await raise_alert(session, CONCERN, conversation_id=conversation.id, at=at, in_hours=in_hours)
        _count_when_committed(session, CONCERN)
        notify(session, events.concern(conversation.id))
        log.warning("concern flag on conversation %s (category=%s)", conversation.id, conversation.risk_reason)
    level = conv.risk_level(conversation) or CONCERN
    if held:
        return Escalated(level, None, done=False)
    return Escalated(level, closed_text(content, hours, at) or content.reply("concern_queued"))


def crisis_text(content: Content, hours: HoursPolicy, at: datetime) -> str:
    """110/119 and the 24-hour lines; off hours it also says when a counsellor will read the message."""
    decision = hours.decide(at)
    if decision.open:
        return content.reply("crisis")
    if decision.next_open is None or decision.reason.startswith("service_"):
        return content.reply("crisis_service_closed")
    return content.reply("crisis_off_hours", next_open=format_next_open(to_tokyo(decision.next_open)))


async def _crisis(
    session: AsyncSession,
    conversation: Conversation,
    content: Content,
    hours: HoursPolicy,
    source: str,
    level: str,
    category: str | None,
    at: datetime,
    in_hours: bool,
    was_open: bool,
    message: Message | None,
) -> Escalated:
    existing = await session.scalar(
        select(Escalation).where(
            Escalation.conversation_id == conversation.id, Escalation.status == EscalationStatus.OPEN
        )
    )
    if level == EMERGENCY_OTHER:
        text: str | None = content.reply("emergency_other")  # the 119 steps cannot wait for a counsellor
    elif was_open and existing is not None:
        text = None  # a counsellor already with the user in a case answers in person
    else:
        text = crisis_text(content, hours, at)
    current = conv.risk_level(conversation) or level
    if existing is not None:
        if conv.RISK_PRIORITY[level] > conv.RISK_PRIORITY.get(existing.level, conv.CRISIS_PRIORITY):
            existing.level, existing.category = level, category  # someone else's danger became the writer's own
            await raise_alert(session, level, conversation_id=conversation.id, at=at, in_hours=in_hours)
            _count_when_committed(session, level)
        notify(session, events.crisis(conversation.id, existing.id))
        return Escalated(current, text, existing)
    if message is not None and message.id is None:
        await session.flush()
    escalation = Escalation(
        conversation_id=conversation.id,
        opened_at=at,
        source=source,
        level=level,
        category=category,
        message_id=message.id if message is not None else None,
        in_hours=in_hours,
        checklist={},
    )
    session.add(escalation)
    await session.flush()
    await raise_alert(session, level, conversation_id=conversation.id, at=at, in_hours=in_hours)
    _count_when_committed(session, level)
    notify(session, events.crisis(conversation.id, escalation.id))
    log.warning("%s escalation %s opened for conversation %s (source=%s)", level, escalation.id, conversation.id,
                source)
    return Escalated(current, text, escalation)


async def last_user_text(session: AsyncSession, conversation_id: int) -> Message | None:
    """The user's message the bot was answering when its crisis intent fired: the flag counsellors review."""
    return await session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.direction == Direction.IN, Message.kind == "text")
        .order_by(Message.id.desc())
        .limit(1)
    )
