"""The simulator page lets a person chat as a LINE user: their text reaches the bot's webhook, the bot's pushed
answer appears as a bubble, and tapping a quick-reply chip sends a postback.

Runs the fake LINE platform as its own process (as `make run` would not, but as a trainer's laptop might) and a
tiny bot in this process that answers every text by pushing a message with quick replies.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from linebot.v3.webhook import WebhookParser
from sanic import Sanic
from sanic.response import text

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
SECRET = "simulator-test-secret"
TOKEN = "simulator-test-token"
GREETING = "こんにちは。いしかわヤングケアラーチャンネルです。相談をはじめますか?"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot below is served inside the test process; Sanic allows extra apps there only in test mode."""
    monkeypatch.setattr(Sanic, "test_mode", True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_app(events: list[Any], fake_url: list[str]) -> Sanic:
    """A minimal bot: verifies the signature, answers texts by push (with quick replies), records postbacks."""
    app = Sanic(f"sim_bot_{uuid.uuid4().hex[:8]}")
    parser = WebhookParser(SECRET)

    async def push(to: str, message: dict[str, Any]) -> None:
        async with httpx.AsyncClient(base_url=fake_url[0]) as client:
            await client.post(
                "/v2/bot/message/push",
                json={"to": to, "messages": [message]},
                headers={"Authorization": f"Bearer {TOKEN}", "X-Line-Retry-Key": str(uuid.uuid4())},
            )

    @app.post("/line/webhook")
    async def webhook(request):  # type: ignore[no-untyped-def]
        parsed = parser.parse(request.body.decode("utf-8"), request.headers["x-line-signature"])
        for event in parsed:
            events.append(event)
            if event.type == "message" and getattr(event.message, "text", None):
                answers = (("はい", '/consent{"granted": true}'), ("いいえ", '/consent{"granted": false}'))
                chips = [
                    {"type": "action", "action": {"type": "postback", "label": a, "data": d, "displayText": a}}
                    for a, d in answers
                ]
                message = {"type": "text", "text": GREETING, "quickReply": {"items": chips}}
                asyncio.get_running_loop().create_task(push(event.source.user_id, message))
        return text("")

    return app


async def test_person_chats_through_the_simulator_page() -> None:
    from playwright.async_api import async_playwright, expect

    events: list[Any] = []
    fake_url: list[str] = []
    app = bot_app(events, fake_url)
    bot_port = free_port()
    server = await app.create_server(host="127.0.0.1", port=bot_port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.after_start()
    command = [sys.executable, "-m", "handoff.simulator.main", "--port", "0", "--secret", SECRET, "--token", TOKEN]
    command += ["--webhook-url", f"http://127.0.0.1:{bot_port}/line/webhook"]
    fake = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        assert fake.stdout is not None
        ready = (await asyncio.wait_for(fake.stdout.readline(), timeout=30)).decode()
        assert ready.startswith("ready "), ready
        fake_url.append(f"http://127.0.0.1:{int(ready.split()[1])}")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            page = await browser.new_page(viewport={"width": 900, "height": 860}, locale="ja-JP")
            await page.goto(f"{fake_url[0]}/simulator/")
            await expect(page.locator("#as-user")).to_contain_text("としてトーク中")
            await expect(page.locator("#account-name")).to_have_text("いしかわヤングケアラーチャンネル")

            await page.get_by_role("button", name="友だち追加").click()
            await expect(page.locator(".system")).to_have_text("友だち追加しました")
            await page.get_by_label("メッセージ").fill("こんにちは")
            await page.get_by_role("button", name="送信").click()
            await expect(page.locator(".row.user .bubble").last).to_have_text("こんにちは")
            await expect(page.locator(".row.bot .bubble").last).to_have_text(GREETING, timeout=5000)

            chip = page.locator(".chip", has_text="はい")
            await expect(chip).to_be_visible()
            SCREENSHOTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / "simulator_quick_reply.png"))
            await chip.click()
            await expect(page.locator(".row.user .bubble").last).to_have_text("はい")
            await expect(page.locator(".chip")).to_have_count(0)  # quick replies go once the user answered

            await page.get_by_role("button", name="スタンプ", exact=True).click()
            await page.get_by_role("button", name="スタンプ「ありがとう」").click()
            await expect(page.locator(".row.user .sticker")).to_have_text("ありがとう")
            await page.get_by_role("button", name="画像を送る").click()
            await expect(page.locator(".row.user .picture")).to_have_count(1)
            await page.screenshot(path=str(SCREENSHOTS / "simulator_after_postback.png"))

            await page.get_by_placeholder("表示名(例:あおい)").fill("はると")
            await page.get_by_role("button", name="追加", exact=True).click()
            await expect(page.locator("#as-user")).to_have_text("はると としてトーク中")
            await expect(page.locator(".user-list li")).to_have_count(2)
            await expect(page.locator(".row")).to_have_count(0)  # a new user has an empty chat of their own
            await page.get_by_role("button", name="ブロック").click()
            await expect(page.locator("#message-input")).to_be_disabled()
            await expect(page.locator("#notice")).to_contain_text("ブロック中")
            await browser.close()

        kinds = [event.type for event in events]
        assert kinds == ["follow", "message", "postback", "message", "message", "unfollow"]
        assert events[2].postback.data == '/consent{"granted": true}'
        assert [events[3].message.type, events[4].message.type] == ["sticker", "image"]
        assert len({event.source.user_id for event in events[:5]}) == 1
        assert events[5].source.user_id != events[0].source.user_id
        async with httpx.AsyncClient(base_url=fake_url[0]) as client:
            users = (await client.get("/_fake/users")).json()["users"]
            sent = (await client.get(f"/_fake/users/{events[1].source.user_id}/messages")).json()["messages"]
        following = {u["displayName"]: (u["following"], u["blocked"]) for u in users}
        assert following == {"あおい": (True, False), "はると": (False, True)}
        assert [m["text"] for m in sent] == [GREETING]
        assert json.dumps(sent[0]["quickReply"], ensure_ascii=False).count("postback") == 2
    finally:
        fake.terminate()
        await asyncio.wait_for(fake.wait(), timeout=10)
        await server.before_stop()
        server.close()
        await server.wait_closed()
