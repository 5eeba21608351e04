"""Guideline mode (YCC_SECURE_CHAT_ONLY=1, issue 16 item 5) end to end on its own gateway, and the token endpoint's
rate limit (last: it leaves this gateway's address throttled).

After the greeting and consent LINE carries only routing text (with a link) and content-free notices; whatever the
user still writes on LINE is kept, screened and answered with a link, never by the bot or a counsellor on LINE.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests.console.conftest import Gateway, _start, new_line_user, wait_for
from tests.console.securechat_steps import NOTICE, links, phone
from tests.support.databases import database
from tests.support.servers import INTERNAL_TOKEN


@pytest.fixture(scope="module")
def guideline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("securechat_guideline")
    with database("sqlite", tmp) as url:
        yield from _start(tmp, url, YCC_SECURE_CHAT_ONLY="1", YCC_SECURE_LINK_MINUTES="5")


def consent(gateway: Gateway, user: str) -> None:
    """What the action server does when the user taps 「同意する」 (the bot is down in this harness)."""
    key = wait_for(lambda: gateway.rows("SELECT key FROM contacts WHERE line_user_id = :u", u=user), 10)[0]["key"]
    response = httpx.post(f"{gateway.url}/internal/contacts/{key}/consent",
                          json={"granted": True, "at": datetime.now(UTC).isoformat()},
                          headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}, timeout=10)
    assert response.status_code == 200, response.text


def test_after_consent_every_consultation_is_in_the_secure_chat(guideline: Gateway) -> None:
    gw, user = guideline, new_line_user()
    gw.user_says(user, "こんにちは")
    wait_for(lambda: gw.delivered(user), 10)  # before consent LINE works as usual (here: Rasa is down)
    consent(gw, user)
    first = wait_for(lambda: links(gw, user), 10)[-1]
    assert any("安全な画面でうかがっています" in t and "5分以内" in t for t in gw.delivered(user))

    gw.user_says(user, "LINEでつづきを書いてしまった")  # kept and screened, answered with a fresh link only
    fresh = wait_for(lambda: links(gw, user)[1:], 10)[-1]
    assert phone(gw).open(first).status_code == 403  # the newer link revoked it
    stored = gw.rows("SELECT m.channel FROM messages m WHERE m.text = 'LINEでつづきを書いてしまった'")
    assert stored == [{"channel": "line"}]

    browser = phone(gw)
    assert browser.open(fresh).status_code == 200
    assert "この画面を終了する" in browser.client.get("/secure/").text
    assert browser.say("画面でのそうだんです").status_code == 202
    counsellor = gw.add_user("counsellor")
    console = gw.login(counsellor)
    item = gw.queued(console, user)
    console.post(f"/api/conversations/{item['id']}/assign", {})
    assert console.post(f"/api/conversations/{item['id']}/messages", {"text": "相談員のこたえ"}).status_code == 201
    wait_for(lambda: "相談員のこたえ" in [m["text"] for m in browser.messages().json()["items"]], 10)
    wait_for(lambda: NOTICE in gw.delivered(user), 10)
    assert not any("こたえ" in t or "画面でのそうだん" in t for t in gw.delivered(user))

    left = browser.client.post("/secure/api/leave", json={}, headers={"X-CSRF-Token": browser.csrf})
    assert left.status_code == 200
    assert gw.rows("SELECT channel FROM conversations WHERE id = :c", c=item["id"]) == [{"channel": "web"}]
    assert browser.messages().status_code == 401
    gw.user_says(user, "死にたい")  # a crisis on LINE still gets the hotlines at once, on LINE
    wait_for(lambda: any("119" in t or "110" in t for t in gw.delivered(user)), 10)


def test_the_link_endpoint_is_rate_limited(guideline: Gateway) -> None:
    gw = guideline
    user = new_line_user()
    gw.user_says(user, "こんにちは")
    consent(gw, user)
    good = wait_for(lambda: links(gw, user), 10)[-1]
    guesser = phone(gw)
    statuses = [guesser.open(f"{gw.url}/secure/open?t=guess{i:040d}").status_code for i in range(11)]
    first = statuses.index(429)  # ten refusals from one address in ten minutes (the test above made one)
    assert 9 <= first <= 10 and set(statuses[:first]) == {403} and set(statuses[first:]) == {429}
    refused = guesser.client.get(good)
    assert refused.status_code == 429 and "少し時間をおいて" in refused.text and refused.headers["retry-after"]
    assert "set-cookie" not in refused.headers
