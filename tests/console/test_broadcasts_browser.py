"""情報配信 in a real browser at a tablet's and a laptop's width: the form counts the segment, sends after the
confirmation, the list shows the delivery sent, and nothing is wider than the screen (issue 17 items 1 and 10)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, expect

from tests.console.conftest import Gateway
from tests.console.test_broadcasts_api import broadcast_texts, friends_in
from tests.console.test_console_browser import CHROMIUM, SCREENSHOTS, browser, login  # noqa: F401 (fixture)
from tests.console.test_console_layout_browser import WIDTHS, _problems

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]
TEXT = "春休みの相談時間のお知らせです。"


def test_a_supervisor_sends_a_delivery_from_the_page_at_both_widths(
    browser: Browser, gateway_sqlite: Gateway  # noqa: F811
) -> None:
    gw = gateway_sqlite
    (friend,) = friends_in(gw, "宝達志水町", 1)
    page = login(browser, gw, gw.add_user("supervisor"))
    page.on("dialog", lambda dialog: dialog.accept())
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        page.goto(f"{gw.url}/console/broadcasts")
        expect(page.locator("h1")).to_have_text("情報配信")
        page.check("input[name=audience][value=segment]")
        page.select_option("#segment-municipality", "宝達志水町")
        expect(page.locator("#broadcast-count")).to_have_text("いま配信すると 1 人に届きます。")
        page.fill("#broadcast-text", f"{TEXT}（{width}）")
        page.check("#broadcast-silent")
        page.click("#broadcast-submit")
        expect(page.locator("#broadcast-flash")).to_contain_text("を受け付けました（1 人）")
        expect(page.locator("#broadcasts-body tr").first).to_contain_text("送信完了", timeout=15000)
        expect(page.locator("#broadcasts-body tr").first).to_contain_text("なし")  # silent
        page.screenshot(path=str(SCREENSHOTS / f"broadcasts_{width}.png"), full_page=True)
        problems += [f"at {width}px: {p}" for p in _problems(page, width)]
    # the friend's side: the simulator shows the delivery, marked as one, and that it came without a sound
    users = [{"userId": friend, "displayName": "あおい"}]
    page.context.add_init_script(f"localStorage.setItem('fakeline-simulator-users', '{json.dumps(users)}')")
    simulator = page.context.new_page()
    simulator.goto(f"{gw.url}/simulator/")
    timeline = simulator.locator("#timeline")
    expect(timeline).to_contain_text(f"{TEXT}（1366）")
    expect(timeline.locator(".broadcast").first).to_have_text("一斉配信")
    expect(timeline).to_contain_text("通知なし")
    simulator.screenshot(path=str(SCREENSHOTS / "simulator_broadcast.png"))
    page.context.close()
    assert problems == []
    assert broadcast_texts(gw, friend) == [f"{TEXT}（768）", f"{TEXT}（1366）"]
