"""The transition table (handoff/domain/conversations.py): every move it lists succeeds and is recorded, every other
(from, to) pair of statuses is refused and leaves the conversation as it was.

The refused pairs are generated as the complement of TRANSITIONS over STATUSES × STATUSES, so a move added to or
dropped from the table changes what is tested without anyone editing this file.
"""

from __future__ import annotations

from itertools import product

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain import conversations as conv
from handoff.store.models import StatusChange, User
from handoff.store.values import Role
from tests.handoff.memory_db import IN_HOURS, conversation_in, memory_session  # noqa: F401  (the `session` fixture)

ALLOWED = sorted(conv.TRANSITIONS)
REFUSED = sorted(set(product(conv.STATUSES, repeat=2)) - conv.TRANSITIONS)
LATER = IN_HOURS.replace(minute=30)


def _reason(move: tuple[str, str]) -> str:
    """A reason the table accepts for `move`: the one it is reserved for, or any."""
    return conv.ONLY_FOR.get(move, "test")


def test_the_table_moves_only_between_known_statuses_and_refuses_most_pairs() -> None:
    assert {s for move in conv.TRANSITIONS for s in move} <= set(conv.STATUSES)
    assert set(conv.ONLY_FOR) <= conv.TRANSITIONS
    assert len(ALLOWED) + len(REFUSED) == len(conv.STATUSES) ** 2
    assert all((s, s) in REFUSED for s in conv.STATUSES)  # "moving" to where it is would only fake an audit row


@pytest.mark.parametrize(("current", "wanted"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
async def test_every_allowed_move_succeeds_and_is_recorded(session: AsyncSession, current: str, wanted: str) -> None:
    conversation = await conversation_in(session, current)
    change = await conv.transition(
        session, conversation, wanted, actor="counsellor:7", reason=_reason((current, wanted)), at=LATER
    )
    assert change == conv.Change(current, wanted)
    assert conversation.status == wanted
    assert conversation.updated_at == LATER
    trail = (await session.scalars(select(StatusChange))).all()
    assert [(t.conversation_id, t.from_status, t.to_status, t.actor, t.reason, t.at) for t in trail] == [
        (conversation.id, current, wanted, "counsellor:7", _reason((current, wanted)), LATER)
    ]


@pytest.mark.parametrize(("current", "wanted"), REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
async def test_every_other_move_is_refused_and_changes_nothing(
    session: AsyncSession, current: str, wanted: str
) -> None:
    conversation = await conversation_in(session, current)
    before = (conversation.status, conversation.waiting_since, conversation.updated_at)
    with pytest.raises(conv.InvalidTransition) as refused:
        await conv.transition(session, conversation, wanted, actor="system", reason="test", at=LATER)
    assert (refused.value.current, refused.value.wanted) == (current, wanted)
    assert (conversation.status, conversation.waiting_since, conversation.updated_at) == before
    assert (await session.scalars(select(StatusChange))).all() == []


@pytest.mark.parametrize("reason", ["counsellor", "released", "new_message"])
async def test_a_waiting_user_goes_back_to_the_bot_only_because_rasa_answers_again(
    session: AsyncSession, reason: str
) -> None:
    conversation = await conversation_in(session, conv.QUEUED)
    with pytest.raises(conv.InvalidTransition):
        await conv.transition(session, conversation, conv.BOT, actor="counsellor:7", reason=reason, at=LATER)
    assert conversation.status == conv.QUEUED
    await conv.transition(session, conversation, conv.BOT, actor="system", reason="bot_available", at=LATER)
    assert conversation.status == conv.BOT


async def test_queueing_keeps_the_first_waiting_time_and_forgets_the_counsellor(session: AsyncSession) -> None:
    counsellor = User(name="soudan_1", role=Role.COUNSELLOR, password_hash="x")
    session.add(counsellor)
    conversation = await conversation_in(session, conv.OPEN)
    conversation.assignee = counsellor
    await session.flush()
    await conv.transition(session, conversation, conv.QUEUED, actor="counsellor:1", reason="released", at=LATER)
    # released back: still waiting since the user first asked, at the place that gives them, and nobody's any more
    assert (conversation.waiting_since, conversation.queue_reason, conversation.assignee_id) == (
        IN_HOURS, "released", None)


async def test_a_claim_keeps_how_long_the_user_waited(session: AsyncSession) -> None:
    conversation = await conversation_in(session, conv.QUEUED)
    await conv.transition(session, conversation, conv.OPEN, actor="counsellor:1", reason="claim", at=LATER)
    assert conversation.waiting_since == IN_HOURS


@pytest.mark.parametrize("wanted", [conv.RESOLVED, conv.BLOCKED])
async def test_leaving_the_human_states_clears_the_queue_fields(session: AsyncSession, wanted: str) -> None:
    conversation = await conversation_in(session, conv.OPEN)
    conv.raise_to_crisis(conversation)
    await conv.transition(session, conversation, wanted, actor="system", reason="test", at=LATER)
    assert (conversation.waiting_since, conversation.queue_reason, conversation.assignee_id) == (None, None, None)
    if wanted == conv.RESOLVED:  # a closed talk starts the next one without the old flag
        assert (conversation.risk, conversation.crisis, conversation.priority) == (None, False, 0)
    else:  # blocked keeps the flag until the conversation goes back to the bot (follow again)
        assert (conversation.risk, conversation.crisis) == (conv.CRISIS, True)


async def test_back_to_the_bot_starts_without_the_old_risk(session: AsyncSession) -> None:
    conversation = await conversation_in(session, conv.RESOLVED)
    conv.raise_risk(conversation, conv.CONCERN, "hopelessness")
    await conv.transition(session, conversation, conv.BOT, actor="user", reason="new_message", at=LATER)
    assert (conversation.risk, conversation.risk_reason, conversation.priority) == (None, None, 0)
