"""The secure chat's whole path in real browsers (issue 16): a phone (360 px, LINE's in-app browser's User-Agent)
and the counsellor's console, over the real gateway with the fake LINE inside it.

Quick reply on LINE → link → page → message → console → counsellor's reply appears on the page live; LINE got no
copy of either text, only the content-free notice.
"""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.console.conftest import Gateway, new_line_user, wait_for
from tests.console.securechat_steps import NOTICE, PHONE, new_link
from tests.console.test_console_browser import SCREENSHOTS, browser, login, pytestmark  # noqa: F401

USER_TEXT = "画面から送る、家のことの相談です"
REPLY_TEXT = "相談員です。読みました。ゆっくりで大丈夫ですよ。"


def test_quick_reply_link_page_console_and_back(browser: Browser, gateway_sqlite: Gateway) -> None:  # noqa: F811
    gw = gateway_sqlite
    user = new_line_user()
    gw.user_says(user, "はなしをきいてほしい")
    url = new_link(gw, user)

    phone = browser.new_context(viewport={"width": 360, "height": 740}, user_agent=PHONE, is_mobile=True,
                                has_touch=True, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = phone.new_page()
    page.goto(url)
    page.wait_for_url(f"{gw.url}/secure/")
    expect(page.locator("#about")).to_contain_text("ここはLINEではありません")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    page.fill("#text", USER_TEXT)
    page.click("#send")
    expect(page.locator(".msg.me").last).to_contain_text("送信済み", timeout=10000)

    console = login(browser, gw, gw.add_user("counsellor"))
    cid = wait_for(lambda: next((c["id"] for c in console.request.get(f"{gw.url}/api/conversations?status=queued")
                                 .json()["items"] if c["line_user_id"] == user), None), 15)
    console.goto(f"{gw.url}/console/chat/{cid}")
    console.click("#btn-claim")
    expect(console.locator("#history")).to_contain_text(USER_TEXT, timeout=10000)
    expect(console.locator("#chat-status")).to_contain_text("安全な画面")
    mine = console.locator("#history li", has_text=USER_TEXT)
    expect(mine.locator("[data-channel='web']")).to_have_text("安全な画面")
    console.fill("#composer-text", REPLY_TEXT)
    console.click("#btn-send")

    expect(page.locator(".msg.them").last).to_contain_text(REPLY_TEXT, timeout=10000)  # live, no reload
    expect(page.locator(".msg.me").last).to_contain_text("既読", timeout=10000)  # the console had it on screen
    page.screenshot(path=str(SCREENSHOTS / "securechat_phone.png"), full_page=True)
    wait_for(lambda: NOTICE in gw.delivered(user), 10)
    on_line = gw.delivered(user)
    assert not any(USER_TEXT in t or REPLY_TEXT in t for t in on_line)

    page.click("#leave")
    expect(page.locator("h1")).to_contain_text("終了しました")
    wait_for(lambda: any("LINEでのご相談に戻りました" in t for t in gw.delivered(user)), 10)
    expect(console.locator("#chat-status")).not_to_contain_text("安全な画面", timeout=10000)
    phone.close()
    console.context.close()
