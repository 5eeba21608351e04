"""Trainers mark misread bot turns with the right intent and export them (issue 14, item 7; issue 12's gap).

The page shows what NLU read each user turn as; a trainer's label is a plain form post (CSRF-checked), allowed only
on reviewable turns (consented, text, no crisis) and only with an intent the bot has; the export is masked,
owner-only and audited. In a real browser too (fixture and login as in test_console_browser.py).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, expect

from tests.console.conftest import PASSWORD, Console, Gateway, new_line_user, wait_for
from tests.console.test_console_browser import CHROMIUM, SCREENSHOTS, browser, login  # noqa: F401 (fixture)
from tests.support.databases import execute

SAID = "佐藤さんに言われたんだけど、ここって夜もやってる？"
MASKED = "［名前］さんに言われたんだけど、ここって夜もやってる？"


def _turn(gw: Gateway, text: str, *, consent: bool = True, intent: str = "share_worry", confidence: float = 0.41,
          crisis: bool = False) -> int:
    """A user's turn as the pipeline stores it, then the bot's reading of it."""
    user = new_line_user()
    gw.user_says(user, text)
    found = wait_for(lambda: gw.rows(
        "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k "
        "ON k.id = c.contact_id WHERE k.line_user_id = :u AND m.sender = 'user'", u=user))
    message_id = found[0]["id"]
    execute(gw.database_url, "UPDATE contacts SET consent = :c WHERE line_user_id = :u", c=consent, u=user)
    execute(gw.database_url, "UPDATE messages SET nlu_intent = :i, nlu_confidence = :p, crisis = :k WHERE id = :m",
            i=intent, p=confidence, k=crisis, m=message_id)
    return message_id


def _label(console: Console, message_id: int, intent: str, *, csrf: bool = True) -> httpx.Response:
    form = {"message_id": str(message_id), "intent": intent, "show": "all"}
    if csrf:
        form["csrf_token"] = console.csrf
    return console.client.post("/console/training/labels", data=form, follow_redirects=False)



def _labels(gw: Gateway) -> list[dict[str, object]]:
    return gw.rows("SELECT message_id, intent, predicted, author FROM nlu_labels ORDER BY id")


def test_a_trainer_sees_the_reading_and_labels_a_misread_turn(gateway_sqlite: Gateway) -> None:
    gw = gateway_sqlite
    message_id = _turn(gw, SAID)
    trainer = gw.add_user("trainer")
    console = gw.login(trainer)
    page = console.get("/console/training?show=unsure").text
    assert MASKED in page and "佐藤" not in page
    assert re.search(r"読み取り: <code class=\"nlu-intent\">share_worry</code>（自信 0\.41）", page)
    assert '<option value="ask_hours">' in page and '<option value="follow">' not in page

    done = _label(console, message_id, "ask_hours")
    assert done.status_code == 303 and done.headers["location"].endswith(f"#turn-{message_id}")
    assert [(r["message_id"], r["intent"], r["predicted"], r["author"]) for r in _labels(gw)
            if r["message_id"] == message_id] == [(message_id, "ask_hours", "share_worry", trainer.name)]
    assert "正しい意図: <code class=\"nlu-label\">ask_hours</code>" in console.get("/console/training").text
    audit = gw.rows("SELECT action, object_id, detail FROM audit_log WHERE actor = :a AND action = 'label_nlu'",
                    a=trainer.name)
    assert audit == [{"action": "label_nlu", "object_id": str(message_id), "detail": "ask_hours"}]

    _label(console, message_id, "")  # taken back
    assert [r for r in _labels(gw) if r["message_id"] == message_id] == []


def test_labels_are_refused_off_the_allow_list_without_csrf_or_for_counsellors(gateway_sqlite: Gateway) -> None:
    gw = gateway_sqlite
    declined = _turn(gw, "同意してない人の発言", consent=False)
    crisis = _turn(gw, "危機として扱われた発言", crisis=True)
    fine = _turn(gw, "ふつうの発言です")
    console = gw.login(gw.add_user("trainer"))
    before = len(_labels(gw))
    for message_id, intent in ((declined, "ask_hours"), (crisis, "ask_hours"), (fine, "no_such_intent"),
                               (fine, "follow")):
        refused = _label(console, message_id, intent)
        assert "error=refused" in refused.headers["location"], (message_id, intent)
    assert _label(console, fine, "ask_hours", csrf=False).status_code == 403
    counsellor = gw.login(gw.add_user("counsellor"))
    assert _label(counsellor, fine, "ask_hours").status_code == 403
    assert len(_labels(gw)) == before
    assert "同意してない人の発言" not in console.get("/console/training").text


def test_export_nlu_writes_masked_labelled_turns_owner_only_and_audits(gateway_sqlite: Gateway,
                                                                       tmp_path: Path) -> None:
    gw = gateway_sqlite
    message_id = _turn(gw, SAID, intent="nlu_fallback", confidence=0.3)
    trainer = gw.add_user("trainer")
    assert _label(gw.login(trainer), message_id, "ask_hours").status_code == 303
    out = tmp_path / "reviewed.yml"
    done = gw.ycc("training", "export-nlu", "--out", str(out), "--as", trainer.name, stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert SAID not in done.stdout + done.stderr and "佐藤" not in out.read_text(encoding="utf-8")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    items = yaml.safe_load(out.read_text(encoding="utf-8"))["items"]
    assert {"text": MASKED, "intent": "ask_hours", "predicted": "nlu_fallback"} in items
    assert gw.rows("SELECT allowed, detail FROM audit_log WHERE action = 'export_nlu_labels' AND actor = :a",
                   a=trainer.name) == [{"allowed": 1, "detail": f"examples={len(items)}"}]
    refused = gw.ycc("training", "export-nlu", "--out", str(tmp_path / "no.yml"), "--as",
                     gw.add_user("counsellor").name, stdin=PASSWORD + "\n")
    assert refused.returncode == 2 and not (tmp_path / "no.yml").exists()


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)")
def test_labelling_in_a_real_browser(browser: Browser, gateway_sqlite: Gateway) -> None:  # noqa: F811
    gw = gateway_sqlite
    message_id = _turn(gw, "あのさ、ここってなんじまで？", intent="greet", confidence=0.52)
    page = login(browser, gw, gw.add_user("trainer"))
    page.goto(f"{gw.url}/console/training?show=unsure")
    turn = page.locator(f"#turn-{message_id}")
    expect(turn.locator(".nlu-intent")).to_have_text("greet")
    turn.locator("select[name=intent]").select_option("ask_hours")
    turn.get_by_role("button", name="この意図にする").click()
    expect(page.locator(f"#turn-{message_id} .nlu-label")).to_have_text("ask_hours", timeout=5000)
    page.set_viewport_size({"width": 360, "height": 740})
    page.screenshot(path=str(SCREENSHOTS / "training_label.png"), full_page=True)
    assert wait_for(lambda: [r for r in _labels(gw) if r["message_id"] == message_id])[0]["intent"] == "ask_hours"
    page.context.close()
