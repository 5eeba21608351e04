"""What happens to one LINE event: the safety screen first, then routing by conversation state.

Step one (`route`) runs in one transaction: store the turn, screen it, change state, queue fixed replies. Step two
(`bot_step`) only runs for events the bot must answer. See `inbox` for why there are two steps.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import events
from handoff.domain import conversations as conv
from handoff.domain import follow_ups, securechat, survey
from handoff.domain.contacts import seen
from handoff.domain.content import Content
from handoff.domain.handoff import closed_text
from handoff.domain.hours import HoursPolicy
from handoff.domain.outgoing import cancel_deferred, enqueue, enqueue_leave, give_up_for_blocked
from handoff.domain.safety import SafetyScreen
from handoff.domain.waiting import after_close, reply_while_queued
from handoff.line.client import LineClient
from handoff.line.messages import MAX_TEXT, text_message
from handoff.pipeline.bot_step import BotCall, BotStep, bot_call
from handoff.pipeline.escalation import escalate
from handoff.pipeline.outbox import OutboxSender, SendPlan
from handoff.pipeline.rasa import RasaClient
from handoff.store.db import Database, notify
from handoff.store.models import Contact, Conversation, InboxEvent, Message
from handoff.store.types import utcnow
from handoff.store.values import Channel, Direction, InboxStatus, Sender
from handoff.timeutil import from_line_timestamp

log = logging.getLogger(__name__)
REFUSED_MEDIA = {"image", "video", "audio", "file"}
HUMAN_STATES = {conv.QUEUED, conv.OPEN}


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

    @property
    def channel(self) -> Channel:
        """Where the user wrote: the secure page stores its messages as events marked "web" (handoff/http)."""
        return Channel.WEB if self.event.get("channel") == Channel.WEB else Channel.LINE


@dataclass(frozen=True)
class Routed:
    """Step one's outcome, acted on after its commit: a fixed reply claimed to send at once (no wake-up, no claim
    transaction: a sticker or an off-hours notice costs one transaction less), and what to ask Rasa."""

    send: SendPlan | None = None
    bot: BotCall | None = None


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
        secure: securechat.Policy | None = None,
    ) -> None:
        self.content = content
        self.secure = secure or securechat.Policy()
        self.hours = hours
        self.safety = safety
        self.outbox = outbox
        self.bot = BotStep(db, content, rasa, line, outbox)
        # The LINE event types a user's turn can be; any other type is stored in the inbox and ignored.
        self._handlers: dict[str, Callable[[AsyncSession, Turn], Awaitable[None]]] = {
            "message": self._on_message,
            "follow": self._on_follow,
            "unfollow": self._on_unfollow,
            "postback": self._on_postback,
            "unsend": self._on_unsend,
        }

    # ---- step one -------------------------------------------------------------------------------------------
    async def route(
        self,
        session: AsyncSession,
        row: InboxEvent,
        contact: Contact | None,
        conversation: Conversation | None,
    ) -> Routed:
        """Step one, in the unit of work that picked the row with the user's contact and conversation (None where
        that query found none); returns what to do once it has committed."""
        event = row.body
        at = from_line_timestamp(event.get("timestamp"))
        source = event.get("source") or {}
        if source.get("type") in ("group", "room"):
            await self._leave_group(session, row, event, at)
            return Routed()
        user_id = source.get("userId")
        kind = row.event_type
        if not user_id or kind not in self._handlers:
            row.status = InboxStatus.IGNORED  # stored in the inbox; nothing else to do (unknown types included)
            row.processed_at = utcnow()
            return Routed()
        if contact is None:  # the row's query looked for it in this transaction: a new user
            contact, conversation = await conv.first_contact(session, user_id, at)
        elif conversation is None:
            conversation = await conv.conversation_for(session, contact, at)
        seen(contact, at)
        turn = Turn(row, event, at, contact, conversation)
        await self._handlers[kind](session, turn)
        if row.status == InboxStatus.PENDING:
            row.status = InboxStatus.DONE
        row.processed_at = utcnow()
        notify(session, events.message(conversation.id))
        return Routed(
            send=turn.send,
            bot=bot_call(row, contact, conversation, at) if row.status == InboxStatus.BOT else None,
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
        row.status = InboxStatus.DONE if event.get("type") == "join" else InboxStatus.IGNORED
        row.processed_at = utcnow()

    async def _on_follow(self, session: AsyncSession, turn: Turn) -> None:
        turn.contact.following = True
        turn.contact.blocked_at = None
        if turn.conversation.status == conv.BLOCKED:
            await conv.transition(session, turn.conversation, conv.BOT, actor="user", reason="follow", at=turn.at)
        self._store_in(session, turn, "follow", None)
        if turn.conversation.status == conv.BOT:
            turn.row.status, turn.row.rasa_event = InboxStatus.BOT, "follow"

    async def _on_unfollow(self, session: AsyncSession, turn: Turn) -> None:
        """R17: nothing more can reach the user; record it and stop what is still waiting to be sent."""
        turn.contact.following = False
        turn.contact.blocked_at = turn.at
        if turn.conversation.status != conv.BLOCKED:
            await conv.transition(session, turn.conversation, conv.BLOCKED, actor="user", reason="unfollow", at=turn.at)
        self._store_in(session, turn, "unfollow", None)
        await give_up_for_blocked(session, turn.contact.line_user_id)

    async def _on_unsend(self, session: AsyncSession, turn: Turn) -> None:
        """The user took a message back: keep that it happened, drop what it said."""
        message_id = (turn.event.get("unsend") or {}).get("messageId")
        await session.execute(
            update(Message)
            .where(Message.line_message_id == str(message_id), Message.direction == Direction.IN)
            .values(text=None, unsent_at=turn.at)
        )

    async def _on_postback(self, session: AsyncSession, turn: Turn) -> None:
        if turn.conversation.status == conv.QUEUED:
            await cancel_deferred(session, turn.contact.line_user_id)  # see _on_message
        postback = turn.event.get("postback") or {}
        shown = str(postback.get("displayText") or postback.get("data") or "")[:MAX_TEXT]
        self._store_in(session, turn, "postback", shown)
        if survey.is_survey_postback(postback.get("data")):  # issue 17.5: never to Rasa
            answer = await survey.answer_tap(session, turn.conversation, postback["data"], turn.at,
                                             self.content.survey)
            if answer is not None and turn.conversation.status not in HUMAN_STATES:
                await self._send(session, turn, answer)
            return
        if postback.get("data") == securechat.OPEN_POSTBACK:  # 「安全な画面で話す」: the gateway answers, not Rasa
            await securechat.send_link(session, turn.conversation, turn.contact, self.secure, at=turn.at,
                                       actor="user", reply_token=turn.reply_token)
            return
        await self._after_user_text(session, turn, shown, screen_text=False)

    async def _on_message(self, session: AsyncSession, turn: Turn) -> None:
        # They wrote again while queued (the only state with deferred acknowledgements): one still waiting for them
        # to pause is taken back (one comes after this message if it needs one), and nothing, a crisis reply least
        # of all, waits behind it. Not asked in other states: a bot turn is the hot path.
        if turn.conversation.status == conv.QUEUED:
            await cancel_deferred(session, turn.contact.line_user_id)
        message = turn.event.get("message") or {}
        mtype = str(message.get("type", "unknown"))
        if mtype == "text":
            text = str(message.get("text", ""))[:MAX_TEXT]  # cut on the way in already (handoff/line/events.py)
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
            await self._on_sticker(session, turn, message.get("keywords"))
        else:
            self._store_in(session, turn, mtype[:16], None, message)

    async def _after_user_text(self, session: AsyncSession, turn: Turn, text: str, *, screen_text: bool) -> None:
        conversation = turn.conversation
        if turn.channel == Channel.LINE and conversation.channel == Channel.WEB and not self.secure.only:
            # They wrote on LINE again: the talk follows them back (recorded), and the page's session ends.
            await securechat.end_sessions(session, turn.contact.id, turn.at, "back_to_line")
            await securechat.move(session, conversation, Channel.LINE, actor="user", reason="wrote_on_line",
                                  at=turn.at)
        result = self.safety.screen(text) if screen_text else None
        if result is not None and result.level is not None:
            flagged = await escalate(
                session,
                conversation=conversation,
                contact=turn.contact,
                content=self.content,
                hours=self.hours,
                source="lexicon",
                level=result.level,
                category=result.category,
                at=turn.at,
                reply_token=turn.reply_token,
                message=turn.incoming,
                reply_channel=turn.channel,
            )
            if flagged.done:
                return
        if self.secure.only and turn.channel == Channel.LINE and turn.contact.consent:
            await self._to_secure_chat(session, turn)
            return
        if conversation.status in HUMAN_STATES:
            conversation.unread += 1  # a counsellor has it (or will): Rasa hears nothing
            await follow_ups.take_answer(session, conversation.id, turn.at)  # already queued: only marked answered
            await self._while_waiting(session, turn, text)
            return
        decision = self.hours.decide(turn.at)
        if decision.reason.startswith("service_"):
            await self._reply(session, turn, closed_text(self.content, self.hours, turn.at) or "")
            return
        if await follow_ups.take_answer(session, conversation.id, turn.at):  # an answer to a check-in (17.8)
            await conv.transition(session, conversation, conv.QUEUED, actor="user", reason=follow_ups.REASON,
                                  at=turn.at)
            notify(session, events.queued(conversation.id))
            await self._reply(session, turn, closed_text(self.content, self.hours, turn.at)
                              or self.content.reply("follow_up_answered"))
            return
        rasa_event = "message" if turn.row.event_type == "message" else "postback"
        if conversation.status == conv.RESOLVED and screen_text:
            thanks = await survey.take_comment(session, conversation, turn.incoming, turn.at, self.content.survey)
            if thanks is not None:  # the survey's free comment (issue 17.5): stored as the message it is
                await self._send(session, turn, thanks)
                return
        if conversation.status == conv.RESOLVED:
            just_closed, closing = await after_close(session, conversation, text, turn.at, self.content.waiting)
            if closing is not None:  # 「ありがとう！」 a minute after the close: a warm goodbye, still closed
                await self._reply(session, turn, closing)
                return
            await conv.transition(session, conversation, conv.BOT, actor="user", reason="new_message", at=turn.at)
            rasa_event = "message" if just_closed else "return"  # no 「おかえりなさい」 to someone who just left
        elif conversation.status == conv.BLOCKED:
            await conv.transition(session, conversation, conv.BOT, actor="user", reason="new_message", at=turn.at)
        turn.row.status, turn.row.rasa_event = InboxStatus.BOT, rasa_event

    async def _to_secure_chat(self, session: AsyncSession, turn: Turn) -> None:
        """Guideline mode (YCC_SECURE_CHAT_ONLY): after consent LINE carries no consultation. The message is kept
        and screened like any other and a counsellor holding the conversation sees it; the answer is a link."""
        if turn.conversation.status in HUMAN_STATES:
            turn.conversation.unread += 1
        await securechat.move(session, turn.conversation, Channel.WEB, actor="system", reason="guideline_mode",
                              at=turn.at)
        await securechat.send_link(session, turn.conversation, turn.contact, self.secure, at=turn.at,
                                   actor="system", reply_token=turn.reply_token, text="guideline")

    async def _while_waiting(self, session: AsyncSession, turn: Turn, text: str | None) -> None:
        """Queued: a short acknowledgement now and then, the place in line when asked (handoff.domain.waiting). Open:
        nothing, the counsellor answers in person."""
        if turn.conversation.status != conv.QUEUED:
            return
        ack = await reply_while_queued(
            session, turn.conversation, text, turn.at, hours=self.hours, texts=self.content.waiting
        )
        if ack is None:
            return
        if not ack.defer:
            await self._reply(session, turn, ack.text)
            return
        await enqueue(
            session, recipient=turn.contact.line_user_id, messages=[text_message(ack.text)],
            conversation_id=turn.conversation.id, at=turn.at, sender=Sender.SYSTEM, reply_token=turn.reply_token,
            defer=ack.defer, channel=turn.channel,
        )

    async def _on_sticker(self, session: AsyncSession, turn: Turn, keywords: Any) -> None:
        """A sticker says something too: while waiting it is acknowledged like a message; otherwise the reply
        follows its keywords (a crying sticker is not thanked with 😊)."""
        if turn.conversation.status in HUMAN_STATES:
            await self._while_waiting(session, turn, None)
        else:
            key = self.content.waiting.sticker_key(keywords if isinstance(keywords, list) else None)
            await self._reply(session, turn, self.content.reply(key))

    def _store_in(
        self, session: AsyncSession, turn: Turn, kind: str, text: str | None, message: dict[str, Any] | None = None
    ) -> None:
        message = message or {}
        turn.incoming = Message(
            conversation_id=turn.conversation.id,
            direction=Direction.IN,
            sender=Sender.USER,
            kind=kind,
            text=text,
            line_message_id=str(message["id"]) if message.get("id") else None,
            mark_as_read_token=message.get("markAsReadToken"),
            event_at=turn.at,
            created_at=utcnow(),
            channel=turn.channel,
        )
        session.add(turn.incoming)
        turn.conversation.last_message_at = turn.at
        turn.conversation.updated_at = turn.at

    async def _reply(self, session: AsyncSession, turn: Turn, text: str) -> None:
        await self._send(session, turn, text_message(text))

    async def _send(self, session: AsyncSession, turn: Turn, message: dict[str, Any]) -> None:
        """A turn has at most one fixed reply; it goes out right after the turn commits."""
        turn.send = await self.outbox.enqueue_to_send(
            session,
            recipient=turn.contact.line_user_id,
            messages=[message],
            conversation_id=turn.conversation.id,
            at=turn.at,
            sender=Sender.SYSTEM,
            reply_token=turn.reply_token,
            channel=turn.channel,
        )
