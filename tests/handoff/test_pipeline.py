"""One LINE event through the real gateway: routing by state, fixed replies, Rasa answers (R12, R16, R17)."""

from __future__ import annotations

import time

from tests.support.databases import rows
from tests.support.receiver import Receiver
from tests.support.servers import Stack
from tests.support.stub_rasa import StubRasa

USER = "U" + "a" * 32


def _conversation(stack: Stack) -> dict:
    return rows(stack.database_url, "SELECT * FROM conversations")[0]


def _directions(stack: Stack) -> list[str]:
    """The conversation as the console lists it."""
    return [r["direction"] for r in rows(stack.database_url, "SELECT direction FROM messages ORDER BY event_at, id")]


def test_text_goes_to_rasa_and_its_answer_reaches_the_user_with_quick_replies(any_stack: Stack, rasa: StubRasa) -> None:
    any_stack.send(USER, {"type": "text", "text": "こんにちは🌱"})
    delivered = any_stack.wait_delivered(USER, 1)
    assert delivered[0]["text"] == "bot:こんにちは🌱"
    assert delivered[0]["via"] == "reply"
    assert [q["label"] for q in delivered[0]["quickReply"]] == ["はい"] or delivered[0]["quickReply"]
    body = rasa.received[0]
    assert body["sender"].startswith("c-") and USER not in body["sender"]  # Rasa never sees the LINE id
    assert body["metadata"]["event"] == "message" and body["metadata"]["at"].endswith("+09:00")
    stored = rows(any_stack.database_url, "SELECT direction, sender, text FROM messages ORDER BY id")
    assert stored == [
        {"direction": "in", "sender": "user", "text": "こんにちは🌱"},
        {"direction": "out", "sender": "bot", "text": "bot:こんにちは🌱"},
    ]
    # A quick answer needs no typing dots (they would vanish at once); a slow one gets them, see below.
    assert not any(r["path"].endswith("/chat/loading/start") for r in any_stack.requests())


def test_lines_typing_dots_show_while_a_slow_bot_thinks(stack: Stack, rasa: StubRasa) -> None:
    rasa.delay = 1.5
    stack.send(USER, {"type": "text", "text": "ちょっと長い相談"})
    time.sleep(0.9)
    timeline = stack.http.get(f"{stack.fake.url}/_fake/users/{USER}/timeline").json()
    assert timeline["loading"] is True
    delivered = stack.wait_delivered(USER, 1)
    assert delivered[0]["text"] == "bot:ちょっと長い相談" and delivered[0]["via"] == "reply"
    loading = [r for r in stack.requests() if r["path"].endswith("/chat/loading/start")]
    assert len(loading) == 1
    assert stack.http.get(f"{stack.fake.url}/_fake/users/{USER}/timeline").json()["loading"] is False


def test_quick_reply_tap_sends_the_payload_to_rasa(stack: Stack, rasa: StubRasa) -> None:
    stack.send(USER, {"type": "postback", "data": '/consent{"granted": true}', "displayText": "同意する"})
    stack.wait_delivered(USER, 1)
    assert rasa.received[0]["message"] == '/consent{"granted": true}'
    assert rasa.received[0]["metadata"]["event"] == "postback"


def test_long_message_and_emoji_are_kept_whole(stack: Stack, rasa: StubRasa) -> None:
    text = ("家族のこと😢" * 1000)[:5000]
    stack.send(USER, {"type": "text", "text": text})
    stack.wait_delivered(USER, 1)
    assert rasa.received[0]["message"] == text
    assert rows(stack.database_url, "SELECT text FROM messages WHERE direction='in'")[0]["text"] == text


