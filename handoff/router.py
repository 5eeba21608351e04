"""What happens to one LINE event: the safety screen first, then routing by conversation state.

Step one (`route`) runs in one transaction: store the turn, screen it, change state, queue fixed replies. Step two
(`ask_bot`) only runs for events the bot must answer. See `handoff.inbox` for why there are two steps.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import conversations as conv
from handoff.contacts import seen
from handoff.content import Content
from handoff.escalation import escalate
from handoff.handoff import closed_text
from handoff.hours import HoursPolicy
from handoff.line.client import LineClient
from handoff.line.messages import from_rasa, text_message
from handoff.outbox import OutboxSender, SendPlan, enqueue, enqueue_leave, pending_for
from handoff.rasa import RasaClient, RasaUnavailable
from handoff.safety import SafetyScreen
from handoff.store.db import Database, notify
from handoff.store.models import Contact, Conversation, InboxEvent, Message, Outbox
from handoff.store.types import utcnow
from handoff.timeutil import from_line_timestamp, to_tokyo

log = logging.getLogger(__name__)
REFUSED_MEDIA = {"image", "video", "audio", "file"}
HUMAN_STATES = {conv.QUEUED, conv.OPEN}
LOADING_AFTER = 0.3  # seconds of waiting for Rasa before LINE shows the typing dots


@dataclass
class Turn:
    """What step one learned about an event, for the few branches that need it."""

    row: InboxEvent
    event: dict[str, Any]
    at: datetime
    contact: Contact
    conversation: Conversation
    incoming: Message | None = None
    send: SendPlan | None = None  # this turn's fixed reply, claimed in its transaction and sent after its commit

    @property
    def reply_token(self) -> str | None:
        return self.event.get("replyToken")


@dataclass(frozen=True)
class Routed:
    """Step one's outcome, acted on after its commit: a fixed reply claimed to send at once (no wake-up, no claim
    transaction: a sticker or an off-hours notice costs one transaction less), and what to ask Rasa."""

    send: SendPlan | None = None
    bot: BotCall | None = None


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


class Router:
    def __init__(
        self,
        db: Database,
        content: Content,
        hours: HoursPolicy,
        rasa: RasaClient,
        line: LineClient,
        safety: SafetyScreen,
        outbox: OutboxSender,
    ) -> None:
        self.db = db
        self.content = content
        self.hours = hours
        self.rasa = rasa
        self.line = line
        self.safety = safety
        self.outbox = outbox
        self._loading: set[asyncio.Task[Any]] = set()

    # ---- step one -------------------------------------------------------------------------------------------
    async def route(
        self,
        session: AsyncSession,
        row: InboxEvent,
        contact: Contact | None = None,
        conversation: Conversation | None = None,
    ) -> Routed:
        """Step one, in the unit of work that picked the row (and, if they exist, the user's contact and
        conversation with it); returns what to do once it has committed."""
        event = row.body
        at = from_line_timestamp(event.get("timestamp"))
        source = event.get("source") or {}
        if source.get("type") in ("group", "room"):
            await self._leave_group(session, row, event, at)
            return Routed()
        user_id = source.get("userId")
        kind = row.event_type
        if not user_id or kind not in ("message", "follow", "unfollow", "postback", "unsend"):
            row.status = "ignored"  # stored in the inbox; nothing else to do (unknown types included)
            row.processed_at = utcnow()
            return Routed()
        if contact is None or conversation is None:  # read with the row (inbox._next_event) unless new
            contact, conversation = await conv.contact_and_conversation(session, user_id, at)
        seen(contact, at)
        turn = Turn(row, event, at, contact, conversation)
        handler = getattr(self, f"_on_{kind}")
        await handler(session, turn)
        if row.status == "pending":
            row.status = "done"
        row.processed_at = utcnow()
        notify(session, {"type": "message", "conversation_id": conversation.id})
        return Routed(
            send=turn.send,
            bot=self._bot_call(row, contact, conversation, at) if row.status == "bot" else None,
        )

    async def _leave_group(self, session: AsyncSession, row: InboxEvent, event: dict[str, Any], at: datetime) -> None:
        """The account is for one-to-one talks only; nothing is kept beyond the inbox row."""
        source = event["source"]
        kind = source["type"]
        chat_id = source.get("groupId") or source.get("roomId")
        if event.get("type") == "join" and chat_id:
            text = self.content.reply("group_leave")
            await enqueue(
                session,
                recipient=chat_id,
                messages=[text_message(text)],
                conversation_id=None,
                at=at,
                reply_token=event.get("replyToken"),
            )
            await enqueue_leave(session, kind, chat_id, at)
        row.status = "done" if event.get("type") == "join" else "ignored"
        row.processed_at = utcnow()

    async def _on_follow(self, session: AsyncSession, turn: Turn) -> None:
        turn.contact.following = True
        turn.contact.blocked_at = None
        if turn.conversation.status == conv.BLOCKED:
            await conv.transition(session, turn.conversation, conv.BOT, actor="user", reason="follow", at=turn.at)
        self._store_in(session, turn, "follow", None)
        if turn.conversation.status == conv.BOT:
            turn.row.status, turn.row.rasa_event = "bot", "follow"

    async def _on_unfollow(self, session: AsyncSession, turn: Turn) -> None:
        """R17: nothing more can reach the user; record it and stop what is still waiting to be sent."""
        turn.contact.following = False
        turn.contact.blocked_at = turn.at
        if turn.conversation.status != conv.BLOCKED:
            await conv.transition(session, turn.conversation, conv.BLOCKED, actor="user", reason="unfollow", at=turn.at)
        self._store_in(session, turn, "unfollow", None)
        pending = (
            await session.scalars(
                update(Outbox)
                .where(Outbox.recipient == turn.contact.line_user_id, Outbox.status == "pending")
                .values(status="undeliverable", last_error="blocked by the user (R17)")
                .returning(Outbox.id)
            )
        ).all()
        if pending:
            await session.execute(
                update(Message).where(Message.outbox_id.in_(pending)).values(delivery="undeliverable")
            )

    async def _on_unsend(self, session: AsyncSession, turn: Turn) -> None:
        """The user took a message back: keep that it happened, drop what it said."""
        message_id = (turn.event.get("unsend") or {}).get("messageId")
        await session.execute(
            update(Message)
            .where(Message.line_message_id == str(message_id), Message.direction == "in")
            .values(text=None, unsent_at=turn.at)
        )

    async def _on_postback(self, session: AsyncSession, turn: Turn) -> None:
        postback = turn.event.get("postback") or {}
        shown = str(postback.get("displayText") or postback.get("data") or "")[:5000]
        self._store_in(session, turn, "postback", shown)
        await self._after_user_text(session, turn, shown, screen_text=False)

    async def _on_message(self, session: AsyncSession, turn: Turn) -> None:
        message = turn.event.get("message") or {}
        mtype = str(message.get("type", "unknown"))
        if mtype == "text":
            text = str(message.get("text", ""))
            self._store_in(session, turn, "text", text, message)
            await self._after_user_text(session, turn, text, screen_text=True)
        elif mtype in REFUSED_MEDIA:  # R12: never downloaded, never stored
            self._store_in(session, turn, mtype, None, message)
            await self._reply(session, turn, self.content.reply("media_refused"))
        elif mtype == "location":  # R14: a place is personal information
            self._store_in(session, turn, "location", None, message)
            await self._reply(session, turn, self.content.reply("location_refused"))
        elif mtype == "sticker":
            self._store_in(session, turn, "sticker", None, message)
            if turn.conversation.status not in HUMAN_STATES:
                await self._reply(session, turn, self.content.reply("sticker"))
        else:
            self._store_in(session, turn, mtype[:16], None, message)

    async def _after_user_text(self, session: AsyncSession, turn: Turn, text: str, *, screen_text: bool) -> None:
        conversation = turn.conversation
        result = self.safety.screen(text) if screen_text else None
        if result is not None and result.crisis:
            await escalate(
                session,
                conversation=conversation,
                contact=turn.contact,
                content=self.content,
                hours=self.hours,
                source="lexicon",
                category=result.category,
                at=turn.at,
                reply_token=turn.reply_token,
            )
            if turn.incoming is not None:
                turn.incoming.crisis = True
            return
        if conversation.status in HUMAN_STATES:
            conversation.unread += 1
            return  # a counsellor has it (or will): Rasa hears nothing
        decision = self.hours.decide(turn.at)
        if decision.reason.startswith("service_"):
            await self._reply(session, turn, closed_text(self.content, self.hours, turn.at) or "")
            return
        rasa_event = "message" if turn.row.event_type == "message" else "postback"
        if conversation.status == conv.RESOLVED:
            await conv.transition(session, conversation, conv.BOT, actor="user", reason="new_message", at=turn.at)
            rasa_event = "return"
        elif conversation.status == conv.BLOCKED:
            await conv.transition(session, conversation, conv.BOT, actor="user", reason="new_message", at=turn.at)
        turn.row.status, turn.row.rasa_event = "bot", rasa_event

    def _store_in(
        self, session: AsyncSession, turn: Turn, kind: str, text: str | None, message: dict[str, Any] | None = None
    ) -> None:
        message = message or {}
        turn.incoming = Message(
            conversation_id=turn.conversation.id,
            direction="in",
            sender="user",
            kind=kind,
            text=text,
            line_message_id=str(message["id"]) if message.get("id") else None,
            mark_as_read_token=message.get("markAsReadToken"),
            event_at=turn.at,
            created_at=utcnow(),
        )
        session.add(turn.incoming)
        turn.conversation.last_message_at = turn.at
        turn.conversation.updated_at = turn.at

    async def _reply(self, session: AsyncSession, turn: Turn, text: str) -> None:
        """A turn has at most one fixed reply; it goes out right after the turn commits."""
        turn.send = await self._fixed_reply(session, turn.contact, turn.conversation, turn.at, turn.reply_token, text)

    async def _fixed_reply(
        self,
        session: AsyncSession,
        contact: Contact,
        conversation: Conversation,
        at: datetime,
        reply_token: str | None,
        text: str,
        older_pending: bool | None = None,
    ) -> SendPlan | None:
        return await self.outbox.enqueue_to_send(
            session,
            recipient=contact.line_user_id,
            messages=[text_message(text)],
            conversation_id=conversation.id,
            at=at,
            sender="system",
            reply_token=reply_token,
            older_pending=older_pending,
        )

    # ---- step two -------------------------------------------------------------------------------------------
    def _bot_call(self, row: InboxEvent, contact: Contact, conversation: Conversation, at: datetime) -> BotCall:
        metadata = {
            "contact": contact.key,
            "conversation_id": conversation.id,
            "at": to_tokyo(at).isoformat(),
            "event": row.rasa_event or "message",
        }
        return BotCall(row.id, contact.key, contact.line_user_id, self._bot_input(row), metadata, at, row.body)

    async def _resume_bot_call(self, row_id: int) -> BotCall | None:
        """After a restart between the steps: rebuild the call from the stored row."""
        async with self.db.session() as session:
            row = await session.get(InboxEvent, row_id)
            if row is None or row.status != "bot":
                return None
            contact, conversation = await conv.contact_and_conversation(session, row.body["source"]["userId"], utcnow())
            return self._bot_call(row, contact, conversation, from_line_timestamp(row.body.get("timestamp")))

    async def ask_bot(self, row_id: int, call: BotCall | None = None) -> None:
        call = call or await self._resume_bot_call(row_id)
        if call is None:
            return
        loading = asyncio.create_task(self._loading_after(call.user_id, LOADING_AFTER))
        try:
            answers: list[dict[str, Any]] | None = await self.rasa.send(call.key, call.text, call.metadata)
        except RasaUnavailable:
            answers = None
        finally:
            loading.cancel()  # no dots needed any more (a call already made stands; the answer hides the dots)
        plan = None
        async with self.db.session() as session:
            waiting, older_pending = await self._finish_bot_row(session, row_id, call.user_id)
            if not waiting:
                return  # handled meanwhile (a resumed run got there first)
            conversation_id = int(call.metadata["conversation_id"])  # the answer belongs where the user wrote
            if answers is None:
                plan, conversation_id = await self._bot_unavailable(session, call, older_pending)
            elif answers:
                plan = await self.outbox.enqueue_to_send(
                    session,
                    recipient=call.user_id,
                    messages=from_rasa(answers),
                    conversation_id=conversation_id,
                    at=call.at,
                    sender="bot",
                    reply_token=call.event.get("replyToken"),
                    older_pending=older_pending,
                )
            notify(session, {"type": "message", "conversation_id": conversation_id})
        if plan is not None:
            await self.outbox.deliver(plan)

    async def _finish_bot_row(self, session: AsyncSession, row_id: int, user_id: str) -> tuple[bool, bool]:
        """Mark the row done in the transaction that stores the answer, and learn in the same statement whether
        anything is still waiting to be sent to the user. (False, _) if the row no longer waits for an answer."""
        table = InboxEvent.__table__
        conn = await session.connection()  # Core: the row is not loaded in this session, so no ORM bookkeeping
        done = (
            await conn.execute(
                update(table)
                .where(table.c.id == row_id, table.c.status == "bot")
                .values(status="done", processed_at=utcnow())
                .returning(table.c.id, pending_for(user_id).exists())
            )
        ).first()
        return (True, bool(done[1])) if done is not None else (False, False)

    def _bot_input(self, row: InboxEvent) -> str:
        event = row.body
        if row.rasa_event == "follow":
            return "/follow"
        if row.event_type == "postback":
            return str((event.get("postback") or {}).get("data", ""))[:5000]
        return str((event.get("message") or {}).get("text", ""))[:5000]

    async def _bot_unavailable(
        self, session: AsyncSession, call: BotCall, older_pending: bool
    ) -> tuple[SendPlan | None, int]:
        """R16: the message is kept and a human will read it; the user is told so at once."""
        contact, conversation = await conv.contact_and_conversation(session, call.user_id, call.at)
        text = self.content.reply("received_ack")
        plan = await self._fixed_reply(
            session, contact, conversation, call.at, call.event.get("replyToken"), text, older_pending
        )
        if conversation.status == conv.BOT:
            await conv.transition(
                session, conversation, conv.QUEUED, actor="system", reason="bot_unavailable", at=call.at
            )
        return plan, conversation.id

    async def _loading_after(self, user_id: str, delay: float) -> None:
        """LINE's typing dots, only when Rasa is slow: a quick answer needs none, and it saves an API call per
        turn. Best effort and in its own task, so it never holds the answer back."""
        await asyncio.sleep(delay)
        task = asyncio.create_task(self.line.show_loading(user_id, 20))
        self._loading.add(task)
        task.add_done_callback(self._loading.discard)
