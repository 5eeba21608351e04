"""The fake LINE API: faults, validation, auth, other endpoints, line-bot-sdk 3 against it, standalone process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
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
from sanic import Sanic

from handoff.simulator.api import create_fakeline_blueprint
from handoff.simulator.fakeline import FakeLine, new_user_id
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
    command = [sys.executable, "-m", "handoff.simulator.main", "--port", "0", "--secret", SECRET]
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
