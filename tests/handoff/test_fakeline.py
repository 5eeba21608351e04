"""The fake LINE platform behaves like LINE where the gateway depends on it.

Each test runs the fake as a real HTTP server on 127.0.0.1 (random port) and, where events flow, a tiny webhook
receiver next to it, so signatures, headers and status codes are checked on the wire, and line-bot-sdk 3 itself
is pointed at the fake.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from linebot.v3.webhook import SignatureValidator, WebhookParser
from linebot.v3.webhooks import MessageEvent, TextMessageContent

from handoff.simulator.fakeline import new_user_id, sign
from tests.handoff.fakeline_harness import (  # noqa: F401  (fixtures are used by name)
    FIXTURES,
    ROOT,
    SECRET,
    TOKEN,
    ULID,
    Receiver,
    Running,
    free_port,
    sanic_test_mode,
    text_message,
    user_says,
)


# ------------------------------------------------------------------ signatures and event shapes
def test_signature_matches_line_bot_sdk_known_answer() -> None:
    expected = "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k="
    assert sign("channel_secret", b"bodybodybodybody") == expected
    assert SignatureValidator("channel_secret").validate("bodybodybodybody", expected)
    assert not SignatureValidator("channel_secret").validate("bodybodybodybody!", expected)


REQUIRED_TYPES = {
    "message", "follow", "unfollow", "join", "leave", "postback", "memberJoined", "memberLeft", "unsend",
    "messageEdited", "videoPlayComplete", "beacon", "accountLink", "things", "module", "activated", "deactivated",
    "botSuspended", "botResumed",
}  # fmt: skip


def test_fixtures_cover_every_event_type_line_documents() -> None:
    events = [json.loads(p.read_text(encoding="utf-8")) for p in FIXTURES.glob("*.json")]
    types = {e["type"] for e in events}
    assert REQUIRED_TYPES <= types
    messages = {e["message"]["type"] for e in events if e["type"] == "message"}
    assert messages == {"text", "image", "video", "audio", "file", "location", "sticker"}
    sources = {e["source"]["type"] for e in events if e["type"] == "message" and e["message"]["type"] == "text"}
    assert sources == {"user", "group", "room"}
    assert types - REQUIRED_TYPES - {"membership", "delivery"}, "expected one made-up unknown type"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_fixture_is_a_line_shaped_event_the_sdk_parses(path: Path) -> None:
    event = json.loads(path.read_text(encoding="utf-8"))
    assert ULID.match(event["webhookEventId"])
    assert event["deliveryContext"] == {"isRedelivery": False}
    assert event["mode"] == "active"
    assert isinstance(event["timestamp"], int) and event["timestamp"] > 10**12  # milliseconds
    if "message" in event:
        assert isinstance(event["message"]["id"], str)
    body = json.dumps({"destination": "U" + "0" * 32, "events": [event]}, ensure_ascii=False)
    parsed = WebhookParser(SECRET).parse(body, sign(SECRET, body.encode("utf-8")))
    known = event["type"] not in {"things", "sparkleAndGlitter"}
    assert (type(parsed[0]).__name__ != "UnknownEvent") == known


# ------------------------------------------------------------------ webhooks
async def test_user_text_reaches_the_webhook_signed_and_parseable(line) -> None:
    fake, receiver, client = line
    user = new_user_id()
    answer = await user_says(client, user, {"type": "text", "text": "こんにちは"})
    assert answer["webhook_status"] == 200
    [call] = receiver.calls
    signature = call["headers"]["x-line-signature"]
    assert SignatureValidator(SECRET).validate(call["body"], signature)
    [event] = WebhookParser(SECRET).parse(call["body"], signature)
    assert isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent)
    assert event.message.text == "こんにちは" and event.source.user_id == user
    assert event.reply_token and event.message.mark_as_read_token and event.message.quote_token
    raw = json.loads(call["body"])
    assert raw["destination"] == fake.bot_user_id
    assert ULID.match(raw["events"][0]["webhookEventId"])
    assert raw["events"][0]["deliveryContext"] == {"isRedelivery": False}


@pytest.mark.parametrize(
    ("spec", "content"),
    [
        ({"type": "sticker", "packageId": "446", "stickerId": "1988"}, "StickerMessageContent"),
        ({"type": "image"}, "ImageMessageContent"),
        ({"type": "video"}, "VideoMessageContent"),
        ({"type": "audio"}, "AudioMessageContent"),
        ({"type": "file", "fileName": "memo.pdf"}, "FileMessageContent"),
        ({"type": "location"}, "LocationMessageContent"),
    ],
)
async def test_every_user_message_kind_arrives_as_the_sdk_class(line, spec, content) -> None:
    _, receiver, client = line
    await user_says(client, new_user_id(), spec)
    [event] = WebhookParser(SECRET).parse(receiver.calls[0]["body"], receiver.calls[0]["headers"]["x-line-signature"])
    assert type(event.message).__name__ == content
    assert event.message.mark_as_read_token and event.reply_token


async def test_postback_and_unsend_events(line) -> None:
    _, receiver, client = line
    user = new_user_id()
    said = await user_says(client, user, text_message("やっぱりいいです"))
    tapped = await user_says(client, user, {"type": "postback", "data": "/deny", "displayText": "いいえ"})
    assert tapped["event"]["postback"] == {"data": "/deny"} and tapped["event"]["replyToken"]
    unsent = await user_says(client, user, {"type": "unsend", "messageId": said["event"]["message"]["id"]})
    assert unsent["event"]["unsend"] == {"messageId": said["event"]["message"]["id"]}
    assert "replyToken" not in unsent["event"]
    timeline = (await client.get(f"/_fake/users/{user}/timeline")).json()["timeline"]
    assert timeline[0]["unsent"] is True and timeline[1]["text"] == "いいえ"
    assert [
        type(e).__name__
        for c in receiver.calls
        for e in WebhookParser(SECRET).parse(c["body"], c["headers"]["x-line-signature"])
    ] == ["MessageEvent", "PostbackEvent", "UnsendEvent"]


async def test_events_without_reply_token_in_line_do_not_get_one(line) -> None:
    _, _, client = line
    user = new_user_id()
    followed = await user_says(client, user, {"type": "follow"})
    assert followed["event"]["replyToken"] and followed["event"]["follow"] == {"isUnblocked": False}
    unfollowed = await user_says(client, user, {"type": "unfollow"})
    assert "replyToken" not in unfollowed["event"]
    again = await user_says(client, user, {"type": "follow"})
    assert again["event"]["follow"] == {"isUnblocked": True}


async def test_failed_delivery_is_redelivered_with_same_id_only_when_asked(line) -> None:
    _, receiver, client = line
    receiver.answers = [500]
    first = await user_says(client, new_user_id(), text_message())
    assert first["webhook_status"] == 500 and len(receiver.calls) == 1
    event_id = first["event"]["webhookEventId"]
    again = (await client.post(f"/_fake/redeliver/{event_id}")).json()
    assert again["webhook_status"] == 200
    redelivered = json.loads(receiver.calls[1]["body"])["events"][0]
    assert redelivered["webhookEventId"] == event_id
    assert redelivered["deliveryContext"] == {"isRedelivery": True}
    assert (await client.post("/_fake/redeliver/01ZZZZZZZZZZZZZZZZZZZZZZZZ")).status_code == 404


async def test_raw_webhook_sends_a_bad_signature_as_given(line) -> None:
    _, receiver, client = line
    response = await client.post("/_fake/webhook/raw", json={"events": [], "signature": "bm9wZQ=="})
    assert response.status_code == 200
    assert receiver.calls[0]["headers"]["x-line-signature"] == "bm9wZQ=="
    assert not SignatureValidator(SECRET).validate(receiver.calls[0]["body"], "bm9wZQ==")


async def test_fixture_events_sent_raw_can_be_answered_like_live_ones(line) -> None:
    _, receiver, client = line
    join = json.loads((FIXTURES / "join.json").read_text(encoding="utf-8"))
    text_event = json.loads((FIXTURES / "message_text.json").read_text(encoding="utf-8"))
    assert (await client.post("/_fake/webhook/raw", json={"events": [join, text_event]})).status_code == 200
    [call] = receiver.calls
    assert len(WebhookParser(SECRET).parse(call["body"], call["headers"]["x-line-signature"])) == 2
    body = {"replyToken": text_event["replyToken"], "messages": [text_message()]}
    assert (await client.post("/v2/bot/message/reply", json=body)).status_code == 200
    assert (await client.post("/v2/bot/message/reply", json=body)).status_code == 400
    assert (await client.post(f"/v2/bot/group/{join['source']['groupId']}/leave")).status_code == 200


async def test_unreachable_webhook_reports_status_zero(line) -> None:
    fake, _, client = line
    fake.webhook_url = f"http://127.0.0.1:{free_port()}/line/webhook"
    answer = await user_says(client, new_user_id(), text_message())
    assert answer["webhook_status"] == 0 and "error" in answer


# ------------------------------------------------------------------ reply
async def test_reply_token_works_once(line) -> None:
    _, _, client = line
    user = new_user_id()
    token = (await user_says(client, user, text_message()))["event"]["replyToken"]
    body = {"replyToken": token, "messages": [text_message("お話を聞かせてください")]}
    first = await client.post("/v2/bot/message/reply", json=body)
    assert first.status_code == 200 and first.json()["sentMessages"][0]["id"]
    second = await client.post("/v2/bot/message/reply", json=body)
    assert second.status_code == 400 and second.json() == {"message": "Invalid reply token"}
    sent = (await client.get(f"/_fake/users/{user}/messages")).json()["messages"]
    assert [m["text"] for m in sent] == ["お話を聞かせてください"] and sent[0]["via"] == "reply"


async def test_reply_token_expires(line) -> None:
    fake, _, client = line
    fake.reply_token_ttl = 0.2
    token = (await user_says(client, new_user_id(), text_message()))["event"]["replyToken"]
    await asyncio.sleep(0.3)
    late = await client.post("/v2/bot/message/reply", json={"replyToken": token, "messages": [text_message()]})
    assert late.status_code == 400 and late.json()["message"] == "Invalid reply token"


async def test_reply_token_never_issued_is_invalid_and_retry_key_is_refused_on_reply(line) -> None:
    _, _, client = line
    body = {"replyToken": "0" * 32, "messages": [text_message()]}
    assert (await client.post("/v2/bot/message/reply", json=body)).status_code == 400
    keyed = await client.post("/v2/bot/message/reply", json=body, headers={"X-Line-Retry-Key": str(uuid.uuid4())})
    assert keyed.status_code == 400


# ------------------------------------------------------------------ push and retry keys
async def test_repeated_retry_key_is_409_and_delivers_once(line) -> None:
    _, _, client = line
    user, key = new_user_id(), str(uuid.uuid4())
    body = {"to": user, "messages": [text_message("順番が来ました")]}
    first = await client.post("/v2/bot/message/push", json=body, headers={"X-Line-Retry-Key": key})
    assert first.status_code == 200
    second = await client.post("/v2/bot/message/push", json=body, headers={"X-Line-Retry-Key": key})
    assert second.status_code == 409
    assert second.json()["message"] == "The retry key is already accepted"
    assert second.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert second.headers["x-line-request-id"] != first.headers["x-line-request-id"]
    sent = (await client.get(f"/_fake/users/{user}/messages")).json()["messages"]
    assert len(sent) == 1 and sent[0]["retryKey"] == key and sent[0]["via"] == "push"


async def test_retry_key_must_be_a_uuid(line) -> None:
    _, _, client = line
    body = {"to": new_user_id(), "messages": [text_message()]}
    response = await client.post("/v2/bot/message/push", json=body, headers={"X-Line-Retry-Key": "attempt-1"})
    assert response.status_code == 400


async def test_push_to_a_user_who_blocked_succeeds_but_is_not_delivered(line) -> None:
    _, _, client = line
    user = new_user_id()
    await user_says(client, user, {"type": "follow"})
    await user_says(client, user, {"type": "unfollow"})
    response = await client.post("/v2/bot/message/push", json={"to": user, "messages": [text_message()]})
    assert response.status_code == 200 and response.json()["sentMessages"]
    assert (await client.get(f"/_fake/users/{user}/messages")).json()["messages"] == []
    blocked = await client.post(f"/_fake/users/{user}/events", json=text_message())
    assert blocked.status_code == 409  # a user who blocked the account cannot write to it
    users = (await client.get("/_fake/users")).json()["users"]
    assert {"userId": user, "following": False, "blocked": True}.items() <= next(
        u for u in users if u["userId"] == user
    ).items()
