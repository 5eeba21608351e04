"""業務日誌 in a real browser (Debian's chromium via Playwright): navigation, a note, months, the download (R21)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from tests.console.conftest import Gateway
from tests.console.test_console_browser import CHROMIUM, SCREENSHOTS, browser, login  # noqa: F401  (fixture)
from tests.console.test_worklog_report import decrypt
from tests.console.worklog_seed import seed_gateway

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]
FILE_PASSWORD = "agreed with the prefecture"


def test_supervisor_keeps_the_work_log_and_downloads_the_month(browser: Browser, gateway_sqlite: Gateway,  # noqa: F811
                                                               tmp_path: Path) -> None:
    gw = gateway_sqlite
    seed_gateway(gw.database_url)
    page = login(browser, gw, gw.add_user("supervisor"))
    page.click("nav.nav >> text=業務日誌")
    now = datetime.now(ZoneInfo("Asia/Tokyo"))
    this_month = date(now.year, now.month, 1)
    page.wait_for_url(f"**/console/worklog/{this_month:%Y-%m}")
    expect(page.locator("nav.nav a.active")).to_have_text("業務日誌")
    page.click("#month-prev")
    previous = date(this_month.year - (this_month.month == 1), (this_month.month - 2) % 12 + 1, 1)
    page.wait_for_url(f"**/console/worklog/{previous:%Y-%m}")
    page.goto(f"{gw.url}/console/worklog/2026-10")
    expect(page.locator("#worklog-month")).to_have_text("2026年10月")
    expect(page.locator("#worklog-table tbody tr")).to_have_count(31)
    sixth = page.locator("tr[data-day='2026-10-06']")
    expect(sixth.locator("td[data-key=handled_by]")).to_have_text("山田 2、佐藤 1")
    expect(sixth.locator("td[data-key=crises]")).to_have_text("1")
    expect(page.locator("tr[data-day='2026-10-03']")).to_have_class("day-closed")  # a Saturday

    eighth = page.locator("tr[data-day='2026-10-08']")
    eighth.locator("summary").click()
    eighth.locator("textarea[name=text]").fill("システム点検のため15時から30分停止。")
    eighth.locator("button[type=submit]").click()
    expect(page.locator(".flash-ok")).to_have_text("2026-10-08 の特記事項を保存しました。")
    expect(page.locator("tr[data-day='2026-10-08'] .note-text")).to_have_text("システム点検のため15時から30分停止。")
    page.screenshot(path=str(SCREENSHOTS / "worklog.png"), full_page=True)

    page.fill("input[name=password]", FILE_PASSWORD)
    page.fill("input[name=password_again]", FILE_PASSWORD + "?")
    page.click("#btn-download")
    expect(page.locator("p.error")).to_have_text("パスワードが一致しません。")
    page.fill("input[name=password]", FILE_PASSWORD)
    page.fill("input[name=password_again]", FILE_PASSWORD)
    with page.expect_download() as info:
        page.click("#btn-download")
    download = info.value
    assert download.suggested_filename == "業務日誌_2026-10.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(str(saved))
    book = decrypt(saved.read_bytes(), FILE_PASSWORD)
    assert book["業務日誌"].cell(row=2 + 8, column=book["業務日誌"].max_column - 2).value == (
        "システム点検のため15時から30分停止。")
    page.context.close()


def test_counsellor_has_no_work_log(browser: Browser, gateway_sqlite: Gateway) -> None:  # noqa: F811
    gw = gateway_sqlite
    page = login(browser, gw, gw.add_user("counsellor"))
    expect(page.locator("nav.nav")).not_to_contain_text("業務日誌")
    page.goto(f"{gw.url}/console/worklog/2026-10")
    expect(page.locator("h1")).to_have_text("権限がありません")
    page.context.close()
