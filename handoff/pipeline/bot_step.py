"""Step two of a turn, for events the bot must answer: ask Rasa, store its answer and hand it to LINE.

It runs after step one (`router`) has committed: the action server reads the contact and conversation back
through the internal API while Rasa thinks, so they must be there. See `handoff.pipeline.inbox` for the two steps.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import events
from handoff.domain import conversations as conv
from handoff.domain.content import Content
from handoff.domain.outgoing import enqueue, pending_for
from handoff.line.client import LineClient
from handoff.line.messages import MAX_TEXT, from_rasa, text_message
from handoff.pipeline.outbox import OutboxSender, SendPlan
from handoff.pipeline.rasa import BotReply, RasaClient, RasaUnavailable, Understood
from handoff.store.db import Database, notify
from handoff.store.models import Contact, Conversation, InboxEvent, Message
from handoff.store.types import utcnow
from handoff.store.values import Channel, InboxStatus, Sender
from handoff.timeutil import from_line_timestamp, to_tokyo

log = logging.getLogger(__name__)
LOADING_AFTER = 0.3  # seconds of waiting for Rasa before LINE shows the typing dots
Answers = BotReply | None  # None: Rasa is down or too slow (R16)


@dataclass(frozen=True)
class BotCall:
    """What step two sends to Rasa. Step one knows it already, so a fresh turn needs no extra read."""

    row_id: int
    key: str
    user_id: str
    text: str
    metadata: dict[str, Any]
    at: datetime
    event: dict[str, Any]


def bot_call(row: InboxEvent, contact: Contact, conversation: Conversation, at: datetime) -> BotCall:
    metadata = {
        "contact": contact.key,
        "conversation_id": conversation.id,
        "at": to_tokyo(at).isoformat(),
        "event": row.rasa_event or "message",
    }
    return BotCall(row.id, contact.key, contact.line_user_id, _bot_input(row), metadata, at, row.body)


def _bot_input(row: InboxEvent) -> str:
    event = row.body
    if row.rasa_event == "follow":
        return "/follow"
    if row.event_type == "postback":
        return str((event.get("postback") or {}).get("data", ""))[:MAX_TEXT]
    return str((event.get("message") or {}).get("text", ""))[:MAX_TEXT]


class BotStep:
    def __init__(
        self, db: Database, content: Content, rasa: RasaClient, line: LineClient, outbox: OutboxSender
    ) -> None:
        self.db = db
        self.content = content
        self.rasa = rasa
        self.line = line
        self.outbox = outbox
        self._loading: set[asyncio.Task[Any]] = set()

    async def _ask(self, call: BotCall) -> Answers:
        loading = asyncio.create_task(self._loading_after(call.user_id, LOADING_AFTER))
        try:
            return await self.rasa.send(call.key, call.text, call.metadata)
        except RasaUnavailable:
            return None
        finally:
            loading.cancel()  # no dots needed any more (a call already made stands; the answer hides the dots)

    async def _resume(self, row_id: int) -> BotCall | None:
        """After a restart between the steps: rebuild the call from the stored row."""
        async with self.db.session() as session:
            row = await session.get(InboxEvent, row_id)
            if row is None or row.status != InboxStatus.BOT:
                return None
            contact, conversation = await conv.contact_and_conversation(session, row.body["source"]["userId"], utcnow())
            return bot_call(row, contact, conversation, from_line_timestamp(row.body.get("timestamp")))

    async def answer(self, row_id: int, call: BotCall | None = None) -> None:
        """`call` comes from step one; without it (a restart between the steps) it is rebuilt from the row."""
        call = call or await self._resume(row_id)
        if call is None:
            return
        reply = await self._ask(call)
        plan = None
        async with self.db.session() as session:
            conversation_id = int(call.metadata["conversation_id"])  # the answer belongs where the user wrote
            waiting, older_pending, channel = await self._finish_row(session, row_id, call.user_id, conversation_id)
            if not waiting:
                return  # handled meanwhile (a resumed run got there first)
            if reply is None:
                plan, conversation_id = await self._unavailable(session, call, older_pending)
            else:
                messages = from_rasa(reply.messages)
                if not messages and call.metadata.get("event") != "follow":  # never no answer to a message
                    messages = [text_message(self.content.reply("bot_silent"))]
                if messages:
                    plan = await self.outbox.enqueue_to_send(
                        session,
                        recipient=call.user_id,
                        messages=messages,
                        conversation_id=conversation_id,
                        at=call.at,
                        sender=Sender.BOT,
                        reply_token=call.event.get("replyToken"),
                        older_pending=older_pending,
                        channel=channel,
                    )
            notify(session, events.message(conversation_id))
        if plan is not None:
            await self.outbox.deliver(plan)
        if reply is not None and reply.understood is not None:  # for trainers, after the user has the answer
            async with self.db.session() as session:
                await _keep_understood(session, call, int(call.metadata["conversation_id"]), reply.understood)

    async def _finish_row(
        self, session: AsyncSession, row_id: int, user_id: str, conversation_id: int
    ) -> tuple[bool, bool, str]:
        """Mark the row done in the transaction that stores the answer, and learn in the same statement whether
        anything is still waiting to be sent to the user and which channel the conversation is on now (the user
        may have opened the secure chat while Rasa thought). (False, _, _) if the row no longer waits."""
        table = InboxEvent.__table__
        conn = await session.connection()  # Core: the row is not loaded in this session, so no ORM bookkeeping
        channel = select(Conversation.channel).where(Conversation.id == conversation_id).scalar_subquery()
        done = (
            await conn.execute(
                update(table)
                .where(table.c.id == row_id, table.c.status == InboxStatus.BOT)
                .values(status=InboxStatus.DONE, processed_at=utcnow())
                .returning(table.c.id, pending_for(user_id).exists(), channel)
            )
        ).first()
        return (True, bool(done[1]), str(done[2] or Channel.LINE)) if done is not None else (False, False, "")

    async def _unavailable(
        self, session: AsyncSession, call: BotCall, older_pending: bool
    ) -> tuple[SendPlan | None, int]:
        """R16: the message is kept and a human will read it; the user is told so at once."""
        contact, conversation = await conv.contact_and_conversation(session, call.user_id, call.at)
        plan = await self.outbox.enqueue_to_send(
            session,
            recipient=contact.line_user_id,
            messages=[text_message(self.content.reply("received_ack"))],
            conversation_id=conversation.id,
            at=call.at,
            sender=Sender.SYSTEM,
            reply_token=call.event.get("replyToken"),
            older_pending=older_pending,
            channel=conversation.channel,
        )
        if conversation.status == conv.BOT:
            await conv.transition(
                session, conversation, conv.QUEUED, actor="system", reason="bot_unavailable", at=call.at
            )
        return plan, conversation.id

    async def recovery_due(self) -> list[str]:
        """The worker's `rasa` runner: work while the breaker waits for a probe or has just closed."""
        breaker = self.rasa.breaker
        return ["rasa"] if breaker.probe_due() or breaker.recovered else []

    async def recover(self, _key: str) -> None:
        if self.rasa.breaker.probe_due():
            await self.rasa.probe()
        if self.rasa.breaker.take_recovered():
            given = await give_back(self.db, self.content, utcnow())
            log.info("rasa answers again: %d conversation(s) given back to the bot", given)

    async def _loading_after(self, user_id: str, delay: float) -> None:
        """LINE's typing dots, only when Rasa is slow: a quick answer needs none, and it saves an API call per
        turn. Best effort and in its own task, so it never holds the answer back."""
        await asyncio.sleep(delay)
        task = asyncio.create_task(self.line.show_loading(user_id, 20))
        self._loading.add(task)
        task.add_done_callback(self._loading.discard)


