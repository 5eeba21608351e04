"""The three risk levels end to end through the router (issue 13), in and out of hours, in every conversation state.

The screen is a stand-in that returns the level a test asks for, so these tests pin what each level does (reply,
queue, alert, case, banner data) and not the lexicon's wording, which has its own tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from console.serialize import conversations_json
from handoff.domain import conversations as conv
from handoff.domain.safety import CONCERN, CRISIS, EMERGENCY_OTHER, NO_CRISIS, SafetyResult
from handoff.pipeline.inbox import store_events
from handoff.settings import normalise_database_url
from handoff.store.migrate import upgrade
from handoff.store.models import Conversation
from tests.support.databases import execute, rows
from tests.support.inprocess import InProcess, in_process, text_event

IN_HOURS = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # Wednesday 14:00 in Tokyo
OFF_HOURS = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # Wednesday 22:00 in Tokyo
CATEGORY = {CRISIS: "suicide", EMERGENCY_OTHER: "not_breathing", CONCERN: "hopelessness"}
STATES = ("bot", "queued", "open", "resolved", "blocked")


class LevelScreen:
    """A safety screen that flags a text spelt like a level ("crisis", "emergency_other", "concern")."""

    def screen(self, text: str) -> SafetyResult:
        if text in CATEGORY:
            return SafetyResult(text, CATEGORY[text], text)
        return NO_CRISIS


def _event(user: str, text: str, n: int, at: datetime) -> dict[str, Any]:
    event = text_event(user, text, n)
    event["timestamp"] = int(at.timestamp() * 1000)
    return event


def _run(db_url: str, scenario: Callable[[InProcess], Awaitable[Any]]) -> Any:
    url = normalise_database_url(db_url)
    upgrade(url)

    async def run() -> Any:
        async with in_process(url) as worker:
            worker.inbox.router.safety = LevelScreen()  # type: ignore[assignment]
            return await scenario(worker)

    return asyncio.run(run())


async def _say(worker: InProcess, user: str, text: str, n: int, at: datetime) -> None:
    await store_events(worker.res.db, [_event(user, text, n, at)])
    await worker.inbox.drain(user)


def _put_in_state(db_url: str, user: str, state: str, at: datetime) -> None:
    """The user's conversation moved to `state` as the console or an unfollow would leave it."""
    waiting = at if state in ("queued", "open") else None
    execute(
        db_url,
        "UPDATE conversations SET status = :state, waiting_since = :waiting "
        "WHERE contact_id = (SELECT id FROM contacts WHERE line_user_id = :user)",
        state=state, waiting=waiting, user=user,
    )


def _system_replies(db_url: str) -> list[str]:
    return [r["text"] for r in rows(db_url, "SELECT text FROM messages WHERE sender = 'system' ORDER BY id")]


async def _api_view(worker: InProcess) -> dict[str, Any]:
    async with worker.res.db.session() as session:
        conversation = (await session.scalars(select(Conversation))).unique().one()
        return (await conversations_json(session, [conversation], 60, with_suggestion=False))[0]


def _flag_in_state(db_url: str, level: str, state: str, at: datetime) -> tuple[dict[str, Any], InProcess]:
    user = "U" + "1" * 32

    async def scenario(worker: InProcess) -> tuple[dict[str, Any], InProcess]:
        await _say(worker, user, "こんにちは", 1, at)  # an ordinary first message: the bot answers
        _put_in_state(db_url, user, state, at)
        await _say(worker, user, level, 2, at)
        return await _api_view(worker), worker

    return _run(db_url, scenario)


@pytest.mark.parametrize("when", [IN_HOURS, OFF_HOURS], ids=["in_hours", "off_hours"])
@pytest.mark.parametrize("state", STATES)
def test_crisis_gets_110_119_and_24h_lines_opens_a_case_and_alerts(sqlite_url: str, state: str, when: datetime) -> None:
    view, worker = _flag_in_state(sqlite_url, CRISIS, state, when)
    reply = _system_replies(sqlite_url)[-1]
    assert "110" in reply and "119" in reply and "0120-0-78310" in reply
    if when is OFF_HOURS:
        assert "11月26日" in reply  # when a counsellor will read it
    assert worker.rasa.asked == ["こんにちは"]  # the flagged text never reached the bot
    assert view["status"] == ("open" if state == "open" else "queued")
    assert (view["risk"], view["risk_reason"], view["risk_level"], view["crisis"]) == (CRISIS, "suicide", CRISIS, True)
    assert view["priority"] == conv.RISK_PRIORITY[CRISIS]
    assert rows(sqlite_url, "SELECT type FROM alerts") == [{"type": "crisis"}]
    assert rows(sqlite_url, "SELECT level, category, source, status FROM escalations") == [
        {"level": CRISIS, "category": "suicide", "source": "lexicon", "status": "open"}]
    assert view["escalation_id"] == rows(sqlite_url, "SELECT id FROM escalations")[0]["id"]  # the chat's case link
    flagged = rows(sqlite_url, "SELECT risk_level, risk_category, crisis FROM messages WHERE text = 'crisis'")
    assert flagged == [{"risk_level": CRISIS, "risk_category": "suicide", "crisis": 1}]


