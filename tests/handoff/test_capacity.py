"""The capacity rule (domain/capacity.py, R5): when a new user hears "all busy", and when a counsellor may take one
more conversation.

Two limits hold at once: YCC_LINES (how many conversations the service answers at a time) and each counsellor's
`max_chats`, counted over the counsellors signed in now. The pure parts are tested as functions; the counting on
an in-memory database.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain import capacity
from handoff.domain import conversations as conv
from handoff.store.models import ConsoleSession, Conversation, User
from handoff.store.types import utcnow
from handoff.store.values import Role
from tests.handoff.memory_db import conversation_in, memory_session  # noqa: F401  (the `session` fixture)

IDLE = 600  # seconds a console session counts as signed in
_n = count(1)


def _user(max_chats: int = 3, role: str = Role.COUNSELLOR, user_id: int | None = None) -> User:
    n = next(_n)
    return User(id=user_id, name=f"soudan_{n}", role=role, password_hash="x", max_chats=max_chats, disabled=False)


# ---- the rule as functions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("held", "max_chats", "room"), [(0, 1, True), (2, 3, True), (3, 3, False), (4, 3, False)])
def test_a_counsellor_may_take_one_more_only_below_their_own_limit(held: int, max_chats: int, room: bool) -> None:
    assert capacity.has_room(held, max_chats) is room


def test_with_nobody_signed_in_only_the_service_lines_count() -> None:
    assert capacity.free_lines(3, {}, []) == 3
    assert capacity.free_lines(3, {1: 2}, []) == 1
    assert capacity.free_lines(3, {1: 2, 2: 1}, []) == 0  # the user is told all lines are busy


def test_the_counsellors_on_duty_can_make_it_fewer_than_the_service_lines() -> None:
    a, b = _user(max_chats=2, user_id=1), _user(max_chats=3, user_id=2)
    assert capacity.free_lines(10, {1: 2, 2: 1}, [(a, 2), (b, 1)]) == 2  # a is full, b has two more
    assert capacity.free_lines(4, {1: 2, 2: 1}, [(a, 2), (b, 1)]) == 1  # the lines are the tighter limit


def test_a_counsellor_over_their_limit_takes_nothing_from_the_others_room() -> None:
    a, b = _user(max_chats=1, user_id=1), _user(max_chats=3, user_id=2)
    assert capacity.free_lines(10, {1: 3}, [(a, 3), (b, 0)]) == 3  # a's two extra chats count 0, not -2


def test_chats_of_someone_who_signed_off_still_fill_the_service_lines() -> None:
    on_duty = _user(max_chats=3, user_id=2)
    assert capacity.free_lines(3, {1: 2}, [(on_duty, 0)]) == 1


# ---- counted from the database ----------------------------------------------------------------------------------


async def _signed_in(session: AsyncSession, user: User, *, seen_ago: float = 0, second_factor: bool = True,
                     revoked: bool = False) -> None:
    session.add(user)
    await session.flush()
    session.add(ConsoleSession(id=f"s{next(_n)}", user_id=user.id, csrf_token="t", second_factor_done=second_factor,
                               revoked=revoked, last_seen_at=utcnow() - timedelta(seconds=seen_ago)))
    await session.flush()


async def _holding(session: AsyncSession, user: User | None, status: str = conv.OPEN) -> Conversation:
    conversation = await conversation_in(session, status, user="U" + str(next(_n)).rjust(32, "0"))
    conversation.assignee = user
    await session.flush()
    return conversation


async def test_only_open_conversations_someone_holds_are_counted(session: AsyncSession) -> None:
    a, b = _user(), _user()
    session.add_all([a, b])
    await session.flush()
    await _holding(session, a)
    await _holding(session, a)
    await _holding(session, b)
    await _holding(session, None, conv.QUEUED)  # waiting: nobody's
    await _holding(session, b, conv.RESOLVED)  # closed: no longer a line
    assert await capacity.open_chats(session) == {a.id: 2, b.id: 1}
    assert [await capacity.open_chats_of(session, u.id) for u in (a, b)] == [2, 1]


async def test_on_duty_means_a_counsellor_signed_in_with_the_second_factor_lately(session: AsyncSession) -> None:
    here = _user()
    await _signed_in(session, here)
    await _signed_in(session, _user(), seen_ago=IDLE + 60)  # left the console open and went home
    await _signed_in(session, _user(), second_factor=False)  # password only
    await _signed_in(session, _user(), revoked=True)  # logged out
    # only the counsellor role counts as on duty, though a supervisor may be assigned chats (console/actions.py)
    await _signed_in(session, _user(role=Role.SUPERVISOR))
    disabled = _user()
    await _signed_in(session, disabled)
    disabled.disabled = True
    await session.flush()
    held = {here.id: 1}
    assert [(u.id, n) for u, n in await capacity.on_duty(session, IDLE, held)] == [(here.id, 1)]


async def test_all_busy_when_the_service_lines_are_taken(session: AsyncSession) -> None:
    lines = capacity.Lines(lines=2, idle_seconds=IDLE)
    counsellor = _user(max_chats=5)
    session.add(counsellor)
    await _holding(session, counsellor)
    assert await lines.all_busy(session) is False
    await _holding(session, counsellor)
    assert await lines.all_busy(session) is True


async def test_all_busy_when_everyone_signed_in_is_full_though_lines_are_free(session: AsyncSession) -> None:
    lines = capacity.Lines(lines=10, idle_seconds=IDLE)
    counsellor = _user(max_chats=2)
    await _signed_in(session, counsellor)
    await _holding(session, counsellor)
    assert await lines.all_busy(session) is False
    await _holding(session, counsellor)
    assert await lines.all_busy(session) is True


async def test_the_service_lines_never_stop_a_counsellor_with_room_from_claiming(session: AsyncSession) -> None:
    """The two limits answer different questions: YCC_LINES what new users are told, max_chats what one person may
    hold. A counsellor who takes one more answers a waiting user sooner than promised."""
    lines = capacity.Lines(lines=1, idle_seconds=IDLE)
    counsellor = _user(max_chats=3)
    await _signed_in(session, counsellor)
    await _holding(session, counsellor)
    assert await lines.all_busy(session) is True
    assert capacity.has_room(await capacity.open_chats_of(session, counsellor.id), counsellor.max_chats) is True
