"""Router decisions (step one of a turn): which LINE events go to the bot, which to the queue,
which to the counsellor who holds the conversation, and which are ignored.

The router is built from the real content, hours and outbox over an in-memory database; only the safety screen is
a stand-in that flags a text spelt like a level (the lexicon has its own tests). Nothing here talks to Rasa or LINE:
a turn for the bot comes back as a `BotCall`, what the gateway itself says is a row in the outbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain import conversations as conv
from handoff.domain.content import Content
from handoff.domain.hours import HoursPolicy
from handoff.domain.outgoing import enqueue
from handoff.domain.safety import CONCERN, CRISIS, NO_CRISIS, SafetyResult
from handoff.line.messages import text_message
from handoff.pipeline.outbox import OutboxSender
from handoff.pipeline.router import Routed, Router
from handoff.settings import DATA_DIR
from handoff.store.models import Contact, Conversation, InboxEvent, Message, Outbox
from tests.handoff.memory_db import IN_HOURS, OFF_HOURS, conversation_in, memory_session  # noqa: F401  (the `session` fixture)
from tests.support.inprocess import InstantLine, InstantRasa

USER = "U" + "0" * 32  # conversation_in's user
NEW_USER = "U" + "9" * 32
AFTER_SERVICE = datetime(2027, 4, 5, 5, 0, tzinfo=UTC)  # a Monday 14:00 after data/hours.yml's service end
_ids = count(1)


class LevelScreen:
    """Flags a text spelt like a level ("crisis", "concern"); everything else is harmless."""

    def screen(self, text: str) -> SafetyResult:
        return SafetyResult(text, "test", text) if text in (CRISIS, CONCERN) else NO_CRISIS


@pytest.fixture(scope="module")
def content() -> Content:
    return Content.load(DATA_DIR)


@pytest.fixture
def router(content: Content) -> Router:
    line = InstantLine()
    hours = HoursPolicy.load(DATA_DIR / "hours.yml")
    outbox = OutboxSender(None, line, 5)  # type: ignore[arg-type]  # the database is the test's session
    return Router(None, content, hours, InstantRasa(), line, LevelScreen(), outbox)  # type: ignore[arg-type]


def _event(kind: str, at: datetime, user: str = USER, **fields: Any) -> dict[str, Any]:
    n = next(_ids)
    return {
        "type": kind,
        "mode": "active",
        "timestamp": int(at.timestamp() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": f"W{n:025d}",
        "replyToken": f"r{n:031d}",
        **fields,
    }


def _text(text: str, at: datetime = IN_HOURS, user: str = USER) -> dict[str, Any]:
    return _event("message", at, user, message={"type": "text", "id": str(next(_ids)), "text": text})


async def _route(
    router: Router, session: AsyncSession, event: dict[str, Any], conversation: Conversation | None = None
) -> tuple[Routed, InboxEvent]:
    row = InboxEvent(webhook_event_id=event["webhookEventId"], source_key="k", event_type=event["type"], body=event)
    session.add(row)
    await session.flush()
    contact = conversation.contact if conversation is not None else None
    return await router.route(session, row, contact, conversation), row


async def _said(session: AsyncSession) -> list[str]:
    """What the gateway itself queued for LINE, in order (the texts of its outbox rows)."""
    rows = (await session.scalars(select(Outbox).order_by(Outbox.id))).all()
    return [m.get("text", "") for row in rows for m in row.messages]


def _to_bot(routed: Routed, row: InboxEvent, rasa_event: str) -> None:
    assert row.status == "bot" and row.rasa_event == rasa_event
    assert routed.bot is not None and routed.bot.metadata["event"] == rasa_event
    assert routed.send is None


# ---- to the bot --------------------------------------------------------------------------------------------------


async def test_a_first_message_creates_the_contact_and_goes_to_the_bot(router: Router, session: AsyncSession) -> None:
    routed, row = await _route(router, session, _text("こんにちは", user=NEW_USER))
    _to_bot(routed, row, "message")
    assert routed.bot is not None and routed.bot.text == "こんにちは"
    conversation = await session.scalar(select(Conversation).join(Contact).where(Contact.line_user_id == NEW_USER))
    assert conversation is not None and conversation.status == conv.BOT
    assert await _said(session) == []  # the bot answers, the gateway says nothing itself


async def test_off_hours_the_bot_still_answers(router: Router, session: AsyncSession) -> None:
    conversation = await conversation_in(session, conv.BOT)
    routed, row = await _route(router, session, _text("こんばんは", OFF_HOURS), conversation)
    _to_bot(routed, row, "message")


async def test_a_follow_greets_through_the_bot(router: Router, session: AsyncSession) -> None:
    routed, row = await _route(router, session, _event("follow", IN_HOURS, NEW_USER))
    _to_bot(routed, row, "follow")
    assert routed.bot is not None and routed.bot.text == "/follow"


async def test_a_friend_added_again_comes_back_to_the_bot(router: Router, session: AsyncSession) -> None:
    conversation = await conversation_in(session, conv.BLOCKED)
    conversation.contact.following = False
    routed, row = await _route(router, session, _event("follow", IN_HOURS), conversation)
    _to_bot(routed, row, "follow")
    assert conversation.status == conv.BOT and conversation.contact.following is True


async def test_a_button_tap_goes_to_the_bot_with_its_payload_and_is_not_screened(
    router: Router, session: AsyncSession
) -> None:
    conversation = await conversation_in(session, conv.BOT)
    tap = _event("postback", IN_HOURS, postback={"data": "/consent_yes", "displayText": CRISIS})
    routed, row = await _route(router, session, tap, conversation)
    _to_bot(routed, row, "postback")  # a button label is ours, not the user's words: no flag
    assert routed.bot is not None and routed.bot.text == "/consent_yes"
    assert conversation.status == conv.BOT


async def test_writing_again_after_a_close_reopens_with_the_bot_as_a_return(
    router: Router, session: AsyncSession
) -> None:
    conversation = await conversation_in(session, conv.RESOLVED)
    routed, row = await _route(router, session, _text("また相談したいです"), conversation)
    _to_bot(routed, row, "return")
    assert conversation.status == conv.BOT


async def test_a_thank_you_just_after_the_close_gets_a_goodbye_and_stays_closed(
    router: Router, session: AsyncSession
) -> None:
    conversation = await conversation_in(session, conv.OPEN)
    closed = IN_HOURS - timedelta(minutes=1)
    await conv.transition(session, conversation, conv.RESOLVED, actor="counsellor:1", reason="record", at=closed)
    routed, row = await _route(router, session, _text("ありがとうございました！"), conversation)
    assert row.status == "done" and routed.bot is None
    assert conversation.status == conv.RESOLVED
    assert len(await _said(session)) == 1


async def test_another_message_just_after_the_close_goes_to_the_bot_without_a_welcome_back(
    router: Router, session: AsyncSession
) -> None:
    conversation = await conversation_in(session, conv.OPEN)
    closed = IN_HOURS - timedelta(minutes=1)
    await conv.transition(session, conversation, conv.RESOLVED, actor="counsellor:1", reason="record", at=closed)
    routed, row = await _route(router, session, _text("あと一つ聞きたいです"), conversation)
    _to_bot(routed, row, "message")  # not "return": they were here a minute ago


# ---- to the queue ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [conv.BOT, conv.RESOLVED, conv.BLOCKED])
async def test_a_flagged_message_goes_to_the_queue_and_never_to_the_bot(
    router: Router, session: AsyncSession, state: str
) -> None:
    conversation = await conversation_in(session, state)
    routed, row = await _route(router, session, _text(CRISIS), conversation)
    assert routed.bot is None and row.status == "done"
    assert conversation.status == conv.QUEUED and conversation.risk == CRISIS
    said = await _said(session)
    assert len(said) == 1 and "110" in said[0] and "119" in said[0]


async def test_a_concern_queues_the_conversation_with_the_hand_off_reply(
    router: Router, session: AsyncSession, content: Content
) -> None:
    conversation = await conversation_in(session, conv.BOT)
    routed, _row = await _route(router, session, _text(CONCERN), conversation)
    assert routed.bot is None
    assert (conversation.status, conversation.risk) == (conv.QUEUED, CONCERN)
    assert await _said(session) == [content.reply("concern_queued")]


# ---- to a counsellor ---------------------------------------------------------------------------------------------


async def test_a_message_in_an_open_conversation_is_for_the_counsellor_alone(
    router: Router, session: AsyncSession
) -> None:
    conversation = await conversation_in(session, conv.OPEN)
    routed, row = await _route(router, session, _text("さっきの続きです"), conversation)
    assert routed.bot is None and row.status == "done"
    assert conversation.unread == 1
    assert await _said(session) == []  # the counsellor answers in person
    stored = (await session.scalars(select(Message).where(Message.direction == "in"))).all()
    assert [m.text for m in stored] == ["さっきの続きです"]


async def test_a_waiting_user_is_told_their_place_and_the_bot_hears_nothing(
    router: Router, session: AsyncSession
) -> None:
    conversation = await conversation_in(session, conv.QUEUED)
    later = IN_HOURS + timedelta(hours=1)  # long after the wait began: an acknowledgement is due
    routed, row = await _route(router, session, _text("まだですか", later), conversation)
    assert routed.bot is None and row.status == "done"
    assert conversation.unread == 1 and conversation.status == conv.QUEUED
    assert routed.send is not None  # one short answer, sent right after the turn commits
    (said,) = await _said(session)
    assert "いま1番目" in said  # alone in the queue: next


async def test_a_concern_in_an_open_conversation_stays_with_the_counsellor(
    router: Router, session: AsyncSession
) -> None:
    conversation = await conversation_in(session, conv.OPEN)
    routed, _row = await _route(router, session, _text(CONCERN), conversation)
    assert routed.bot is None
    assert (conversation.status, conversation.risk, conversation.unread) == (conv.OPEN, CONCERN, 1)
    assert await _said(session) == []


# ---- answered by the gateway itself, or ignored --------------------------------------------------------------------


async def test_after_the_service_period_the_gateway_answers_and_the_bot_does_not(
    router: Router, session: AsyncSession
) -> None:
    conversation = await conversation_in(session, conv.BOT)
    routed, row = await _route(router, session, _text("こんにちは", AFTER_SERVICE), conversation)
    assert routed.bot is None and row.status == "done"
    assert routed.send is not None and len(await _said(session)) == 1


@pytest.mark.parametrize(("mtype", "key"), [("image", "media_refused"), ("location", "location_refused")])
async def test_pictures_and_places_are_refused_with_a_reply(
    router: Router, session: AsyncSession, content: Content, mtype: str, key: str
) -> None:
    conversation = await conversation_in(session, conv.BOT)
    event = _event("message", IN_HOURS, message={"type": mtype, "id": str(next(_ids))})
    routed, _row = await _route(router, session, event, conversation)
    assert routed.bot is None
    assert await _said(session) == [content.reply(key)]
    stored = (await session.scalars(select(Message).where(Message.direction == "in"))).all()
    assert [(m.kind, m.text) for m in stored] == [(mtype, None)]  # never downloaded, nothing kept


async def test_a_sticker_is_answered_by_its_mood_not_by_the_bot(
    router: Router, session: AsyncSession, content: Content
) -> None:
    conversation = await conversation_in(session, conv.BOT)
    sticker = {"type": "sticker", "id": str(next(_ids)), "keywords": ["unknown-word"]}
    routed, _row = await _route(router, session, _event("message", IN_HOURS, message=sticker), conversation)
    assert routed.bot is None
    assert await _said(session) == [content.reply("sticker_neutral")]


async def test_an_unfollow_blocks_and_stops_what_was_waiting_to_be_sent(
    router: Router, session: AsyncSession
) -> None:
    conversation = await conversation_in(session, conv.OPEN)
    reply = [text_message("お話ししてくれてありがとう。")]
    await enqueue(session, recipient=USER, messages=reply, conversation_id=conversation.id, at=IN_HOURS, sender="agent")
    routed, row = await _route(router, session, _event("unfollow", IN_HOURS), conversation)
    assert routed.bot is None and row.status == "done"
    assert conversation.status == conv.BLOCKED and conversation.contact.following is False
    assert (await session.scalars(select(Outbox.status))).all() == ["undeliverable"]
    # the counsellor sees that the reply never arrived
    assert (await session.scalars(select(Message.delivery).where(Message.direction == "out"))).all() == [
        "undeliverable"]


@pytest.mark.parametrize("kind", ["beacon", "accountLink", "memberJoined", "videoPlayComplete"])
async def test_events_the_service_has_no_use_for_are_ignored(
    router: Router, session: AsyncSession, kind: str
) -> None:
    routed, row = await _route(router, session, _event(kind, IN_HOURS, NEW_USER))
    assert row.status == "ignored" and routed == Routed()
    assert await session.scalar(select(func.count()).select_from(Contact)) == 0  # nobody is created for it


async def test_an_event_without_a_user_is_ignored(router: Router, session: AsyncSession) -> None:
    event = _text("こんにちは")
    event["source"] = {"type": "user"}
    routed, row = await _route(router, session, event)
    assert row.status == "ignored" and routed == Routed()


async def test_an_invitation_to_a_group_is_declined_and_nothing_else_from_groups_is_kept(
    router: Router, session: AsyncSession, content: Content
) -> None:
    join = _event("join", IN_HOURS)
    join["source"] = {"type": "group", "groupId": "C" + "1" * 32}
    routed, row = await _route(router, session, join)
    assert row.status == "done" and routed == Routed()
    assert await _said(session) == [content.reply("group_leave")]
    assert (await session.scalars(select(Outbox.kind).order_by(Outbox.id))).all() == ["message", "leave_group"]
    said = _text("みなさんこんにちは")
    said["source"] = {"type": "group", "groupId": "C" + "1" * 32, "userId": USER}
    _routed, row = await _route(router, session, said)
    assert row.status == "ignored"
    assert await session.scalar(select(func.count()).select_from(Contact)) == 0
