"""The console in a real browser (Debian's chromium via Playwright): the whole handoff, crisis, role limits.

Screenshots land in tests/console/screenshots/ and are checked: the crisis banner must really be red on screen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.console.conftest import Account, Gateway, new_line_user, wait_for
from tests.console.pngcheck import is_crisis_red, pixels, share
from tests.support.databases import execute

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )
        yield launched
        launched.close()


def login(browser: Browser, gateway: Gateway, account: Account) -> Page:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="ja-JP",
                                  timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(f"{gateway.url}/console/login")
    page.screenshot(path=str(SCREENSHOTS / "login.png"))
    page.fill("input[name=username]", account.name)
    page.fill("input[name=password]", account.password)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("確認コード")
    page.screenshot(path=str(SCREENSHOTS / "totp.png"))
    page.fill("input[name=code]", account.code())
    page.click("button[type=submit]")
    page.wait_for_url("**/console/**")
    return page


def test_whole_handoff_in_the_browser(browser: Browser, gateway_sqlite: Gateway) -> None:
    gw = gateway_sqlite
    page = login(browser, gw, gw.add_user("counsellor", quals="A,B"))
    expect(page).to_have_url(f"{gw.url}/console/queue")
    page.evaluate("window.__noReload = true")
    user = new_line_user()
    gw.user_says(user, "学校と家のことで相談したいです")
    cid = wait_for(lambda: next((c["id"] for c in page.request.get(f"{gw.url}/api/conversations?status=queued")
                                 .json()["items"] if c["line_user_id"] == user), None))
    row = page.locator(f"tr[data-conversation='{cid}']")
    expect(row).to_be_visible(timeout=5000)  # arrived over the WebSocket
    assert page.evaluate("window.__noReload") is True
    # The title badge counts waiting conversations (after 【危機】 when another test left a crisis in the queue).
    assert page.title().removeprefix("【危機】").startswith("(")
    page.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)

    row.locator("button[data-claim]").click()
    page.wait_for_url(f"**/console/chat/{cid}")
    expect(page.locator("#history")).to_contain_text("学校と家のことで相談したいです")
    page.select_option("#template-select", label="担当のあいさつ")
    assert "相談員です" in page.input_value("#composer-text")
    page.click("#btn-send")
    wait_for(lambda: any("相談員です" in text for text in gw.delivered(user)))
    expect(page.locator(".msg-agent .delivery[data-delivery='sent']")).to_be_visible(timeout=5000)
    page.check("input[name=mode][value=note]")
    page.fill("#composer-text", "次回は進路の話を聞く")
    page.click("#btn-send")
    expect(page.locator(".msg-note")).to_contain_text("次回は進路の話を聞く")
    gw.user_says(user, "ありがとうございます")
    expect(page.locator("#history")).to_contain_text("ありがとうございます", timeout=5000)
    wait_for(lambda: gw.rows("SELECT 1 FROM messages WHERE conversation_id = :c AND direction = 'in' AND "
                             "read_at IS NULL", c=cid) == [])  # the open page marked them read
    page.screenshot(path=str(SCREENSHOTS / "chat.png"), full_page=True)

    page.click("#btn-resolve")  # empty form: the server refuses and names each field
    expect(page.locator(".field-error[data-field='summary']")).to_have_text("相談の概要を書いてください。")
    form = page.locator("#resolve-form")
    form.locator("input[name=topics][value=care_burden]").check()
    form.locator("input[name=topics][value=school]").check()
    form.locator("input[name=care_recipients][value=mother]").check()
    form.locator("input[name=referral_made][value=no]").check()
    form.locator("input[name=follow_up][value=yes]").check()
    form.locator("textarea[name=summary]").fill("母の介護と学校の両立。次回は進路。")
    page.click("#btn-resolve")
    page.wait_for_url("**/console/queue")
    assert gw.rows("SELECT topics FROM records WHERE conversation_id = :c", c=cid)
    wait_for(lambda: len(gw.delivered(user)) >= 3)
    gw.user_says(user, "またお話ししたいです")
    wait_for(lambda: gw.rows("SELECT 1 FROM status_changes WHERE conversation_id = :c AND from_status = 'resolved' "
                             "AND to_status = 'bot'", c=cid))
    page.context.close()


def test_crisis_banner_and_case_checklist(browser: Browser, gateway_sqlite: Gateway) -> None:
    gw = gateway_sqlite
    supervisor = gw.add_user("supervisor")
    page = login(browser, gw, supervisor)
    expect(page).to_have_url(f"{gw.url}/console/queue")
    user = new_line_user()
    gw.user_says(user, "もう消えたい。死にたい")
    conversation = wait_for(lambda: next((c for c in page.request.get(
        f"{gw.url}/api/conversations?status=queued&limit=1000").json()["items"]
        if c["line_user_id"] == user and c["crisis"]), None))
    row = page.locator(f"tr[data-conversation='{conversation['id']}']")
    expect(row).to_have_class("row-crisis", timeout=5000)  # arrived live, without a reload
    expect(page.locator("#queue-body tr").first).to_have_class("row-crisis")  # crisis first
    banner = page.locator("#crisis-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("危機対応が必要な相談があります")
    expect(banner).to_contain_text(f"相談 #{conversation['id']}")
    expect(page).to_have_title(re.compile("^【危機】"))
    banner.screenshot(path=str(SCREENSHOTS / "crisis_banner.png"))
    page.screenshot(path=str(SCREENSHOTS / "crisis_queue.png"), full_page=True)
    assert share(SCREENSHOTS / "crisis_banner.png", is_crisis_red) > 0.5

    cases = page.request.get(f"{gw.url}/api/escalations").json()["items"]
    case = next(c for c in cases if c["conversation_id"] == conversation["id"])
    page.goto(f"{gw.url}/console/cases")
    expect(page.locator("#cases-body")).to_contain_text(f"ケース #{case['id']}")
    page.goto(f"{gw.url}/console/cases/{case['id']}")
    for step in ("contact_confirmed", "situation_confirmed", "provider_notified"):
        item = page.locator(f"li[data-step='{step}']")
        item.locator("input[name=note]").fill("電話で確認済み")
        item.locator("button[data-done=true]").click()
        expect(page.locator(f"li[data-step='{step}']")).to_have_class("step done")
    expect(page.locator("li[data-step='contact_confirmed'] .step-when")).to_contain_text(supervisor.name)
    page.fill("#close-form textarea[name=outcome]", "本人の安全を確認。母と連絡がついた。")
    page.click("#close-form button[type=submit]")
    expect(page.locator("#close-form .field-error[data-field='reason']")).to_contain_text("理由")
    page.fill("#close-form textarea[name=reason]", "命の危険はないとスーパーバイザーが判断し通報は不要")
    page.click("#close-form button[type=submit]")
    expect(page.locator("#case-status")).to_have_text("終了")
    page.screenshot(path=str(SCREENSHOTS / "case.png"), full_page=True)
    width, height, _ = pixels(SCREENSHOTS / "case.png")
    assert width >= 1000 and height >= 600
    stored = gw.rows("SELECT status, close_reason FROM escalations WHERE id = :i", i=case["id"])[0]
    assert stored["status"] == "closed" and "通報は不要" in stored["close_reason"]
    page.context.close()


def test_counsellor_cannot_open_records_or_admin_in_the_browser(browser: Browser, gateway_sqlite: Gateway) -> None:
    gw = gateway_sqlite
    account = gw.add_user("counsellor")
    page = login(browser, gw, account)
    for path in ("/console/records", "/console/admin/"):
        response = page.goto(f"{gw.url}{path}")
        assert response is not None and response.status == 403
        expect(page.locator("h1")).to_have_text("権限がありません")
    assert len(gw.rows("SELECT 1 FROM audit_log WHERE actor = :a AND allowed = :f", a=account.name, f=False)) == 2
    assert page.locator("nav a", has_text="相談記録").count() == 0
    page.context.close()


def test_admin_adds_a_counsellor_and_sees_enrolment_once(browser: Browser, gateway_sqlite: Gateway) -> None:
    gw = gateway_sqlite
    page = login(browser, gw, gw.add_user("admin"))
    page.wait_for_url("**/console/admin*")
    page.fill("form[action='/console/admin/users'] input[name=name]", "newcomer_c")
    page.fill("form[action='/console/admin/users'] input[name=display_name]", "新人 相談員")
    page.check("form[action='/console/admin/users'] input[name=qualifications][value=C]")
    page.click("form[action='/console/admin/users'] button")
    expect(page.locator("#enrolment")).to_be_visible()
    assert len(page.inner_text("#enrol-secret").strip()) >= 16
    page.screenshot(path=str(SCREENSHOTS / "admin.png"), full_page=True)
    assert gw.rows("SELECT qualifications FROM users WHERE name = 'newcomer_c'")[0]["qualifications"] == "C"
    page.goto(f"{gw.url}/console/admin/")
    assert page.locator("#enrolment").count() == 0  # shown once: a reload does not show the secret again
    page.context.close()


def test_idle_session_sends_the_browser_back_to_login(browser: Browser, gateway_sqlite: Gateway) -> None:
    gw = gateway_sqlite
    account = gw.add_user("counsellor")
    page = login(browser, gw, account)
    expect(page).to_have_url(f"{gw.url}/console/queue")
    execute(gw.database_url, "UPDATE console_sessions SET last_seen_at = :t WHERE user_id = :u",  # walked away
            t=datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2), u=account.id)
    gw.user_says(new_line_user(), "こんにちは")  # the live update makes the page call the API, which refuses
    page.wait_for_url("**/console/login", timeout=15000)
    expect(page.locator("h1")).to_have_text("ログイン")
    response = page.goto(f"{gw.url}/console/queue")
    assert response is not None and page.url.endswith("/console/login")
    page.context.close()


def test_cross_site_request_cannot_act_for_a_logged_in_counsellor(browser: Browser, gateway_sqlite: Gateway) -> None:
    gw = gateway_sqlite
    page = login(browser, gw, gw.add_user("counsellor"))
    user = new_line_user()
    gw.user_says(user, "こんにちは")
    cid = wait_for(lambda: next((c["id"] for c in page.request.get(f"{gw.url}/api/conversations?status=queued")
                                 .json()["items"] if c["line_user_id"] == user), None))
    evil = page.context.new_page()  # same browser, same cookies, another site (localhost ≠ 127.0.0.1)
    evil.goto(gw.url.replace("127.0.0.1", "localhost") + "/healthz")
    evil.evaluate("""url => fetch(url, {method: 'POST', mode: 'no-cors', credentials: 'include',
                                        body: '{}', headers: {'Content-Type': 'text/plain'}})""",
                  f"{gw.url}/api/conversations/{cid}/assign")
    same_site_without_token = page.evaluate(
        """url => fetch(url, {method: 'POST', body: '{}'}).then(r => r.status)""",
        f"{gw.url}/api/conversations/{cid}/assign")
    assert same_site_without_token == 403  # the cookie alone is not enough: the CSRF header is required
    assert page.request.get(f"{gw.url}/api/conversations/{cid}").json()["status"] == "queued"
    page.context.close()


def test_the_pages_scripts_read_labels_event_types_and_roles_from_the_server(
    browser: Browser, gateway_sqlite: Gateway
) -> None:
    """Issue 15: profile labels (handoff/domain/profile.yml), statuses, live event types and roles are rendered into the
    page, so the console's JavaScript shows the server's words and matches the server's names."""
    gw = gateway_sqlite
    page = login(browser, gw, gw.add_user("supervisor"))
    page.goto(f"{gw.url}/console/queue")
    shown = page.evaluate(
        "() => [YCC.label('age_band', '16_18'), YCC.label('care_recipients', ['mother', 'grandparent']),"
        " YCC.label('status', 'queued'), YCC.EVENTS.CRISIS, YCC.EVENTS.CASE, YCC.ROLES.SUPERVISOR]"
    )
    assert shown == ["16〜18歳", "母・祖父母", "待機中", "crisis", "case", "supervisor"]
    page.context.close()
