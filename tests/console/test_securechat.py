"""The secure chat off LINE (issue 16) against a real gateway on SQLite and PostgreSQL: links, sessions, attacks,
one conversation on two channels, and what reaches LINE (the fake inside the gateway; Rasa is down, so every user
text is acknowledged and queued for a counsellor)."""

from __future__ import annotations

from tests.console.conftest import Gateway, wait_for
from tests.console.securechat_steps import NOTICE, in_secure_chat, links, new_link, phone, tap_secure_chat
from tests.support.databases import execute


def conversation_of(gateway: Gateway, user: str) -> dict:
    return gateway.rows("SELECT c.id, c.channel, c.contact_id FROM conversations c JOIN contacts k ON k.id = "
                        "c.contact_id WHERE k.line_user_id = :u", u=user)[0]


def test_a_link_opens_once_on_one_device(gateway: Gateway, line_user: str) -> None:
    url = new_link(gateway, line_user)
    assert "30分以内" in next(t for t in gateway.delivered(line_user) if url in t)
    stored = gateway.rows("SELECT token_hash FROM secure_links")
    assert url.split("t=")[1] not in str(stored)  # only the hash is kept
    shown = gateway.rows("SELECT text FROM messages WHERE text LIKE '%/secure/open%' AND conversation_id = :c",
                         c=conversation_of(gateway, line_user)["id"])
    assert shown and all(url.split("t=")[1] not in r["text"] for r in shown)  # the console never sees the token

    browser = phone(gateway)
    opened = browser.open(url)
    assert opened.status_code == 200
    cookie = opened.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/secure" in cookie
    page = browser.client.get("/secure/")
    assert "ここはLINEではありません" in page.text and "LINEには残らず" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert conversation_of(gateway, line_user)["channel"] == "web"

    replay = phone(gateway).open(url)  # the same link again, from anywhere
    assert replay.status_code == 403 and "もう使われています" in replay.text
    assert "set-cookie" not in replay.headers

    thief = phone(gateway, user_agent="Mozilla/5.0 (X11; Linux x86_64) Desktop")
    thief.client.cookies.set("ycc_secure", browser.client.cookies["ycc_secure"], path="/secure")
    refused = thief.client.get("/secure/")
    assert refused.status_code == 401 and "この端末では開けません" in refused.text
    assert thief.messages().status_code == 401
    assert browser.messages().status_code == 200  # the device that opened it still can


def test_a_newer_link_revokes_the_older_and_links_expire(gateway: Gateway, line_user: str) -> None:
    first = new_link(gateway, line_user)
    second = new_link(gateway, line_user)
    revoked = phone(gateway).open(first)
    assert revoked.status_code == 403 and "新しいリンク" in revoked.text
    execute(gateway.database_url, "UPDATE secure_links SET expires_at = :t WHERE revoked_at IS NULL AND spent_at IS "
            "NULL AND contact_id = :c", t="2000-01-01 00:00:00", c=conversation_of(gateway, line_user)["contact_id"])
    expired = phone(gateway).open(second)
    assert expired.status_code == 403 and "有効期限" in expired.text
    unknown = phone(gateway).open(first[: first.index("t=") + 2] + "x" * 43)
    assert unknown.status_code == 403 and "使えません" in unknown.text and "set-cookie" not in unknown.headers


def test_a_cookie_reaches_only_its_own_conversation(gateway: Gateway, line_user: str) -> None:
    other = "U" + line_user[1:][::-1]
    mine, theirs = in_secure_chat(gateway, line_user), in_secure_chat(gateway, other)
    assert mine.say("ひみつのはなし、わたしの").status_code == 202
    assert theirs.say("べつのひとのはなし").status_code == 202
    wait_for(lambda: len([m for m in mine.messages().json()["items"] if m["from"] == "me"]) == 1, 15)
    texts = [m["text"] for m in mine.messages().json()["items"]]
    assert "ひみつのはなし、わたしの" in texts and "べつのひとのはなし" not in texts
    stored = gateway.rows("SELECT conversation_id, channel FROM messages WHERE text = 'べつのひとのはなし'")
    assert stored == [{"conversation_id": conversation_of(gateway, other)["id"], "channel": "web"}]
    forged = phone(gateway)
    forged.client.cookies.set("ycc_secure", "not-a-session", path="/secure")
    assert forged.messages().status_code == 401


