"""Rasa's breaker: one slow turn is not an outage, and users queued during one go back (R16)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.domain import conversations as conv
from handoff.pipeline.rasa import Breaker
from tests.support.databases import execute, rows
from tests.support.servers import Stack, always_open_data, start_stack, wait_for
from tests.support.stub_rasa import StubRasa


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_only_after_failures_in_a_row_and_lets_one_probe_through() -> None:
    clock = Clock()
    breaker = Breaker(threshold=3, cooldown=5.0, clock=clock)
    breaker.failure()
    assert breaker.allow() and not breaker.open  # one slow turn: the next user still goes to Rasa
    breaker.success()
    breaker.failure()
    breaker.failure()
    assert breaker.allow()  # the count restarted after the answer in between
    breaker.failure()
    assert breaker.open and not breaker.allow()
    clock.now += 5.0
    assert breaker.probe_due()
    assert breaker.allow()  # half-open: one request is the probe …
    assert not breaker.allow()  # … and the others are still refused
    breaker.failure()  # the probe failed: another cooldown
    assert not breaker.allow()
    clock.now += 5.0
    assert breaker.allow()
    breaker.success()
    assert not breaker.open and breaker.allow() and breaker.take_recovered() and not breaker.take_recovered()


def test_the_move_back_to_the_bot_is_only_for_rasa_answering_again() -> None:
    assert (conv.QUEUED, conv.BOT) in conv.TRANSITIONS
    assert conv.ONLY_FOR[(conv.QUEUED, conv.BOT)] == "bot_available"


@pytest.fixture
def slow_stack(tmp_path: Path, sqlite_url: str, rasa: StubRasa) -> Iterator[Stack]:
    stack = start_stack(
        tmp_path, sqlite_url, YCC_RASA_URL=rasa.url, YCC_RASA_TIMEOUT="1", YCC_RASA_BREAKER_COOLDOWN="1",
        YCC_DATA_DIR=always_open_data(tmp_path),  # the bot answers only in hours; this is not about hours
    )
    yield stack
    stack.stop()


def test_one_turn_slower_than_the_timeout_leaves_the_next_user_with_the_bot(slow_stack: Stack, rasa: StubRasa) -> None:
    stack = slow_stack
    rasa.delay = 1.5
    stack.send("U" + "1" * 32, {"type": "text", "text": "遅い返事"})
    assert "受け取りました" in stack.wait_delivered("U" + "1" * 32, 1)[0]["text"]
    rasa.delay = 0.0
    other = "U" + "2" * 32
    stack.send(other, {"type": "text", "text": "次の人"})
    assert stack.wait_delivered(other, 1)[0]["text"] == "bot:次の人"
    statuses = [r["status"] for r in rows(stack.database_url, "SELECT status FROM conversations ORDER BY id")]
    assert statuses == ["queued", "bot"]


def test_when_rasa_answers_again_unclaimed_conversations_queued_by_the_outage_go_back_to_the_bot(
    slow_stack: Stack, rasa: StubRasa
) -> None:
    stack = slow_stack
    rasa.stop()
    users = [f"U{i:032x}" for i in range(4)]
    for user in users:
        stack.send(user, {"type": "text", "text": "待っている間"})
        assert "受け取りました" in stack.wait_delivered(user, 1)[0]["text"]
    # A counsellor took the last one meanwhile: that conversation stays theirs.
    execute(stack.database_url, "UPDATE conversations SET status = 'open' WHERE id = 4")
    rasa.start()
    query = "SELECT id, status FROM conversations ORDER BY id"
    wait_for(lambda: rows(stack.database_url, query)[0]["status"] == "bot", timeout=10, what="give back")
    assert [r["status"] for r in rows(stack.database_url, query)] == ["bot", "bot", "bot", "open"]
    moves = rows(stack.database_url, "SELECT actor, reason FROM status_changes WHERE from_status = 'queued' "
                 "AND to_status = 'bot'")
    assert moves == [{"actor": "system", "reason": "bot_available"}] * 3
    for user in users[:3]:  # told, since the counsellor they were promised will not read it now
        assert "もう一度送ってね" in stack.wait_delivered(user, 2)[-1]["text"]
    assert len(stack.delivered(users[3])) == 1
    stack.send(users[0], {"type": "text", "text": "もう一度"})
    assert stack.wait_delivered(users[0], 3)[-1]["text"] == "bot:もう一度"
