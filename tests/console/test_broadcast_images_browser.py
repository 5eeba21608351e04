"""情報配信 with an image from the console page in a real browser: the file chosen goes with the text, and the
friend's simulator shows the delivered picture loaded from the gateway's public path (issue 17 item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.console.conftest import Gateway
from tests.console.test_broadcast_images_api import jpeg_with_exif
from tests.console.test_broadcasts_api import friends_in
from tests.console.test_console_browser import CHROMIUM, SCREENSHOTS, browser, login  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


def test_a_supervisor_attaches_an_image_and_the_friend_sees_it(
    browser: Browser, gateway_sqlite: Gateway, tmp_path: Path  # noqa: F811
) -> None:
    gw = gateway_sqlite
    (friend,) = friends_in(gw, "中能登町", 1)
    picture = tmp_path / "poster.jpg"
    picture.write_bytes(jpeg_with_exif((320, 200)))
    page = login(browser, gw, gw.add_user("supervisor"))
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{gw.url}/console/broadcasts")
    page.check("input[name=audience][value=segment]")
    page.select_option("#segment-municipality", "中能登町")
    expect(page.locator("#broadcast-count")).to_have_text("いま配信すると 1 人に届きます。")
    page.fill("#broadcast-text", "画像つきのお知らせです。")
    page.set_input_files("#broadcast-image", str(picture))
    page.click("#broadcast-submit")
    expect(page.locator("#broadcast-flash")).to_contain_text("を受け付けました（1 人）")
    expect(page.locator("#broadcasts-body tr").first).to_contain_text("送信完了", timeout=15000)
    users = [{"userId": friend, "displayName": "ひなた"}]
    page.context.add_init_script(f"localStorage.setItem('fakeline-simulator-users', '{json.dumps(users)}')")
    simulator = page.context.new_page()
    simulator.goto(f"{gw.url}/simulator/")
    shown = simulator.locator("#timeline img[alt='配信された画像']")
    expect(shown).to_have_count(1)
    simulator.wait_for_function("() => { const i = document.querySelector(\"#timeline img\"); "
                                "return i && i.complete && i.naturalWidth > 0; }")
    assert "/about/media/" in (shown.get_attribute("src") or "")
    simulator.screenshot(path=str(SCREENSHOTS / "simulator_broadcast_image.png"))
    page.context.close()
