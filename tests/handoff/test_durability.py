"""Nothing is lost: redeliveries, a killed gateway, a stopped Rasa (R16, R25)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.databases import rows
from tests.support.servers import ROOT, Stack, start_stack, wait_for
from tests.support.stub_rasa import StubRasa

USER = "U" + "b" * 32


def test_redelivered_and_duplicated_events_are_processed_once(stack: Stack, rasa: StubRasa) -> None:
    sent = stack.send(USER, {"type": "text", "text": "一回だけ"})
    event_id = sent["event"]["webhookEventId"]
    stack.wait_delivered(USER, 1)
    for _ in range(3):
        again = httpx.post(f"{stack.fake.url}/_fake/redeliver/{event_id}", timeout=10).json()
        assert again["webhook_status"] == 200
    time.sleep(1.0)
    assert len(stack.delivered(USER)) == 1
    assert len(rasa.received) == 1
    assert rows(stack.database_url, "SELECT count(*) AS n FROM inbox")[0]["n"] == 1
    assert rows(stack.database_url, "SELECT count(*) AS n FROM messages WHERE direction='in'")[0]["n"] == 1


def test_gateway_killed_after_the_200_loses_nothing(stack: Stack, rasa: StubRasa) -> None:
    rasa.delay = 3.0  # the event is acknowledged and stored, but still being worked on when the kill comes
    sent = stack.send(USER, {"type": "text", "text": "落ちても大丈夫？"})
    assert sent["webhook_status"] == 200
    stack.gateway.kill()
    assert rows(stack.database_url, "SELECT status FROM inbox")[0]["status"] in ("pending", "bot")
    rasa.delay = 0.0
    stack.gateway.start()
    delivered = stack.wait_delivered(USER, 1)
    assert delivered[0]["text"] == "bot:落ちても大丈夫？"
    assert rows(stack.database_url, "SELECT status FROM inbox")[0]["status"] == "done"
    # The reply token was a minute old at most, so it may have been used; either way exactly one answer.
    time.sleep(0.5)
    assert len(stack.delivered(USER)) == 1


def _worker_pid(stack: Stack) -> int | None:
    """`ycc serve`'s child process (YCC_WORKER=process, the default)."""
    assert stack.gateway.proc is not None
    pid = stack.gateway.proc.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(children[0]) if children else None


@pytest.fixture
def process_stack(tmp_path: Path, db_url: str, rasa: StubRasa) -> Iterator[Stack]:
    """YCC_WORKER=process on both databases (auto picks it only for PostgreSQL)."""
    stack = start_stack(tmp_path, db_url, YCC_RASA_URL=rasa.url, YCC_WORKER="process")
    yield stack
    stack.stop()


def test_a_killed_worker_process_is_restarted_and_nothing_is_lost(process_stack: Stack, rasa: StubRasa) -> None:
    stack = process_stack
    rasa.delay = 3.0
    stack.send(USER, {"type": "text", "text": "ワーカーが落ちたら？"})
    wait_for(lambda: rows(stack.database_url, "SELECT status FROM inbox")[0]["status"] == "bot", what="step one")
    first = _worker_pid(stack)
    assert first is not None
    os.kill(first, signal.SIGKILL)
    # With the worker gone, LINE still gets its 200 at once and the event is stored.
    later = stack.send(USER, {"type": "text", "text": "その間のメッセージ"})
    assert later["webhook_status"] == 200
    rasa.delay = 0.0
    delivered = stack.wait_delivered(USER, 2, timeout=20)
    assert [m["text"] for m in delivered] == ["bot:ワーカーが落ちたら？", "bot:その間のメッセージ"]
    second = _worker_pid(stack)
    assert second is not None and second != first
    ready = httpx.get(f"{stack.gateway.url}/readyz", timeout=10).json()
    assert ready["checks"]["worker"] is True


STICKER_REPLY = yaml.safe_load((ROOT / "data" / "replies.yml").read_text(encoding="utf-8"))["sticker"]


