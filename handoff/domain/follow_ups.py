"""Follow-up check-ins (issue 17 item 8): a counsellor schedules one message to a person who agreed to hear from
us again (e.g. a week after a consultation), optionally silent; their answer brings the conversation back to the
queue marked as a follow-up, so it is not left to the bot.

Why the outbox and not a multicast of one: the check-in belongs to the conversation (the counsellor sees it as a
turn, with its delivery state), and the outbox already pushes with a stable retry key and gives up on blocked
users (R17). The worker calls `release_due`; the router calls `take_answer` before the bot would hear the person.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain.broadcasts import BroadcastError, check_silent, check_text, parse_send_at
from handoff.domain.outgoing import enqueue
from handoff.line.messages import text_message
from handoff.store.models import Contact, Conversation
from handoff.store.models_broadcasts import FollowUp
from handoff.store.values import FollowUpStatus, Sender
from handoff.timeutil import TOKYO

ANSWER_WINDOW = timedelta(days=30)  # a message later than this after the check-in is an ordinary new message
REASON = "follow_up"  # conversations.queue_reason of an answered check-in


class FollowUpError(BroadcastError):
    """Input or a state a follow-up cannot be scheduled from; a Japanese reason for the console."""


async def schedule(
    session: AsyncSession, conversation: Conversation, body: Mapping[str, Any], *, author: str,
    user_id: int | None, now: datetime,
) -> FollowUp:
    """Store the check-in. Refused: without the person's agreement, to a blocked friend, or a second one."""
    if body.get("consented") is not True:
        raise FollowUpError("consented", "ご本人がフォローアップの連絡に同意しているか確認してください。")
    text = check_text(body.get("text"))
    send_at = parse_send_at(body.get("send_at"), now)
    silent = check_silent(body.get("silent"))
    contact = await session.get(Contact, conversation.contact_id)
    if contact is None or not contact.following:
        raise FollowUpError("conversation", "この方は友だち登録を解除しているため、フォローアップを送れません。")
    waiting = await session.scalar(select(FollowUp.id).where(
        FollowUp.conversation_id == conversation.id, FollowUp.status == FollowUpStatus.SCHEDULED).limit(1))
    if waiting is not None:
        raise FollowUpError("conversation",
                            "この相談にはもう予約済みのフォローアップがあります。取り消してから予約してください。")
    follow_up = FollowUp(conversation_id=conversation.id, text=text, silent=silent, send_at=send_at,
                         status=FollowUpStatus.SCHEDULED, created_by=user_id, author=author[:64], created_at=now)
    session.add(follow_up)
    await session.flush()
    return follow_up


def cancel(follow_up: FollowUp) -> bool:
    if follow_up.status != FollowUpStatus.SCHEDULED:
        return False
    follow_up.status = FollowUpStatus.CANCELLED
    return True


async def release_due(session: AsyncSession, now: datetime, limit: int = 50) -> int:
    """Hand the check-ins whose time has come to the outbox, in the caller's transaction (so each is sent once:
    its status and its outbox row commit together; one worker runs this)."""
    due = (await session.scalars(
        select(FollowUp).where(FollowUp.status == FollowUpStatus.SCHEDULED, FollowUp.send_at <= now)
        .order_by(FollowUp.send_at, FollowUp.id).limit(limit)
    )).all()
    for follow_up in due:
        conversation = await session.get(Conversation, follow_up.conversation_id)
        contact = await session.get(Contact, conversation.contact_id) if conversation else None
        if conversation is None or contact is None or not contact.following:
            follow_up.status = FollowUpStatus.UNDELIVERABLE
            continue
        await enqueue(session, recipient=contact.line_user_id, messages=[text_message(follow_up.text)],
                      conversation_id=conversation.id, at=now, sender=Sender.AGENT, agent_id=follow_up.created_by,
                      silent=follow_up.silent)
        follow_up.status, follow_up.sent_at = FollowUpStatus.SENT, now
    return len(due)


async def take_answer(session: AsyncSession, conversation_id: int, at: datetime) -> bool:
    """The person wrote after a check-in we sent: mark it answered; True when the conversation should be queued."""
    sent = await session.scalar(
        select(FollowUp).where(FollowUp.conversation_id == conversation_id, FollowUp.status == FollowUpStatus.SENT)
        .order_by(FollowUp.id.desc()).limit(1)
    )
    if sent is None:
        return False
    sent.status, sent.answered_at = FollowUpStatus.ANSWERED, at
    return sent.sent_at is not None and at - sent.sent_at <= ANSWER_WINDOW


def follow_up_json(follow_up: FollowUp) -> dict[str, Any]:
    def iso(at: datetime | None) -> str | None:
        return at.astimezone(TOKYO).isoformat() if at else None

    return {"id": follow_up.id, "conversation_id": follow_up.conversation_id, "text": follow_up.text,
            "silent": follow_up.silent, "status": follow_up.status, "send_at": iso(follow_up.send_at),
            "author": follow_up.author, "created_at": iso(follow_up.created_at), "sent_at": iso(follow_up.sent_at),
            "answered_at": iso(follow_up.answered_at)}


async def of_conversation(session: AsyncSession, conversation_id: int) -> Sequence[FollowUp]:
    """A conversation's check-ins, the newest first."""
    return (await session.scalars(select(FollowUp).where(FollowUp.conversation_id == conversation_id)
                                  .order_by(FollowUp.id.desc()))).all()