@pytest.mark.parametrize("when", [IN_HOURS, OFF_HOURS], ids=["in_hours", "off_hours"])
@pytest.mark.parametrize("state", STATES)
def test_someone_else_in_danger_gets_only_119_then_crisis_handling(sqlite_url: str, state: str, when: datetime) -> None:
    view, worker = _flag_in_state(sqlite_url, EMERGENCY_OTHER, state, when)
    reply = _system_replies(sqlite_url)[-1]
    assert "119" in reply and "110" not in reply
    assert len(reply.splitlines()) <= 3
    assert worker.rasa.asked == ["こんにちは"]
    assert view["status"] == ("open" if state == "open" else "queued")
    assert (view["risk"], view["risk_reason"], view["risk_level"], view["crisis"]) == (
        CRISIS, "not_breathing", EMERGENCY_OTHER, True)
    assert view["priority"] == conv.RISK_PRIORITY[EMERGENCY_OTHER]
    assert rows(sqlite_url, "SELECT type FROM alerts") == [{"type": "emergency_other"}]
    assert rows(sqlite_url, "SELECT level, category FROM escalations") == [
        {"level": EMERGENCY_OTHER, "category": "not_breathing"}]


@pytest.mark.parametrize("when", [IN_HOURS, OFF_HOURS], ids=["in_hours", "off_hours"])
@pytest.mark.parametrize("state", STATES)
def test_concern_gets_no_crisis_text_but_a_counsellor_banner_and_alert(
    sqlite_url: str, state: str, when: datetime
) -> None:
    view, worker = _flag_in_state(sqlite_url, CONCERN, state, when)
    replies = _system_replies(sqlite_url)
    assert all("110" not in r and "119" not in r for r in replies)
    held = state in ("queued", "open")
    if held:  # a counsellor has it (or will): routed as usual, no automatic text from this flag
        assert worker.res.content.reply("concern_queued") not in replies
    elif when is IN_HOURS:
        assert replies[-1] == worker.res.content.reply("concern_queued")
    else:  # the ordinary off-hours reply, which carries the 24-hour lines
        assert "受付時間外" in replies[-1] and "0120-0-78310" in replies[-1]
    assert worker.rasa.asked == ["こんにちは"]
    assert view["status"] == ("open" if state == "open" else "queued")
    assert (view["risk"], view["risk_reason"], view["risk_level"], view["crisis"]) == (
        CONCERN, "hopelessness", CONCERN, False)
    assert view["priority"] == conv.RISK_PRIORITY[CONCERN]
    assert rows(sqlite_url, "SELECT type FROM alerts") == [{"type": "concern"}]
    assert rows(sqlite_url, "SELECT id FROM escalations") == []  # no crisis case for a concern
    assert view["escalation_id"] is None
    flagged = rows(sqlite_url, "SELECT risk_level, risk_category, crisis FROM messages WHERE text = 'concern'")
    assert flagged == [{"risk_level": CONCERN, "risk_category": "hopelessness", "crisis": 0}]


def test_a_level_never_lowers_a_higher_one_and_a_second_flag_does_not_page_again(sqlite_url: str) -> None:
    user = "U" + "2" * 32

    async def scenario(worker: InProcess) -> dict[str, Any]:
        await _say(worker, user, CRISIS, 1, IN_HOURS)
        await _say(worker, user, EMERGENCY_OTHER, 2, IN_HOURS)
        await _say(worker, user, CONCERN, 3, IN_HOURS)
        return await _api_view(worker)

    view = _run(sqlite_url, scenario)
    assert (view["risk"], view["risk_reason"], view["risk_level"]) == (CRISIS, "suicide", CRISIS)
    assert rows(sqlite_url, "SELECT type FROM alerts") == [{"type": "crisis"}]
    assert rows(sqlite_url, "SELECT level FROM escalations") == [{"level": CRISIS}]


def test_someone_elses_danger_then_the_writers_own_raises_the_case_to_crisis(sqlite_url: str) -> None:
    user = "U" + "3" * 32

    async def scenario(worker: InProcess) -> dict[str, Any]:
        await _say(worker, user, CONCERN, 1, IN_HOURS)
        await _say(worker, user, EMERGENCY_OTHER, 2, IN_HOURS)
        await _say(worker, user, CRISIS, 3, IN_HOURS)
        return await _api_view(worker)

    view = _run(sqlite_url, scenario)
    assert (view["risk"], view["risk_level"], view["priority"]) == (CRISIS, CRISIS, conv.RISK_PRIORITY[CRISIS])
    assert [r["type"] for r in rows(sqlite_url, "SELECT type FROM alerts ORDER BY id")] == [
        "concern", "emergency_other", "crisis"]
    assert rows(sqlite_url, "SELECT level, category FROM escalations") == [{"level": CRISIS, "category": "suicide"}]


def test_queue_order_is_crisis_then_someone_else_then_concern_then_waiting_time(db_url: str) -> None:
    users = {name: "U" + str(i) * 32 for i, name in enumerate(("plain", "concern", "emergency", "crisis"), start=4)}
    minutes = {"plain": 0, "concern": 1, "emergency": 2, "crisis": 3}  # the plain one has waited longest

    async def scenario(worker: InProcess) -> list[tuple[str, int]]:
        for n, (name, user) in enumerate(users.items()):
            at = IN_HOURS.replace(minute=minutes[name])
            await _say(worker, user, "こんにちは", 10 + n, at)
            text = {"plain": "こんにちは", "concern": CONCERN, "emergency": EMERGENCY_OTHER, "crisis": CRISIS}[name]
            if name == "plain":
                _put_in_state(db_url, user, "queued", at)
            else:
                await _say(worker, user, text, 20 + n, at)
        async with worker.res.db.session() as session:
            ordered = (await session.scalars(
                select(Conversation).where(Conversation.status == conv.QUEUED).order_by(*conv.QUEUE_ORDER)
            )).unique().all()
            by_user = {c.contact.line_user_id: c for c in ordered}
            return [(c.contact.line_user_id, await conv.queue_position(session, by_user[c.contact.line_user_id]))
                    for c in ordered]

    ordered = _run(db_url, scenario)
    assert ordered == [(users[name], i) for i, name in enumerate(("crisis", "emergency", "concern", "plain"), 1)]
