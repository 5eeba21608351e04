"""The case page's contact-details panel in a real browser (issue 16.4): ask, then show the sealed answers."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.console.conftest import Gateway, new_line_user, wait_for
from tests.console.test_console_browser import browser, login, pytestmark  # noqa: F401  (fixture, marks)
from tests.console.test_contact_details import ANSWERS, _submit


def test_the_holder_asks_on_the_case_page_and_shows_the_answers(browser: Browser, gateway_sqlite: Gateway) -> None:  # noqa: F811
    gw = gateway_sqlite
    account = gw.add_user("counsellor", quals="AB")
    api = gw.login(account)
    user = new_line_user()
    gw.user_says(user, "もう消えたい。死にたい")
    conversation = gw.queued(api, user)
    assert api.post(f"/api/conversations/{conversation['id']}/assign").status_code == 200
    case = wait_for(lambda: next((c for c in api.get("/api/escalations").json()["items"]
                                  if c["conversation_id"] == conversation["id"]), None))
    page = login(browser, gw, account)
    page.goto(f"{gw.url}/console/cases/{case['id']}")
    page.click("#contact-show")
    expect(page.locator("#contact-list")).to_contain_text("まだたずねていません")
    page.click("#contact-ask")
    expect(page.locator("#contact-message")).to_contain_text("フォームを出しました")
    _submit(gw, conversation["id"], ANSWERS)
    page.click("#contact-show")
    panel = page.locator("#contact-list")
    for value in ANSWERS.values():
        expect(panel).to_contain_text(value)
    expect(panel).to_contain_text("電話番号")
    views = gw.rows("SELECT count(*) AS n FROM audit_log WHERE action = 'view_contact' AND actor = :a", a=account.name)
    assert views[0]["n"] == 2  # each showing is audited, the empty one too
    page.context.close()
