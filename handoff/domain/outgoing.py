"""The two queues that leave the gateway, as rows: messages for LINE (the outbox) and alerts for staff.

One home for the statements that fill them (issue 15): the pipeline's turn, the escalation and the console's
counsellor all queue through here; the senders (handoff/pipeline/outbox.py, alerts.py) own only the sending state.
Rows first, so a LINE or alert endpoint that is down delays a message but never drops it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from handoff import events
from handoff.line.messages import chunks, plain_text, quick_reply_titles, text_message
from handoff.store.db import notify
from handoff.store.models import Alert, Conversation, Message, Outbox
from handoff.store.types import utcnow
from handoff.store.values import LEAVE_ROW, Channel, Direction, OutboxKind, OutboxStatus, Sender

REPLY_TOKEN_LIFETIME = timedelta(seconds=50)  # LINE allows about a minute; leave room for clock skew
# The secure chat (issue 16, handoff/domain/securechat.py): while a conversation is on the web channel, replies are
# stored for the secure page only and LINE gets this notice, with no word of the reply, at most once per window. Its
# quick reply asks for a new link (a lost browser session is recovered only that way); the gateway answers it.
OPEN_SECURE_CHAT = "securechat:open"
NOTICE_TEXT = "新しいメッセージがあります。安全な画面を開いてください。"
NOTICE_BUTTON = {"title": "安全な画面を開く", "payload": OPEN_SECURE_CHAT}
NOTICE_EVERY = timedelta(minutes=3)
_INSERT_OUTBOX = insert(Outbox.__table__).returning(Outbox.__table__.c.id)
_INSERT_MESSAGE = insert(Message.__table__)


def wake_outbox(session: AsyncSession, recipient: str) -> None:
    """Send right after the commit instead of at the next poll; the poll still catches anything missed."""
    notify(session, events.wake_outbox(recipient))


def pending_for(recipient: str | ColumnElement[str]) -> Select[tuple[int]]:
    """Any row still waiting to be sent to the recipient (a new answer must not overtake it)."""
    return select(Outbox.id).where(Outbox.recipient == recipient, Outbox.status == OutboxStatus.PENDING).limit(1)


def outbox_rows(
    *, recipient: str, messages: list[dict[str, Any]], conversation_id: int | None, reply_token: str | None,
    expires_from: datetime, silent: bool = False,
) -> list[dict[str, Any]]:
    """One row per LINE request (at most five messages each); only the first can use the reply token.
    `silent`: pushed with LINE's notificationDisabled (a follow-up the person asked to come quietly)."""
    now = utcnow()
    return [
        {
            "kind": OutboxKind.MESSAGE,
            "conversation_id": conversation_id,
            "recipient": recipient,
            "messages": batch,
            "reply_token": reply_token if index == 0 else None,
            "reply_token_expires_at": expires_from + REPLY_TOKEN_LIFETIME if reply_token and index == 0 else None,
            "retry_key": str(uuid.uuid4()),
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
            "silent": silent,
        }
        for index, batch in enumerate(chunks(messages))
    ]


def message_rows(
    row: dict[str, Any], outbox_id: int | None, *, at: datetime, sender: str, agent_id: int | None
) -> list[dict[str, Any]]:
    """The turns an outbox row carries, one per LINE message, as the console shows them until they are sent."""
    return [
        {
            "conversation_id": row["conversation_id"],
            "direction": Direction.OUT,
            "sender": sender,
            "agent_id": agent_id,
            "kind": "text" if message.get("type") == "text" else str(message.get("type")),
            "text": plain_text(message),
            "quick_replies": quick_reply_titles(message),
            "event_at": at,
            "created_at": at,
            "outbox_id": outbox_id,
            "delivery": OutboxStatus.PENDING,
            "crisis": False,
            "internal": False,
        }
        for message in row["messages"]
    ]


async def store_rows(
    session: AsyncSession, rows: list[dict[str, Any]], *, at: datetime, sender: str, agent_id: int | None
) -> list[int]:
    """Insert the rows and, for a conversation, the turns they carry (shown in the console as they are sent).

    Core statements on the session's connection, not ORM objects: this runs on every turn the bot answers, and
    nothing here needs the identity map (callers get the ids), so the unit of work's bookkeeping is pure cost.
    Core does not autoflush, so the session is flushed first: the user's message this answers (added to the
    session, not yet written) must get the lower id, or the console, which orders by time and then id, would show
    the answer first."""
    await session.flush()  # nothing to write, and no statement, when the session holds no pending changes
    conn = await session.connection()
    ids: list[int] = []
    for row in rows:
        row_id = int((await conn.execute(_INSERT_OUTBOX, row)).scalar_one())
        ids.append(row_id)
        if row["conversation_id"] is not None:
            await conn.execute(_INSERT_MESSAGE, message_rows(row, row_id, at=at, sender=sender, agent_id=agent_id))
    return ids