def test_writes_need_the_csrf_token_and_a_sane_body(gateway: Gateway, line_user: str) -> None:
    browser = in_secure_chat(gateway, line_user)
    before = gateway.rows("SELECT count(*) AS n FROM inbox")[0]["n"]
    no_token = browser.client.post("/secure/api/messages", json={"text": "こんにちは"})
    assert no_token.status_code == 403 and "開き直して" in no_token.json()["message"]
    other_site = browser.say("こんにちは", headers={"X-CSRF-Token": browser.csrf, "Origin": "https://evil.example"})
    assert other_site.status_code == 403
    too_long = browser.say("あ" * 5001)
    assert too_long.status_code == 413 and "5000文字以内" in too_long.json()["message"]
    bad = browser.client.post("/secure/api/messages", content=b"{not json", headers={"X-CSRF-Token": browser.csrf})
    assert bad.status_code == 400 and bad.json()["message"]
    listed = browser.client.post("/secure/api/messages", json=["text"], headers={"X-CSRF-Token": browser.csrf})
    assert listed.status_code == 400
    empty = browser.say("   ")
    assert empty.status_code == 400 and "入力してください" in empty.json()["message"]
    leave = browser.client.post("/secure/api/leave", json={})
    assert leave.status_code == 403  # leaving is a write too
    assert gateway.rows("SELECT count(*) AS n FROM inbox")[0]["n"] == before  # nothing stored, nothing lost
    assert browser.say("あ" * 5000).status_code == 202  # the limit itself is fine


def test_one_conversation_two_channels_and_back_to_line(gateway: Gateway, line_user: str) -> None:
    gateway.user_says(line_user, "LINEで書いたこと")
    browser = in_secure_chat(gateway, line_user)
    assert browser.say("安全な画面で書いたこと").status_code == 202
    counsellor = gateway.add_user("counsellor")
    console = gateway.login(counsellor)
    item = gateway.queued(console, line_user)
    assert console.post(f"/api/conversations/{item['id']}/assign", {}).status_code == 200
    listed = wait_for(lambda: [m for m in console.get(f"/api/conversations/{item['id']}/messages").json()["items"]
                               if m["text"] == "安全な画面で書いたこと"], 15)
    assert listed[0]["channel"] == "web"
    first = next(m for m in console.get(f"/api/conversations/{item['id']}/messages").json()["items"]
                 if m["text"] == "LINEで書いたこと")
    assert first["channel"] == "line"
    assert console.get(f"/api/conversations/{item['id']}").json()["channel"] == "web"

    sent = console.post(f"/api/conversations/{item['id']}/messages", {"text": "相談員からのへんじです"})
    assert sent.status_code == 201 and sent.json()["items"][0]["channel"] == "web"
    wait_for(lambda: "相談員からのへんじです" in [m["text"] for m in browser.messages().json()["items"]], 10)
    wait_for(lambda: NOTICE in gateway.delivered(line_user), 10)
    delivered = gateway.delivered(line_user)
    assert not any("へんじです" in t or "安全な画面で書いたこと" in t for t in delivered)

    left = browser.client.post("/secure/api/leave", json={}, headers={"X-CSRF-Token": browser.csrf})
    assert left.status_code == 200
    assert conversation_of(gateway, line_user)["channel"] == "line"
    assert browser.messages().status_code == 401
    wait_for(lambda: any("LINEでのご相談に戻りました" in t for t in gateway.delivered(line_user)), 10)
    moves = gateway.rows("SELECT actor, action, detail FROM audit_log WHERE object_type = 'conversation' AND "
                         "object_id = :c AND action LIKE 'channel_%' ORDER BY id", c=str(item["id"]))
    assert [(m["action"], m["detail"]) for m in moves] == [("channel_web", "opened_link"),
                                                          ("channel_line", "left_secure_chat")]
    console.post(f"/api/conversations/{item['id']}/messages", {"text": "LINEでのへんじ"})
    wait_for(lambda: "LINEでのへんじ" in gateway.delivered(line_user), 10)


def test_the_console_offers_the_secure_chat(gateway: Gateway, line_user: str) -> None:
    gateway.user_says(line_user, "そうだんしたい")
    holder, other = gateway.add_user("counsellor"), gateway.add_user("counsellor")
    console = gateway.login(holder)
    item = gateway.queued(console, line_user)
    outsider = gateway.login(other)
    assert outsider.post(f"/api/conversations/{item['id']}/secure-link", {}).status_code == 403  # queued, not theirs
    console.post(f"/api/conversations/{item['id']}/assign", {})
    assert outsider.post(f"/api/conversations/{item['id']}/secure-link", {}).status_code == 403
    assert console.post(f"/api/conversations/{item['id']}/secure-link", {}, csrf=False).status_code == 403
    created = console.post(f"/api/conversations/{item['id']}/secure-link", {})
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"url", "expires_at"} and "/secure/open?t=" in body["url"] and "+09:00" in body["expires_at"]
    wait_for(lambda: body["url"] in links(gateway, line_user), 10)
    assert phone(gateway).open(body["url"]).status_code == 200
    audit = gateway.rows("SELECT actor FROM audit_log WHERE action = 'secure_link' AND object_id = :c",
                         c=str(item["id"]))
    assert audit == [{"actor": holder.name}]


