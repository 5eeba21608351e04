"""Outbox against LINE's failure modes: reply then push, retry keys, 409, 429 and 5xx (R16)."""

from __future__ import annotations

from tests.support.databases import rows
from tests.support.receiver import Receiver
from tests.support.servers import Stack, wait_for
from tests.support.stub_rasa import StubRasa

USER = "U" + "d" * 32


def _pushes(stack: Stack) -> list[dict]:
    return [r for r in stack.requests() if r["path"].endswith("/message/push")]


def test_failed_reply_falls_back_to_push_with_a_retry_key(stack: Stack, rasa: StubRasa) -> None:
    stack.faults("reply", [{"status": 500}])
    stack.send(USER, {"type": "text", "text": "返事して"})
    delivered = stack.wait_delivered(USER, 1)
    assert delivered[0]["via"] == "push" and delivered[0]["retryKey"]
    attempts = rows(stack.database_url, "SELECT method, status_code, request_id FROM delivery_attempts ORDER BY id")
    assert [(a["method"], a["status_code"]) for a in attempts] == [("reply", 500), ("push", 200)]
    assert all(a["request_id"] for a in attempts)  # LINE's x-line-request-id is kept for every call


def test_push_5xx_and_rate_limit_429_are_retried_with_the_same_key_and_delivered_once(
    stack: Stack, rasa: StubRasa
) -> None:
    stack.faults("reply", [{"status": 400, "message": "Invalid reply token"}])
    stack.faults("push", [{"status": 500}, {"status": 429, "message": "Too many requests"}, {"status": 503}])
    stack.send(USER, {"type": "text", "text": "届く？"})
    delivered = stack.wait_delivered(USER, 1, timeout=30)
    assert len(delivered) == 1
    keys = {p["retry_key"] for p in _pushes(stack)}
    assert len(_pushes(stack)) == 4 and len(keys) == 1
    assert rows(stack.database_url, "SELECT status, attempts FROM outbox")[0] == {"status": "sent", "attempts": 4}
    assert rows(stack.database_url, "SELECT delivery FROM messages WHERE direction='out'")[0]["delivery"] == "sent"


def test_409_for_an_already_accepted_retry_key_counts_as_delivered(stack: Stack, rasa: StubRasa) -> None:
    stack.faults("reply", [{"status": 400}])
    stack.faults("push", [{"status": 409}])
    stack.send(USER, {"type": "text", "text": "二重？"})
    wait_for(lambda: rows(stack.database_url, "SELECT status FROM outbox")[0]["status"] != "pending")
    assert rows(stack.database_url, "SELECT status, attempts FROM outbox")[0] == {"status": "sent", "attempts": 1}


def test_monthly_quota_429_alerts_staff_and_keeps_the_message(stack: Stack, rasa: StubRasa, alerts: Receiver) -> None:
    stack.faults("reply", [{"status": 400}])
    stack.faults("push", [{"status": 429, "message": "You have reached your monthly limit."}])
    stack.send(USER, {"type": "text", "text": "上限"})
    body = alerts.wait(1)[0]
    assert body["type"] == "line_quota" and "上限" not in str(body)
    wait_for(lambda: rows(stack.database_url, "SELECT last_status FROM outbox")[0]["last_status"] == 429)
    outbox = rows(stack.database_url, "SELECT status, last_status FROM outbox")[0]
    assert outbox == {"status": "pending", "last_status": 429}  # kept, tried again later


def test_client_error_is_marked_failed_and_visible(stack: Stack, rasa: StubRasa) -> None:
    stack.faults("reply", [{"status": 400}])
    stack.faults("push", [{"status": 400, "message": "The request body has 1 error(s)"}])
    stack.send(USER, {"type": "text", "text": "失敗"})
    wait_for(lambda: rows(stack.database_url, "SELECT status FROM outbox")[0]["status"] != "pending")
    assert rows(stack.database_url, "SELECT delivery FROM messages WHERE direction='out'")[0]["delivery"] == "failed"
