"""The fake LINE platform behaves like LINE where the gateway depends on it.

Each test runs the fake as a real HTTP server on 127.0.0.1 (random port) and, where events flow, a tiny webhook
receiver next to it, so signatures, headers and status codes are checked on the wire, and line-bot-sdk 3 itself
is pointed at the fake.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    MarkMessagesAsReadByTokenRequest,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)
from linebot.v3.messaging.exceptions import ApiException
from linebot.v3.webhook import SignatureValidator, WebhookParser
from linebot.v3.webhooks import MessageEvent, TextMessageContent
from sanic import Sanic
from sanic.response import text

from handoff.line.fakeline import FakeLine, new_user_id, sign
from handoff.line.fakeline_api import create_fakeline_blueprint

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "line_events"
SECRET = "test-channel-secret"
TOKEN = "test-access-token"
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Running:
    """A Sanic app served in this event loop on a free port."""

    def __init__(self, app: Sanic) -> None:
        self.app, self.port, self.server = app, free_port(), None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Running:
        self.server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self.server.startup()
        await self.server.before_start()
        await self.server.after_start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.before_stop()
        self.server.close()
        await self.server.wait_closed()
        await self.server.after_stop()


@dataclass
class Receiver:
    """Records every webhook POST; answers with the statuses queued in `answers` (then 200)."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def app(self) -> Sanic:
        app = Sanic(f"receiver_{uuid.uuid4().hex[:8]}")

        @app.post("/line/webhook")
        async def webhook(request):  # type: ignore[no-untyped-def]
            self.calls.append({"body": request.body.decode("utf-8"), "headers": dict(request.headers)})
            return text("", status=self.answers.pop(0) if self.answers else 200)

        return app


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several Sanic apps are served in one process here; Sanic allows that only in test mode."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
async def line() -> AsyncIterator[tuple[FakeLine, Receiver, httpx.AsyncClient]]:
    """The fake (API at the root) wired to a receiver; yields the fake, the receiver and a client for the fake."""
    receiver = Receiver()
    async with Running(receiver.app()) as hook:
        fake = FakeLine(SECRET, TOKEN, f"{hook.url}/line/webhook", reply_token_ttl=60.0)
        app = Sanic(f"fake_{uuid.uuid4().hex[:8]}")
        app.blueprint(create_fakeline_blueprint(fake, url_prefix=""))
        async with Running(app) as api:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with httpx.AsyncClient(base_url=api.url, headers=headers) as client:
                yield fake, receiver, client


