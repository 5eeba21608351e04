"""Escalation by risk level, as rules: how a level marks a conversation (conversations.raise_risk, the only
place that sets `risk`) and what `handoff.pipeline.escalation.escalate` does with a flag, called directly.

tests/handoff/test_escalation_levels.py drives each level end to end through the inbox, in and out of hours, from
every state, and checks the console's view. This file covers what that one cannot reach or does not pin: every
pair of an earlier and a later level, an unknown level, the crisis reply on each kind of closed day, a repeated
crisis while a case is open, and the bot's path (`deliver=False`), where the gateway sends nothing itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain import conversations as conv
from handoff.domain.content import Content
from handoff.domain.hours import HoursPolicy
from handoff.domain.safety import CONCERN, CRISIS, EMERGENCY_OTHER
from handoff.pipeline.escalation import crisis_text, escalate
from handoff.settings import DATA_DIR
from handoff.store.models import Alert, Conversation, Escalation, Outbox
from tests.handoff.memory_db import IN_HOURS, OFF_HOURS, conversation_in, memory_session  # noqa: F401  (`session`)

LEVELS = (CONCERN, EMERGENCY_OTHER, CRISIS)  # lowest first
AFTER_SERVICE = datetime(2027, 4, 5, 5, 0, tzinfo=UTC)  # a Monday 14:00 after data/hours.yml's service end


@pytest.fixture(scope="module")
def content() -> Content:
    return Content.load(DATA_DIR)


@pytest.fixture(scope="module")
def hours() -> HoursPolicy:
    return HoursPolicy.load(DATA_DIR / "hours.yml")


def _flagged(level: str | None) -> Conversation:
    conversation = Conversation(status=conv.BOT, priority=0, risk=None, crisis=False)
    if level is not None:
        conv.raise_risk(conversation, level, f"first_{level}")
    return conversation


# ---- the mark a level leaves ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("earlier", "later"), list(product((None, *LEVELS), LEVELS)))
def test_a_later_flag_raises_the_level_and_never_lowers_it(earlier: str | None, later: str) -> None:
    conversation = _flagged(earlier)
    raised = conv.raise_risk(conversation, later, f"then_{later}")
    rank = {None: -1, **{level: i for i, level in enumerate(LEVELS)}}
    kept = later if rank[later] > rank[earlier] else earlier
    assert raised == (kept == later and later != earlier)
    assert conv.risk_level(conversation) == kept
    assert conversation.priority == conv.RISK_PRIORITY[kept]
    assert conversation.risk_reason == (f"then_{later}" if raised else f"first_{earlier}")
    # someone else in danger is a crisis of the conversation too; only a concern is not
    assert (conversation.risk, conversation.crisis) == ((CONCERN, False) if kept == CONCERN else (CRISIS, True))


def test_the_queue_ranks_the_writers_danger_above_someone_elses_above_a_concern() -> None:
    ranks = [conv.RISK_PRIORITY[level] for level in LEVELS]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert conv.risk_level(_flagged(None)) is None


# ---- the crisis reply -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "key"),
    [(IN_HOURS, "crisis"), (OFF_HOURS, "crisis_off_hours"), (AFTER_SERVICE, "crisis_service_closed")],
    ids=["in_hours", "off_hours", "after_the_service_period"],
)
def test_the_crisis_reply_always_gives_the_emergency_numbers(
    content: Content, hours: HoursPolicy, at: datetime, key: str
) -> None:
    text = crisis_text(content, hours, at)
    assert "110" in text and "119" in text
    if key == "crisis_off_hours":  # and when a counsellor will read it: Thursday's opening
        assert "11月26日" in text and text != content.reply("crisis")
    else:
        assert text == content.reply(key)


# ---- escalate, called directly ------------------------------------------------------------------------------------


async def test_an_unknown_level_is_refused_before_anything_changes(
    session: AsyncSession, content: Content, hours: HoursPolicy
) -> None:
    conversation = await conversation_in(session, conv.BOT)
    with pytest.raises(ValueError, match="unknown risk level"):
        await escalate(session, conversation=conversation, contact=conversation.contact, content=content,
                       hours=hours, source="lexicon", level="urgent", category=None, at=IN_HOURS)
    assert (conversation.status, conversation.risk) == (conv.BOT, None)
    assert (await session.scalars(select(Alert))).all() == []


async def test_the_bots_crisis_path_opens_the_case_but_leaves_the_reply_to_the_bot(
    session: AsyncSession, content: Content, hours: HoursPolicy
) -> None:
    conversation = await conversation_in(session, conv.BOT)
    done = await escalate(session, conversation=conversation, contact=conversation.contact, content=content,
                          hours=hours, source="nlu", level=CRISIS, category="suicide", at=IN_HOURS, deliver=False)
    assert done.text == content.reply("crisis") and done.escalation is not None
    assert (await session.scalars(select(Outbox))).all() == []  # the bot utters `text`; nothing sent twice
    assert conversation.status == conv.QUEUED
    assert (await session.scalars(select(Alert.type))).all() == [CRISIS]


async def _crisis_twice(session: AsyncSession, content: Content, hours: HoursPolicy, state: str) -> list[str | None]:
    """The writer's danger flagged twice, with the conversation moved to `state` in between."""
    conversation = await conversation_in(session, conv.BOT)
    texts = []
    for n in range(2):
        if n == 1 and state == conv.OPEN:
            await conv.transition(session, conversation, conv.OPEN, actor="counsellor:1", reason="claim", at=IN_HOURS)
        done = await escalate(session, conversation=conversation, contact=conversation.contact, content=content,
                              hours=hours, source="lexicon", level=CRISIS, category="suicide", at=IN_HOURS)
        texts.append(done.text)
    assert len((await session.scalars(select(Escalation))).all()) == 1  # one case per conversation
    assert (await session.scalars(select(Alert.type))).all() == [CRISIS]  # paged once
    return texts


async def test_a_repeated_crisis_while_waiting_gets_the_numbers_again(
    session: AsyncSession, content: Content, hours: HoursPolicy
) -> None:
    assert await _crisis_twice(session, content, hours, conv.QUEUED) == [content.reply("crisis")] * 2


async def test_a_repeated_crisis_with_a_counsellor_on_the_case_is_answered_in_person(
    session: AsyncSession, content: Content, hours: HoursPolicy
) -> None:
    assert await _crisis_twice(session, content, hours, conv.OPEN) == [content.reply("crisis"), None]


async def test_someone_else_in_danger_always_hears_the_119_steps_even_with_a_counsellor(
    session: AsyncSession, content: Content, hours: HoursPolicy
) -> None:
    conversation = await conversation_in(session, conv.OPEN)
    done = await escalate(session, conversation=conversation, contact=conversation.contact, content=content,
                          hours=hours, source="lexicon", level=EMERGENCY_OTHER, category="not_breathing",
                          at=IN_HOURS)
    assert done.text == content.reply("emergency_other")
    assert conversation.status == conv.OPEN  # it stays with the counsellor
    assert (await session.scalars(select(Outbox.recipient))).all() == [conversation.contact.line_user_id]