def test_images_are_refused_in_japanese_and_never_downloaded(stack: Stack, rasa: StubRasa) -> None:
    for kind in ("image", "video", "audio", "file"):
        stack.send(USER, {"type": kind})
    delivered = stack.wait_delivered(USER, 4)
    assert all("受け取れません" in m["text"] or "受け取ることができません" in m["text"] for m in delivered), delivered
    assert rasa.received == []
    assert not [r for r in stack.requests() if "/content" in r["path"]]
    assert {r["text"] for r in rows(stack.database_url, "SELECT text FROM messages WHERE direction='in'")} == {None}
    # The console shows each refusal after what it answers (messages are ordered by event time, then id).
    assert _directions(stack) == ["in", "out"] * 4


def test_follow_greets_through_rasa(stack: Stack, rasa: StubRasa) -> None:
    stack.send(USER, {"type": "follow"})
    stack.wait_delivered(USER, 1)
    assert rasa.received[0]["message"] == "/follow"
    assert rasa.received[0]["metadata"]["event"] == "follow"


def test_unfollow_blocks_the_conversation_and_records_it(stack: Stack, rasa: StubRasa) -> None:
    stack.send(USER, {"type": "text", "text": "やあ"})
    stack.wait_delivered(USER, 1)
    stack.send(USER, {"type": "unfollow"})
    _wait(lambda: _conversation(stack)["status"] == "blocked")
    changes = rows(stack.database_url, "SELECT from_status, to_status, reason FROM status_changes")
    assert {"from_status": "bot", "to_status": "blocked", "reason": "unfollow"} in changes
    assert rows(stack.database_url, "SELECT following FROM contacts")[0]["following"] in (0, False)


def test_group_invitation_makes_the_bot_leave(stack: Stack) -> None:
    import httpx

    group_event = {
        "type": "join",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "group", "groupId": "C" + "1" * 32},
        "replyToken": "x" * 32,
        "webhookEventId": "01JOINJOINJOINJOINJOINJOIN",
        "deliveryContext": {"isRedelivery": False},
    }
    httpx.post(f"{stack.fake.url}/_fake/webhook/raw", json={"events": [group_event]}).raise_for_status()
    _wait(lambda: any("/group/" in r["path"] and r["path"].endswith("/leave") for r in stack.requests()))
    assert rows(stack.database_url, "SELECT count(*) AS n FROM contacts")[0]["n"] == 0


def test_crisis_text_gets_hotlines_at_once_alerts_staff_and_skips_rasa(
    any_stack: Stack, rasa: StubRasa, alerts: Receiver
) -> None:
    any_stack.send(USER, {"type": "text", "text": "もう ｼﾆﾀｲ"})
    delivered = any_stack.wait_delivered(USER, 1)
    assert "110" in delivered[0]["text"] and "119" in delivered[0]["text"] and "0120-0-78310" in delivered[0]["text"]
    assert rasa.received == []
    conversation = _conversation(any_stack)
    assert conversation["status"] == "queued" and conversation["crisis"] in (1, True)
    assert conversation["priority"] >= 100
    assert rows(any_stack.database_url, "SELECT status, source FROM escalations") == [
        {"status": "open", "source": "lexicon"}
    ]
    body = alerts.wait(1)[0]
    assert body["type"] == "crisis" and body["conversation_id"] == conversation["id"]
    assert set(body) == {"type", "conversation_id", "at", "in_hours"}  # never the text (R14)
    assert "ｼﾆﾀｲ" not in any_stack.gateway.log() and "シニタイ" not in any_stack.gateway.log()
    assert _directions(any_stack) == ["in", "out"]  # the hotlines come after the words they answer


def test_queued_conversation_is_not_sent_to_rasa(stack: Stack, rasa: StubRasa) -> None:
    stack.send(USER, {"type": "text", "text": "しにたい"})
    stack.wait_delivered(USER, 1)
    stack.send(USER, {"type": "text", "text": "聞いてほしい"})
    _wait(lambda: len(rows(stack.database_url, "SELECT id FROM messages WHERE direction='in'")) == 2)
    time.sleep(0.5)
    assert rasa.received == []


def _wait(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