def text_message(body: str = "こんにちは", **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": body, **extra}


async def user_says(client: httpx.AsyncClient, user_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/_fake/users/{user_id}/events", json=spec)
    assert response.status_code == 200, response.text
    return response.json()


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


# ------------------------------------------------------------------ faults
async def test_faults_are_answered_in_order_then_normal_behaviour_resumes(line) -> None:
    _, _, client = line
    user = new_user_id()
    responses = [
        {"status": 500},
        {"status": 429, "message": "You have reached your monthly limit."},
        {"status": 429, "message": "Too many requests"},
        {"status": 409},
    ]
    assert (await client.post("/_fake/faults", json={"endpoint": "push", "responses": responses})).status_code == 200
    seen = []
    for _ in range(5):
        response = await client.post("/v2/bot/message/push", json={"to": user, "messages": [text_message()]})
        seen.append((response.status_code, response.json().get("message")))
        if response.status_code == 409:
            assert response.headers["x-line-accepted-request-id"]
    assert [s for s, _ in seen] == [500, 429, 429, 409, 200]
    assert seen[1][1] == "You have reached your monthly limit." and seen[2][1] == "Too many requests"
    assert len((await client.get(f"/_fake/users/{user}/messages")).json()["messages"]) == 1
    logged = (await client.get("/_fake/requests", params={"endpoint": "push"})).json()["requests"]
    assert [r["status"] for r in logged] == [500, 429, 429, 409, 200]


async def test_accepted_then_500_makes_the_retry_a_409_not_a_duplicate(line) -> None:
    _, _, client = line
    user, key = new_user_id(), str(uuid.uuid4())
    await client.post("/_fake/faults", json={"endpoint": "push", "responses": [{"status": 500, "deliver": True}]})
    body = {"to": user, "messages": [text_message()]}
    assert (await client.post("/v2/bot/message/push", json=body, headers={"X-Line-Retry-Key": key})).status_code == 500
    assert (await client.post("/v2/bot/message/push", json=body, headers={"X-Line-Retry-Key": key})).status_code == 409
    assert len((await client.get(f"/_fake/users/{user}/messages")).json()["messages"]) == 1


async def test_fault_delay_holds_the_answer(line) -> None:
    _, _, client = line
    await client.post("/_fake/faults", json={"endpoint": "loading", "responses": [{"delay": 0.4}]})
    started = asyncio.get_running_loop().time()
    response = await client.post("/v2/bot/chat/loading/start", json={"chatId": new_user_id(), "loadingSeconds": 5})
    assert response.status_code == 202 and asyncio.get_running_loop().time() - started >= 0.4


async def test_unknown_fault_endpoint_is_refused(line) -> None:
    _, _, client = line
    response = await client.post("/_fake/faults", json={"endpoint": "broadcast", "responses": [{"status": 500}]})
    assert response.status_code == 400


# ------------------------------------------------------------------ validation and auth
def quick(n: int, label: str = "はい", data: str = "/affirm") -> dict[str, Any]:
    item = {"type": "action", "action": {"type": "postback", "label": label, "data": data, "displayText": label}}
    return {"items": [item] * n}


@pytest.mark.parametrize(
    ("messages", "prop"),
    [
        ([], "messages"),
        ([text_message()] * 6, "messages"),
        ([text_message("あ" * 5001)], "messages[0].text"),
        ([text_message("")], "messages[0].text"),
        ([text_message(quickReply=quick(14))], "messages[0].quickReply.items"),
        ([text_message(quickReply=quick(1, label="あ" * 21))], "messages[0].quickReply.items[0].action.label"),
        ([text_message(quickReply=quick(1, data="d" * 301))], "messages[0].quickReply.items[0].action.data"),
        ([text_message(), {"type": "hologram"}], "messages[1].type"),
    ],
)
async def test_invalid_messages_are_400_with_line_error_details(line, messages, prop) -> None:
    _, _, client = line
    response = await client.post("/v2/bot/message/push", json={"to": new_user_id(), "messages": messages})
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == f"The request body has {len(body['details'])} error(s)"
    assert prop in [d["property"] for d in body["details"]]


async def test_limits_themselves_are_accepted(line) -> None:
    _, _, client = line
    messages = [text_message("あ" * 5000, quickReply=quick(13, label="あ" * 20, data="d" * 300))] * 5
    response = await client.post("/v2/bot/message/push", json={"to": new_user_id(), "messages": messages})
    assert response.status_code == 200 and len(response.json()["sentMessages"]) == 5


async def test_wrong_token_is_401_and_every_answer_has_a_fresh_request_id(line) -> None:
    _, _, client = line
    body = {"to": new_user_id(), "messages": [text_message()]}
    bad = await client.post("/v2/bot/message/push", json=body, headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json()["message"].startswith("Authentication failed")
    ids = {bad.headers["x-line-request-id"]}
    for path in ("/v2/bot/message/quota", "/v2/bot/message/quota/consumption"):
        response = await client.get(path)
        assert response.status_code == 200
        ids.add(response.headers["x-line-request-id"])
    assert len(ids) == 3


# ------------------------------------------------------------------ other endpoints
async def test_loading_seconds_must_be_a_multiple_of_five_up_to_sixty(line) -> None:
    _, _, client = line
    user = new_user_id()
    ok = await client.post("/v2/bot/chat/loading/start", json={"chatId": user, "loadingSeconds": 60})
    assert ok.status_code == 202 and ok.json() == {}
    assert (await client.get(f"/_fake/users/{user}/timeline")).json()["loading"] is True
    for seconds in (0, 7, 65):
        bad = await client.post("/v2/bot/chat/loading/start", json={"chatId": user, "loadingSeconds": seconds})
        assert bad.status_code == 400


async def test_mark_as_read_by_token_and_by_chat(line) -> None:
    _, _, client = line
    user = new_user_id()
    event = (await user_says(client, user, text_message()))["event"]
    token = event["message"]["markAsReadToken"]
    assert (await client.post("/v2/bot/chat/markAsRead", json={"markAsReadToken": token})).status_code == 200
    timeline = (await client.get(f"/_fake/users/{user}/timeline")).json()["timeline"]
    assert timeline[0]["read"] is True
    assert (await client.post("/v2/bot/chat/markAsRead", json={"markAsReadToken": "nope"})).status_code == 400
    old = await client.post("/v2/bot/chat/markAsRead", json={"chat": {"userId": user}})
    assert old.status_code == 200


async def test_monthly_quota_counts_pushes_and_then_refuses_with_429(line) -> None:
    fake, _, client = line
    fake.monthly_limit = 2
    user = new_user_id()
    token = (await user_says(client, user, text_message()))["event"]["replyToken"]
    await client.post("/v2/bot/message/reply", json={"replyToken": token, "messages": [text_message()]})
    statuses = []
    for _ in range(3):
        response = await client.post("/v2/bot/message/push", json={"to": user, "messages": [text_message()] * 2})
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
    assert (await client.get("/v2/bot/message/quota")).json() == {"type": "limited", "value": 2}
    assert (await client.get("/v2/bot/message/quota/consumption")).json() == {"totalUsage": 2}


async def test_leave_group_once(line) -> None:
    _, _, client = line
    group = "C" + uuid.uuid4().hex
    await user_says(client, new_user_id(), {"type": "text", "text": "みんな", "groupId": group})
    assert (await client.post(f"/v2/bot/group/{group}/leave")).status_code == 200
    assert (await client.post(f"/v2/bot/group/{group}/leave")).status_code == 404


async def test_reset_forgets_users_and_faults(line) -> None:
    _, _, client = line
    await user_says(client, new_user_id(), text_message())
    await client.post("/_fake/faults", json={"endpoint": "push", "responses": [{"status": 500}]})
    await client.post("/_fake/reset")
    assert (await client.get("/_fake/users")).json()["users"] == []
    ok = await client.post("/v2/bot/message/push", json={"to": new_user_id(), "messages": [text_message()]})
    assert ok.status_code == 200


# ------------------------------------------------------------------ line-bot-sdk 3 against the fake
@pytest.fixture
async def sdk_line() -> AsyncIterator[tuple[FakeLine, AsyncMessagingApi, httpx.AsyncClient]]:
    """The fake mounted under the gateway's simulator prefix, with line-bot-sdk's async client pointed at it."""
    receiver = Receiver()
    async with Running(receiver.app()) as hook:
        fake = FakeLine(SECRET, TOKEN, f"{hook.url}/line/webhook")
        app = Sanic(f"gw_{uuid.uuid4().hex[:8]}")
        app.blueprint(create_fakeline_blueprint(fake, url_prefix="/simulator/line"))
        async with Running(app) as api:
            config = Configuration(host=f"{api.url}/simulator/line", access_token=TOKEN)
            async with AsyncApiClient(config) as api_client:
                async with httpx.AsyncClient(base_url=f"{api.url}/simulator/line") as control:
                    yield fake, AsyncMessagingApi(api_client), control


async def test_line_bot_sdk_replies_and_pushes_through_the_fake(sdk_line) -> None:
    fake, sdk, control = sdk_line
    user = new_user_id()
    event = (await user_says(control, user, text_message()))["event"]
    await sdk.show_loading_animation(ShowLoadingAnimationRequest(chat_id=user, loading_seconds=5))
    replied = await sdk.reply_message(
        ReplyMessageRequest(reply_token=event["replyToken"], messages=[TextMessage(text="受け付けました")])
    )
    assert replied.sent_messages[0].id
    key = str(uuid.uuid4())
    pushed = await sdk.push_message_with_http_info(
        PushMessageRequest(to=user, messages=[TextMessage(text="相談員につながりました")]), x_line_retry_key=key
    )
    assert pushed.status_code == 200 and pushed.headers["x-line-request-id"]
    assert pushed.data.sent_messages[0].quote_token
    await sdk.mark_messages_as_read_by_token(
        MarkMessagesAsReadByTokenRequest(mark_as_read_token=event["message"]["markAsReadToken"])
    )
    texts = [m["text"] for m in fake.messages_for(user)]
    assert texts == ["受け付けました", "相談員につながりました"]
    with pytest.raises(ApiException) as conflict:
        await sdk.push_message_with_http_info(
            PushMessageRequest(to=user, messages=[TextMessage(text="相談員につながりました")]), x_line_retry_key=key
        )
    assert conflict.value.status == 409
    assert conflict.value.headers["x-line-accepted-request-id"] == pushed.headers["x-line-request-id"]
    assert len(fake.messages_for(user)) == 2


@pytest.mark.parametrize("status", [409, 429, 500])
async def test_line_bot_sdk_sees_injected_errors(sdk_line, status) -> None:
    _, sdk, control = sdk_line
    await control.post("/_fake/faults", json={"endpoint": "push", "responses": [{"status": status}]})
    with pytest.raises(ApiException) as failure:
        await sdk.push_message(PushMessageRequest(to=new_user_id(), messages=[TextMessage(text="x")]))
    assert failure.value.status == status


# ------------------------------------------------------------------ standalone process
def test_standalone_process_prints_ready_and_serves_the_api() -> None:
    command = [sys.executable, "-m", "handoff.line.fakeline_main", "--port", "0", "--secret", SECRET]
    command += ["--token", TOKEN, "--webhook-url", "http://127.0.0.1:9/line/webhook"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("ready "), line
        base = f"http://127.0.0.1:{int(line.split()[1])}"
        body = {"to": new_user_id(), "messages": [text_message()]}
        response = httpx.post(f"{base}/v2/bot/message/push", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200 and response.json()["sentMessages"]
        assert httpx.get(f"{base}/simulator/").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