@pytest.mark.parametrize(
    ("event", "answer"),
    [
        ({"type": "text", "text": "送信中に落ちたら？"}, "bot:送信中に落ちたら？"),  # the bot's answer (step two)
        ({"type": "sticker", "packageId": "446", "stickerId": "1988"}, STICKER_REPLY),  # a fixed reply (step one)
    ],
    ids=["bot_answer", "fixed_reply"],
)
def test_a_crash_while_the_answer_is_being_sent_is_retried_by_push_after_the_lease(
    tmp_path: Path, sqlite_url: str, rasa: StubRasa, event: dict[str, str], answer: str
) -> None:
    """Both kinds of answer are claimed in the transaction that stores them and sent right after its commit."""
    stack = start_stack(tmp_path, sqlite_url, YCC_RASA_URL=rasa.url, YCC_SEND_LEASE_SECONDS="2")
    try:
        stack.faults("reply", [{"status": 500, "delay": 3}])  # LINE is slow, and the gateway dies meanwhile
        stack.send(USER, event)
        query = "SELECT status, attempts FROM outbox"
        wait_for(lambda: rows(stack.database_url, query)[0] == {"status": "pending", "attempts": 1}, what="claim")
        time.sleep(0.5)
        stack.gateway.kill()
        stack.gateway.start()
        delivered = stack.wait_delivered(USER, 1, timeout=20)
        assert [(m["text"], m["via"]) for m in delivered] == [(answer, "push")]
        assert delivered[0]["retryKey"]
        assert rows(stack.database_url, query)[0] == {"status": "sent", "attempts": 2}
        # The reply died with the gateway (never recorded); the push came from the sender once the lease ran out.
        methods = rows(stack.database_url, "SELECT method, status_code FROM delivery_attempts ORDER BY id")
        assert methods == [{"method": "push", "status_code": 200}]
    finally:
        stack.stop()


def test_many_users_while_the_gateway_restarts_every_event_is_answered(stack: Stack, rasa: StubRasa) -> None:
    users = [f"U{i:032x}" for i in range(12)]
    for user in users[:6]:
        stack.send(user, {"type": "text", "text": "前半"})
    stack.gateway.kill()
    stack.gateway.start()
    for user in users[6:]:
        stack.send(user, {"type": "text", "text": "後半"})
    for user in users:
        stack.wait_delivered(user, 1, timeout=20)
    assert rows(stack.database_url, "SELECT count(*) AS n FROM inbox WHERE status != 'done'")[0]["n"] == 0


def test_rasa_stopped_mid_run_keeps_the_message_tells_the_user_and_queues_it(stack: Stack, rasa: StubRasa) -> None:
    stack.send(USER, {"type": "text", "text": "最初"})
    assert stack.wait_delivered(USER, 1)[0]["text"] == "bot:最初"
    rasa.stop()
    stack.send(USER, {"type": "text", "text": "ボットが止まっている間"})
    delivered = stack.wait_delivered(USER, 2)
    assert "受け取りました" in delivered[1]["text"]
    conversation = rows(stack.database_url, "SELECT status, queue_reason FROM conversations")[0]
    assert conversation == {"status": "queued", "queue_reason": "bot_unavailable"}
    texts = [r["text"] for r in rows(stack.database_url, "SELECT text FROM messages WHERE direction='in' ORDER BY id")]
    assert texts == ["最初", "ボットが止まっている間"]
    # Rasa comes back: a new user's messages flow to the bot again (after the breaker's short cooldown).
    rasa.start()
    time.sleep(5.5)
    other = "U" + "c" * 32
    stack.send(other, {"type": "text", "text": "戻った？"})
    assert stack.wait_delivered(other, 1)[0]["text"] == "bot:戻った？"


def test_per_user_order_is_kept(stack: Stack, rasa: StubRasa) -> None:
    rasa.delay = 0.2
    for i in range(5):
        stack.send(USER, {"type": "text", "text": f"{i}"})
    stack.wait_delivered(USER, 5, timeout=20)
    assert [b["message"] for b in rasa.received] == ["0", "1", "2", "3", "4"]
    assert [m["text"] for m in stack.delivered(USER)] == [f"bot:{i}" for i in range(5)]
