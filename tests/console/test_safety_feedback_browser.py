"""A concern flag in a real browser (issue 13): the queue shows the level, the chat the concern banner, and the
counsellor marks the flag a false alarm with a reason. Fixture and login as in test_console_browser.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.console.conftest import Gateway, wait_for
from tests.console.test_console_browser import CHROMIUM, SCREENSHOTS, browser, login  # noqa: F401 (fixture)
from tests.console.test_safety_feedback import TEXT, flag_concern

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


def test_concern_banner_and_marking_a_false_alarm(browser: Browser, gateway_sqlite: Gateway) -> None:  # noqa: F811
    gw = gateway_sqlite
    counsellor = gw.add_user("counsellor")
    page = login(browser, gw, counsellor)
    conversation = flag_concern(gw, gw.login(gw.add_user("supervisor")))
    cid = conversation["id"]

    page.goto(f"{gw.url}/console/queue")
    tag = page.locator(f"tr[data-conversation='{cid}'] [data-risk='concern']")
    expect(tag).to_have_text("要確認", timeout=5000)

    page.goto(f"{gw.url}/console/chat/{cid}")
    banner = page.locator("#chat-concern-banner")
    expect(banner).to_be_visible(timeout=5000)
    expect(banner).to_contain_text("ボットの判定のみ")  # the category id nlu_crisis_intent, in words
    expect(page.locator("#chat-case-banner")).to_be_hidden()  # a concern opens no crisis case
    expect(page.locator(".msg-concern .bubble")).to_have_text(TEXT)
    page.screenshot(path=str(SCREENSHOTS / "chat_concern.png"), full_page=True)

    page.click("#btn-feedback")  # no reason chosen: the server refuses and says so
    expect(page.locator("#feedback-form .field-error[data-field='reason']")).to_have_text("理由を選んでください。")
    page.select_option("#feedback-reason", "plain_care")
    page.fill("#feedback-form input[name=note]", "介護の様子の説明")
    page.click("#btn-feedback")
    expect(page.locator("#feedback-list")).to_contain_text("誤検知 介護や家族の状況の説明だった", timeout=5000)
    page.screenshot(path=str(SCREENSHOTS / "chat_feedback.png"), full_page=True)
    stored = wait_for(lambda: gw.rows("SELECT level, reason, author FROM safety_feedback WHERE conversation_id = :c",
                                      c=cid))
    assert stored == [{"level": None, "reason": "plain_care", "author": counsellor.name}]
    page.context.close()