def test_silent_notices_and_a_lost_session(gateway: Gateway, line_user: str) -> None:
    browser = in_secure_chat(gateway, line_user)
    chosen = browser.client.post("/secure/api/settings", json={"silent": True}, headers={"X-CSRF-Token": browser.csrf})
    assert chosen.status_code == 200
    assert browser.say("だれかいますか").status_code == 202  # Rasa is down: the acknowledgement goes to the page
    wait_for(lambda: [m for m in browser.messages().json()["items"] if m["from"] == "system"], 15)
    wait_for(lambda: NOTICE in gateway.delivered(line_user), 10)
    pushes = [r for r in gateway.line_requests("push") if r.get("body", {}).get("to") == line_user]
    notice = next(r for r in pushes if NOTICE in str(r["body"]))
    assert notice["body"].get("notificationDisabled") is True
    tap_secure_chat(gateway, line_user)  # the notice's quick reply: a new link; opened, it ends the old session
    fresh = wait_for(lambda: links(gateway, line_user)[1:], 10)[-1]
    assert browser.messages().status_code == 200
    assert phone(gateway).open(fresh).status_code == 200
    assert browser.messages().status_code == 401


def test_quick_replies_on_the_page_are_sent_on_as_taps(gateway: Gateway, line_user: str) -> None:
    browser = in_secure_chat(gateway, line_user)
    conversation = conversation_of(gateway, line_user)["id"]
    execute(gateway.database_url, "INSERT INTO messages (conversation_id, direction, sender, kind, text, "
            "quick_replies, event_at, created_at, delivery, crisis, internal, channel) VALUES (:c, 'out', 'bot', "
            "'text', '相談員と話しますか？', :q, :t, :t, 'sent', false, false, 'web')", c=conversation,
            t="2030-01-01 00:00:00", q='[{"title": "相談員と話す", "payload": "/request_human"}]')
    assert browser.messages().json()["quick_replies"] == ["相談員と話す"]
    stale = browser.client.post("/secure/api/messages", json={"reply": "ほかのボタン"},
                                headers={"X-CSRF-Token": browser.csrf})
    assert stale.status_code == 409 and "文字で送ってください" in stale.json()["message"]
    tapped = browser.client.post("/secure/api/messages", json={"reply": "相談員と話す"},
                                 headers={"X-CSRF-Token": browser.csrf})
    assert tapped.status_code == 202
    stored = wait_for(lambda: gateway.rows("SELECT kind, text FROM messages WHERE conversation_id = :c AND "
                                           "direction = 'in' AND channel = 'web'", c=conversation), 10)
    assert stored == [{"kind": "postback", "text": "相談員と話す"}]
    body = gateway.rows("SELECT body FROM inbox WHERE source_key = :u AND event_type = 'postback' ORDER BY id DESC",
                        u=line_user)[0]["body"]
    assert "/request_human" in str(body)


def test_the_safety_screen_works_the_same_on_the_page(gateway: Gateway, line_user: str) -> None:
    browser = in_secure_chat(gateway, line_user)
    assert browser.say("もう死にたい").status_code == 202
    answer = wait_for(lambda: [m["text"] for m in browser.messages().json()["items"] if m["from"] == "system"], 15)
    assert any("110" in t or "119" in t for t in answer)  # the crisis reply, at once, where they wrote
    conversation = conversation_of(gateway, line_user)["id"]
    flagged = gateway.rows("SELECT risk_level, channel FROM messages WHERE conversation_id = :c AND direction = 'in' "
                           "AND channel = 'web'", c=conversation)
    assert flagged == [{"risk_level": "crisis", "channel": "web"}]
    assert gateway.rows("SELECT type FROM alerts WHERE conversation_id = :c", c=conversation)[0]["type"] == "crisis"
    assert gateway.rows("SELECT status, crisis FROM conversations WHERE id = :c", c=conversation)[0]["status"] == \
        "queued"
    wait_for(lambda: NOTICE in gateway.delivered(line_user), 10)
    assert not any("死にたい" in t for t in gateway.delivered(line_user))
