"""フォローアップ on the chat page in a real browser at a tablet's and a laptop's width (issue 17 items 8, 10):
the supervisor schedules a check-in for tomorrow, sees it listed, cancels it; the page fits both widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.console.conftest import Gateway, new_line_user
from tests.console.test_console_browser import CHROMIUM, SCREENSHOTS, browser, login  # noqa: F401 (fixture)
from tests.console.test_console_layout_browser import WIDTHS, _problems
from tests.console.test_follow_ups import CHECK_IN, resolved_by

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


def test_a_supervisor_schedules_and_cancels_a_check_in_from_the_chat_page(
    browser: Browser, gateway_sqlite: Gateway  # noqa: F811
) -> None:
    gw = gateway_sqlite
    _, conversation_id = resolved_by(gw, new_line_user())
    page = login(browser, gw, gw.add_user("supervisor"))
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        page.goto(f"{gw.url}/console/chat/{conversation_id}")
        panel = page.locator("#follow-up-panel")
        expect(panel).to_be_visible()
        page.fill("#follow-up-text", CHECK_IN)
        page.fill("#follow-up-send-at", "2030-01-07T16:00")
        page.click("#btn-follow-up")
        expect(page.locator("#follow-up-message")).to_contain_text("同意")  # refused until consent is ticked
        page.fill("#follow-up-send-at", "")
        page.evaluate("""() => { const d = new Date(Date.now() + 86400000);
            const p = (n) => String(n).padStart(2, "0");
            document.getElementById("follow-up-send-at").value =
              `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T10:00`; }""")
        page.check("#follow-up-consented")
        page.check("#follow-up-silent")
        page.click("#btn-follow-up")
        expect(page.locator("#follow-up-message")).to_have_text("フォローアップを予約しました。")
        first = page.locator("#follow-up-list li").first
        expect(first).to_contain_text("予約済み")
        expect(first).to_contain_text("（通知なし）")
        page.screenshot(path=str(SCREENSHOTS / f"follow_up_{width}.png"), full_page=True)
        problems += [f"at {width}px: {p}" for p in _problems(page, width)]
        first.get_by_role("button", name="取り消す").click()
        expect(first).to_contain_text("取り消し")
    page.context.close()
    assert problems == []
    assert [r["status"] for r in gw.rows("SELECT status FROM follow_ups WHERE conversation_id = :c ORDER BY id",
                                         c=conversation_id)] == ["cancelled", "cancelled"]