async def _keep_understood(
    session: AsyncSession, call: BotCall, conversation_id: int, understood: Understood
) -> None:
    """The intent NLU read the user's text as, on the stored turn (found by LINE's message id), so trainers can
    find misreadings. Postbacks and the follow event carry their intent in the payload; nothing to keep. Its own
    unit of work after the answer is handed to LINE: a trainer's label must not delay the user (about 2 ms of a
    turn on PostgreSQL in the same transaction, bench_turn)."""
    line_id = (call.event.get("message") or {}).get("id")
    if not line_id:
        return
    await session.execute(
        update(Message)
        .where(Message.conversation_id == conversation_id, Message.line_message_id == str(line_id),
               Message.sender == Sender.USER)
        .values(nlu_intent=understood.intent, nlu_confidence=understood.confidence)
    )


async def give_back(db: Database, content: Content, at: datetime) -> int:
    """Rasa answers again: conversations queued only because it did not (`bot_unavailable`), that nobody has
    claimed or flagged since, go back to the bot, recorded as the system's move. A claimed one stays claimed.
    Each user is told (`bot_back`): they were promised a counsellor would read what they sent, and no one will now,
    so they are asked to send it again rather than left waiting."""
    waiting = (
        Conversation.status == conv.QUEUED,
        Conversation.queue_reason == "bot_unavailable",
        Conversation.assignee_id.is_(None),
        Conversation.priority == 0,
        Conversation.crisis.is_(False),
    )
    async with db.session() as session:
        # A write first takes the row locks (PostgreSQL) or the write lock (SQLite): a counsellor claiming one of
        # these at this moment is serialised with us, as console claims are with each other.
        await session.execute(update(Conversation).where(*waiting).values(updated_at=Conversation.updated_at))
        query = select(Conversation).where(*waiting).execution_options(populate_existing=True)
        found = (await session.scalars(query)).all()
        for conversation in found:
            await conv.transition(session, conversation, conv.BOT, actor="system", reason="bot_available", at=at)
            notify(session, events.given_back(conversation.id))
            contact = await session.get(Contact, conversation.contact_id)
            if contact is not None and contact.following:
                await enqueue(
                    session,
                    recipient=contact.line_user_id,
                    messages=[text_message(content.reply("bot_back"))],
                    conversation_id=conversation.id,
                    at=at,
                    sender=Sender.SYSTEM,
                    channel=conversation.channel,
                )
    return len(found)