async def enqueue(
    session: AsyncSession,
    *,
    recipient: str,
    messages: list[dict[str, Any]],
    conversation_id: int | None,
    at: datetime,
    sender: str = Sender.BOT,
    agent_id: int | None = None,
    reply_token: str | None = None,
    event_at: datetime | None = None,
    defer: timedelta | None = None,
    channel: str = Channel.LINE,
    silent: bool = False,
) -> list[int]:
    """Store messages for the sender to send, as turns of the conversation, in the caller's transaction.
    Returns the outbox ids. `defer`: first attempt that much later, and cancellable until then
    (`cancel_deferred`): the gateway's acknowledgement while a user may still be typing. `channel`: the
    conversation's; on the web channel the turns go to the secure page (`to_web`) and LINE gets only a notice."""
    if channel == Channel.WEB and conversation_id is not None:
        await to_web(session, recipient=recipient, messages=messages, conversation_id=conversation_id, at=at,
                     sender=sender, agent_id=agent_id)
        return []
    rows = outbox_rows(
        recipient=recipient, messages=messages, conversation_id=conversation_id, reply_token=reply_token,
        expires_from=event_at or at, silent=silent,
    )
    if defer:
        for row in rows:
            row["next_attempt_at"] = row["created_at"] + defer
    ids = await store_rows(session, rows, at=at, sender=sender, agent_id=agent_id)
    if not defer:
        wake_outbox(session, recipient)  # a deferred row is picked up by the sender's poll once it is due
    return ids


async def to_web(
    session: AsyncSession, *, recipient: str, messages: list[dict[str, Any]], conversation_id: int, at: datetime,
    sender: str, agent_id: int | None = None,
) -> list[int]:
    """The turns for the secure page (stored, so delivered: the page reads them live), and the content-free notice
    on LINE when none went out within NOTICE_EVERY; silent when the user chose so. Returns the turns' ids."""
    await session.flush()
    conn = await session.connection()
    ids: list[int] = []
    for turn in message_rows({"conversation_id": conversation_id, "messages": messages}, None, at=at, sender=sender,
                             agent_id=agent_id):
        turn.update(channel=Channel.WEB, delivery=OutboxStatus.SENT)
        ids.append(int((await conn.execute(_INSERT_MESSAGE.returning(Message.__table__.c.id), turn)).scalar_one()))
    table = Conversation.__table__
    due = (await conn.execute(
        update(table)
        .where(table.c.id == conversation_id, table.c.notice_at.is_(None) | (table.c.notice_at <= at - NOTICE_EVERY))
        .values(notice_at=at)
        .returning(table.c.notice_silent)
    )).first()
    if due is not None:
        notice = text_message(NOTICE_TEXT, [NOTICE_BUTTON])
        rows = outbox_rows(recipient=recipient, messages=[notice], conversation_id=None, reply_token=None,
                           expires_from=at)
        for row in rows:
            row["kind"] = OutboxKind.SILENT if due[0] else OutboxKind.MESSAGE
        await store_rows(session, rows, at=at, sender=Sender.SYSTEM, agent_id=None)
        wake_outbox(session, recipient)
    return ids


async def cancel_deferred(session: AsyncSession, recipient: str) -> int:
    """Take back the recipient's deferred rows not yet due (and the turns they carry): the user wrote again before
    the acknowledgement went out, so one acknowledgement after their last message will do, and nothing waits
    behind it (a crisis reply must not). Only `enqueue(defer=…)` makes a row whose first attempt lies in the
    future."""
    deferred = select(Outbox.id).where(
        Outbox.recipient == recipient, Outbox.status == OutboxStatus.PENDING, Outbox.attempts == 0,
        Outbox.next_attempt_at > utcnow(),
    )
    ids = list((await session.scalars(deferred)).all())
    if ids:
        await session.execute(delete(Message).where(Message.outbox_id.in_(ids)))
        await session.execute(delete(Outbox).where(Outbox.id.in_(ids)))
    return len(ids)


async def enqueue_leave(session: AsyncSession, chat_type: str, chat_id: str, at: datetime) -> None:
    """Ask LINE to take the account out of a group or room (`chat_type`, LINE's source type)."""
    session.add(
        Outbox(
            kind=LEAVE_ROW[chat_type],
            recipient=chat_id,
            messages=[],
            retry_key=str(uuid.uuid4()),
            created_at=utcnow(),
            next_attempt_at=utcnow(),
        )
    )
    wake_outbox(session, chat_id)


async def give_up_for_blocked(session: AsyncSession, recipient: str) -> None:
    """R17: the user blocked the account, so what still waits for them is undeliverable, and their turns say so."""
    pending = (
        await session.scalars(
            update(Outbox)
            .where(Outbox.recipient == recipient, Outbox.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.UNDELIVERABLE, last_error="blocked by the user (R17)")
            .returning(Outbox.id)
        )
    ).all()
    if pending:
        await session.execute(
            update(Message).where(Message.outbox_id.in_(pending)).values(delivery=OutboxStatus.UNDELIVERABLE)
        )


async def raise_alert(
    session: AsyncSession,
    type_: str,
    *,
    conversation_id: int | None,
    at: datetime,
    in_hours: bool = False,
    dedupe: timedelta | None = None,
) -> Alert | None:
    """Store an alert; with `dedupe`, one of a type per window is enough (a quota alert per send is noise)."""
    if dedupe is not None:
        recent = await session.scalar(select(Alert.id).where(Alert.type == type_, Alert.at > at - dedupe).limit(1))
        if recent is not None:
            return None
    alert = Alert(type=type_, conversation_id=conversation_id, at=at, in_hours=in_hours, next_attempt_at=utcnow())
    session.add(alert)
    await session.flush()
    notify(session, events.alert(type_, conversation_id))
    return alert
