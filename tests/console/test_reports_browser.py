"""The pages of issue 17 items 3, 5, 7 and 9 in a real browser at a tablet's and a laptop's width (768 and 1366 px):
what a supervisor or counsellor sees on them, nothing wider than the screen, no navigation label broken. Screenshots
land in tests/console/screenshots/."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Browser, Page, expect

from handoff.settings import normalise_database_url
from handoff.store.db import Database
from tests.console.conftest import Gateway
from tests.console.statistics_seed import seed_november
from tests.console.test_console_browser import CHROMIUM, SCREENSHOTS, browser, login  # noqa: F401 (fixture)
from tests.console.test_console_layout_browser import WIDTHS, _problems

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


def seed(gateway: Gateway, tag: str = "br") -> None:
    """The statistics' November, once per gateway database (the browser tests share one)."""
    if gateway.rows("SELECT 1 FROM users WHERE name = :n", n=f"st_agent_{tag}"):
        return

    async def run() -> dict[str, int]:
        db = Database(normalise_database_url(gateway.database_url))
        try:
            async with db.session() as session:
                return await seed_november(session, tag)
        finally:
            await db.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(run())).result()


def at_both_widths(page: Page, url: str, name: str) -> list[str]:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SCREENSHOTS / f"{name}_{width}.png"), full_page=True)
        problems += [f"{name} at {width}px: {p}" for p in _problems(page, width)]
    return problems


def test_supervisor_reads_the_survey_results(browser: Browser, gateway_sqlite: Gateway) -> None:  # noqa: F811
    gw = gateway_sqlite
    seed(gw)
    page = login(browser, gw, gw.add_user("supervisor"))
    page.goto(f"{gw.url}/console/worklog/2026-11")
    page.click("#survey-link")
    expect(page.locator("h1")).to_contain_text("相談後アンケート")
    expect(page.locator("#survey-month")).to_have_text("2026年11月")
    # Each seed of November (this file's, or test_statistics' on the same shared gateway, whichever ran first)
    # sends 2 surveys, one answered 「役に立った」 with one comment.
    seeds = len(gw.rows("SELECT 1 FROM users WHERE name LIKE 'st_agent_%'"))
    rows = page.locator("#survey-table tbody tr")
    expect(rows.filter(has_text="送ったアンケート")).to_contain_text(str(2 * seeds))
    expect(rows.filter(has_text="役に立ったか：役に立った")).to_contain_text(str(seeds))
    expect(page.locator("#survey-comments li")).to_have_count(seeds)
    problems = at_both_widths(page, f"{gw.url}/console/survey/2026-11", "survey")
    page.context.close()
    assert problems == []


def test_counsellor_checks_in_and_out_of_duty(browser: Browser, gateway_sqlite: Gateway) -> None:  # noqa: F811
    gw = gateway_sqlite
    account = gw.add_user("counsellor", quals="C")
    page = login(browser, gw, account)
    page.click("nav.nav >> text=勤務")
    expect(page.locator("#duty-status")).to_have_text("勤務外です。")
    page.click("#btn-check-in")
    expect(page.locator("#duty-status")).to_contain_text("勤務中です")
    expect(page.locator("#on-duty")).to_contain_text(account.name)
    expect(page.locator("#on-duty")).to_contain_text("C")
    problems = at_both_widths(page, f"{gw.url}/console/duty", "duty")
    page.click("#btn-check-out")
    expect(page.locator("#duty-status")).to_have_text("勤務外です。")
    page.context.close()
    assert problems == []


def test_supervisor_sees_retention_beside_line_figures(browser: Browser, gateway_sqlite: Gateway) -> None:  # noqa: F811
    gw = gateway_sqlite
    seed(gw)
    page = login(browser, gw, gw.add_user("supervisor"))
    page.goto(f"{gw.url}/console/worklog/2026-11")
    page.click("#retention-link")
    expect(page.locator("#retention-month")).to_have_text("2026年11月")
    expect(page.locator("#r-2026-11-27")).to_contain_text("412")
    expect(page.locator("#r-2026-11-28")).to_contain_text("集計中")
    expect(page.locator("#cohorts tbody tr")).to_have_count(6)
    problems = at_both_widths(page, f"{gw.url}/console/retention/2026-11", "retention")
    page.context.close()
    assert problems == []


def test_counsellor_records_a_referral_and_prints_the_summary(browser: Browser, gateway_sqlite: Gateway  # noqa: F811
                                                              ) -> None:
    from tests.console.test_referrals import claimed

    gw = gateway_sqlite
    account = gw.add_user("counsellor", quals="A,B")
    api = gw.login(account)
    _, cid = claimed(gw, api)
    page = login(browser, gw, account)
    page.goto(f"{gw.url}/console/chat/{cid}")
    page.click("#link-referral")
    expect(page.locator("h1")).to_contain_text("関係機関へつなぐ")
    problems = at_both_widths(page, page.url, "referral_new")
    page.check("input[name=recipient][value='金沢市児童相談所']")
    page.check("input[name=shared][value='age_band']")
    page.click("#btn-referral")
    expect(page.locator("#referral-consent")).to_be_visible()  # refused: consent not ticked
    expect(page.locator(".field-error[data-field=consent]")).to_contain_text("本人の同意")
    page.check("input[name=recipient][value='金沢市児童相談所']")
    page.check("#referral-consent")
    page.click("#btn-referral")
    expect(page.locator("#referral-facts")).to_contain_text("金沢市児童相談所（児童相談所）")
    referral_url = page.url
    problems += at_both_widths(page, referral_url, "referral")
    problems += at_both_widths(page, referral_url + "/summary", "referral_summary")
    expect(page.locator("#referral-summary")).to_contain_text("16〜18歳")
    page.goto(referral_url)
    page.check("input[name=outcome][value=connected]")
    page.click("#btn-outcome")
    expect(page.locator("#referral-outcome")).to_contain_text("つながった")
    page.context.close()
    sup = login(browser, gw, gw.add_user("supervisor"))
    problems += at_both_widths(sup, f"{gw.url}/console/referrals?all=1", "referrals")
    expect(sup.locator("#referrals-table")).to_contain_text("金沢市児童相談所")
    sup.context.close()
    assert problems == []
