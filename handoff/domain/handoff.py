"""Handing a conversation to a human: queue it and tell the user what happens next (R4, R5, R16).

The bot asks; the gateway decides, because hours, the queue and the capacity rule (handoff/domain/capacity.py) live in
the gateway and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handoff import events
from handoff.domain import conversations as conv
from handoff.domain.capacity import Lines
from handoff.domain.content import Content
from handoff.domain.hours import HoursPolicy, format_next_open
from handoff.domain.referral import decide_referral
from handoff.store.db import notify
from handoff.store.models import Conversation
from handoff.timeutil import to_tokyo


@dataclass(frozen=True)
class HandoffResult:
    status: str
    open: bool
    position: int
    all_busy: bool
    text: str

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def closed_text(content: Content, hours: HoursPolicy, at: datetime) -> str | None:
    """The off-hours (R4) or out-of-service (R3) notice for `at`, or None while open."""
    decision = hours.decide(at)
    if decision.open:
        return None
    if decision.next_open is None or decision.reason.startswith("service_"):
        return content.reply("service_closed", hotlines=content.hotlines_text(only_24h=True))
    return content.reply(
        "off_hours",
        next_open=format_next_open(to_tokyo(decision.next_open)),
        hotlines=content.hotlines_text(only_24h=True),
    )


async def request_handoff(
    session: AsyncSession,
    conversation: Conversation,
    *,
    content: Content,
    hours: HoursPolicy,
    lines: Lines,
    reason: str,
    at: datetime,
    profile: Mapping[str, object] | None = None,
) -> HandoffResult:
    """Queue the conversation and say what happens next. Someone the service has referred elsewhere (R7) is not
    queued: they hear the same referral again, short, so no message contradicts the one before it."""
    referral = decide_referral(profile)
    if conversation.status in (conv.BOT, conv.RESOLVED) and referral.referred:
        return HandoffResult(conversation.status, hours.decide(at).open, 0, False, referral.again_text(content))
    if conversation.status in (conv.BOT, conv.RESOLVED):
        await conv.transition(session, conversation, conv.QUEUED, actor="bot", reason=reason, at=at)
    position = await conv.queue_position(session, conversation)
    closed = closed_text(content, hours, at)
    notify(session, events.queued(conversation.id))
    if closed is not None:
        return HandoffResult(conversation.status, False, position, False, closed)
    if conversation.status == conv.OPEN:
        return HandoffResult(conversation.status, True, 0, False, content.reply("in_hours_handoff"))
    all_busy = await lines.all_busy(session)
    key = "all_busy" if all_busy else "queued"
    return HandoffResult(conversation.status, True, position, all_busy, content.reply(key, position=position))
