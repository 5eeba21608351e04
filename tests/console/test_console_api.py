"""The stable JSON API (docs/console.md, /api/openapi.json) against a real gateway, on SQLite and PostgreSQL
(R5, R16, R17, R19, R20)."""

from __future__ import annotations

import httpx

from tests.console.conftest import Gateway, new_line_user, wait_for

RECORD = {"topics": ["care_burden", "school"], "care_recipients": ["mother"], "referral_made": True,
          "referral": "金沢市こども家庭センター", "follow_up": True, "summary": "母の介護と学校の両立について。"}


def test_list_conversations_has_the_promised_fields_and_limits(gateway: Gateway, line_user: str) -> None:
    sup = gateway.login(gateway.add_user("supervisor"))
    gateway.user_says(line_user, "相談したいことがあります")
    item = gateway.queued(sup, line_user)
    for key in ("id", "status", "priority", "crisis", "assignee", "line_user_id", "waiting_since"):
        assert key in item
    assert item["status"] == "queued" and item["crisis"] is False and item["assignee"] is None
    assert item["waiting_since"].endswith("+09:00")
    everything = sup.get("/api/conversations").json()
    assert everything["total"] >= 1 and any(c["id"] == item["id"] for c in everything["items"])
    assert sup.get("/api/conversations?limit=1000").status_code == 200
    assert sup.get("/api/conversations?limit=1001").status_code == 400
    assert sup.get("/api/conversations?status=nonsense").status_code == 400
    assert sup.get("/api/conversations?limit=abc").status_code == 400
    page = sup.get("/api/conversations?limit=1&offset=0").json()
    assert len(page["items"]) == 1 and page["total"] == everything["total"]
    one = sup.get(f"/api/conversations/{item['id']}").json()
    assert one["id"] == item["id"] and one["line_user_id"] == line_user
    assert sup.get("/api/conversations/99999999").status_code == 404


def test_claim_reply_reaches_line_then_resolve_returns_user_to_bot(gateway: Gateway, line_user: str) -> None:
    counsellor = gateway.login(gateway.add_user("counsellor", quals="A,B"))
    gateway.user_says(line_user, "話を聞いてほしいです")
    item = gateway.queued(counsellor, line_user)
    claimed = counsellor.post(f"/api/conversations/{item['id']}/assign")
    assert claimed.status_code == 200 and claimed.json()["status"] == "open"
    assert claimed.json()["assignee"]["name"] == counsellor.account.name
    sent = counsellor.post(f"/api/conversations/{item['id']}/messages", {"text": "相談員の山田です。"})
    assert sent.status_code == 201
    wait_for(lambda: "相談員の山田です。" in gateway.delivered(line_user))
    history = counsellor.get(f"/api/conversations/{item['id']}/messages").json()["items"]
    assert [m["sender"] for m in history][:2] == ["user", "system"]
    agent_turn = next(m for m in history if m["sender"] == "agent")
    assert wait_for(lambda: next(m for m in counsellor.get(f"/api/conversations/{item['id']}/messages")
                                 .json()["items"] if m["id"] == agent_turn["id"])["delivery"] == "sent")
    missing = counsellor.post(f"/api/conversations/{item['id']}/resolve", {"topics": [], "summary": ""})
    assert missing.status_code == 400
    assert {"topics", "care_recipients", "referral_made", "follow_up", "summary"} <= set(missing.json()["fields"])
    no_referral_name = counsellor.post(f"/api/conversations/{item['id']}/resolve", {**RECORD, "referral": ""})
    assert no_referral_name.status_code == 400 and "referral" in no_referral_name.json()["fields"]
    done = counsellor.post(f"/api/conversations/{item['id']}/resolve", RECORD)
    assert done.status_code == 201 and done.json()["record"]["topics"] == ["care_burden", "school"]
    wait_for(lambda: len(gateway.delivered(line_user)) >= 3)  # received ack, counsellor, resolved
    record = gateway.rows("SELECT * FROM records WHERE conversation_id = :c", c=item["id"])
    assert record and record[0]["referral"] == "金沢市こども家庭センター"
    gateway.user_says(line_user, "また来ました")
    wait_for(lambda: gateway.rows("SELECT 1 FROM status_changes WHERE conversation_id = :c AND from_status = "
                                  "'resolved' AND to_status = 'bot'", c=item["id"]))


def test_counsellor_cannot_exceed_own_chat_limit(gateway: Gateway) -> None:
    counsellor = gateway.login(gateway.add_user("counsellor", max_chats=1))
    users = [new_line_user(), new_line_user()]
    ids = []
    for user in users:
        gateway.user_says(user, "こんにちは")
        ids.append(gateway.queued(counsellor, user)["id"])
    assert counsellor.post(f"/api/conversations/{ids[0]}/assign").status_code == 200
    refused = counsellor.post(f"/api/conversations/{ids[1]}/assign")
    assert refused.status_code == 409 and refused.json()["error"] == "limit"
    assert counsellor.post(f"/api/conversations/{ids[0]}/release").status_code == 200
    assert counsellor.post(f"/api/conversations/{ids[1]}/assign").status_code == 200


def test_other_counsellors_conversation_is_forbidden_and_audited(gateway: Gateway, line_user: str) -> None:
    owner = gateway.login(gateway.add_user("counsellor"))
    other = gateway.login(gateway.add_user("counsellor"))
    gateway.user_says(line_user, "こんにちは")
    cid = gateway.queued(owner, line_user)["id"]
    assert owner.post(f"/api/conversations/{cid}/assign").status_code == 200
    for response in (other.get(f"/api/conversations/{cid}"), other.get(f"/api/conversations/{cid}/messages"),
                     other.post(f"/api/conversations/{cid}/messages", {"text": "横から"}),
                     other.post(f"/api/conversations/{cid}/assign"), other.get(f"/console/chat/{cid}")):
        assert response.status_code == 403
    denied = gateway.rows("SELECT * FROM audit_log WHERE actor = :a AND allowed = :f", a=other.account.name, f=False)
    assert len(denied) >= 5 and all(row["object_id"] == str(cid) for row in denied)
    assert other.get("/api/conversations").json()["total"] == sum(
        1 for c in other.get("/api/conversations?limit=1000").json()["items"] if c["status"] == "queued")


def test_supervisor_reassigns_and_sees_all_live_chats(gateway: Gateway, line_user: str) -> None:
    a = gateway.add_user("counsellor", quals="C")
    b = gateway.add_user("counsellor", quals="A,B")
    sup = gateway.login(gateway.add_user("supervisor"))
    ca = gateway.login(a)
    gateway.user_says(line_user, "進路のことで")
    cid = gateway.queued(sup, line_user)["id"]
    assert ca.post(f"/api/conversations/{cid}/assign").status_code == 200
    assert any(c["id"] == cid for c in sup.get("/api/conversations?status=open&limit=1000").json()["items"])
    moved = sup.post(f"/api/conversations/{cid}/assign", {"user_id": b.id})
    assert moved.status_code == 200 and moved.json()["assignee_id"] == b.id
    assert ca.get(f"/api/conversations/{cid}").status_code == 403  # no longer theirs
    assert gateway.rows("SELECT 1 FROM audit_log WHERE action = 'reassign' AND object_id = :c", c=str(cid))
    assert ca.post(f"/api/conversations/{cid}/assign", {"user_id": b.id}).status_code == 403


def test_internal_note_is_never_sent_to_the_user(gateway: Gateway, line_user: str) -> None:
    counsellor = gateway.login(gateway.add_user("counsellor"))
    gateway.user_says(line_user, "こんばんは")
    cid = gateway.queued(counsellor, line_user)["id"]
    counsellor.post(f"/api/conversations/{cid}/assign")
    note = counsellor.post(f"/api/conversations/{cid}/notes", {"text": "母親の通院日を次回確認"})
    assert note.status_code == 201 and note.json()["internal"] is True and note.json()["kind"] == "note"
    counsellor.post(f"/api/conversations/{cid}/messages", {"text": "お返事です"})
    wait_for(lambda: "お返事です" in gateway.delivered(line_user))
    assert "母親の通院日を次回確認" not in gateway.delivered(line_user)


def test_read_marks_line_messages_and_typing_shows_loading(gateway: Gateway, line_user: str) -> None:
    counsellor = gateway.login(gateway.add_user("counsellor"))
    gateway.user_says(line_user, "聞いてください")
    cid = gateway.queued(counsellor, line_user)["id"]
    before = len(gateway.line_requests("markAsRead"))
    counsellor.post(f"/api/conversations/{cid}/assign")
    assert len(gateway.line_requests("markAsRead")) == before  # claiming alone is not reading
    assert counsellor.post(f"/api/conversations/{cid}/read").json()["marked"] == 1
    assert len(gateway.line_requests("markAsRead")) == before + 1
    incoming = counsellor.get(f"/api/conversations/{cid}/messages").json()["items"][0]
    assert incoming["read_at"] is not None
    assert counsellor.post(f"/api/conversations/{cid}/read").json()["marked"] == 0
    loading_before = len(gateway.line_requests("loading"))
    assert counsellor.post(f"/api/conversations/{cid}/typing").json()["shown"] is True
    wait_for(lambda: len(gateway.line_requests("loading")) > loading_before)


def test_undelivered_counsellor_message_is_marked_failed(gateway: Gateway, line_user: str) -> None:
    counsellor = gateway.login(gateway.add_user("counsellor"))
    gateway.user_says(line_user, "もしもし")
    cid = gateway.queued(counsellor, line_user)["id"]
    counsellor.post(f"/api/conversations/{cid}/assign")
    gateway.fault("push", [{"status": 400, "body": {"message": "The request body has 1 error(s)"}}])
    sent = counsellor.post(f"/api/conversations/{cid}/messages", {"text": "届かない返事"}).json()["items"][0]
    wait_for(lambda: next(m for m in counsellor.get(f"/api/conversations/{cid}/messages").json()["items"]
                          if m["id"] == sent["id"])["delivery"] == "failed")


def test_escalation_checklist_and_closing_rules(gateway: Gateway, line_user: str) -> None:
    counsellor = gateway.login(gateway.add_user("counsellor"))
    sup = gateway.login(gateway.add_user("supervisor"))
    gateway.user_says(line_user, "もう死にたい")
    item = wait_for(lambda: next((c for c in sup.get("/api/conversations?status=queued&limit=1000").json()["items"]
                                  if c["line_user_id"] == line_user and c["crisis"]), None))
    assert sup.get("/api/conversations?status=queued&limit=1").json()["items"][0]["crisis"] is True
    cases = sup.get("/api/escalations").json()["items"]
    case = next(c for c in cases if c["conversation_id"] == item["id"])
    assert counsellor.get(f"/api/escalations/{case['id']}").status_code == 403  # not theirs yet
    counsellor.post(f"/api/conversations/{item['id']}/assign")
    step = counsellor.post(f"/api/escalations/{case['id']}/steps", {"step": "contact_confirmed", "note": "電話で確認"})
    assert step.status_code == 200
    recorded = step.json()["checklist"]["contact_confirmed"]
    assert recorded["done"] is True and recorded["by"] == counsellor.account.name and recorded["at"].endswith("+09:00")
    incomplete = counsellor.post(f"/api/escalations/{case['id']}/close", {"outcome": "保護者と連絡がついた"})
    assert incomplete.status_code == 400 and "reason" in incomplete.json()["fields"]
    assert counsellor.post(f"/api/escalations/{case['id']}/close", {"reason": "理由だけでは不可"}).status_code == 400
    closed = sup.post(f"/api/escalations/{case['id']}/close",
                      {"outcome": "保護者と連絡がついた", "reason": "本人の安全を確認し通報不要と判断"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["close_reason"] == "本人の安全を確認し通報不要と判断"
    assert all(c["id"] != case["id"] for c in sup.get("/api/escalations").json()["items"])
    assert any(c["id"] == case["id"] for c in sup.get("/api/escalations?status=closed").json()["items"])


def test_bearer_tokens_from_the_cli(gateway: Gateway, line_user: str) -> None:
    supervisor = gateway.add_user("supervisor")
    token = gateway.ycc("token", "create", supervisor.name).stdout.strip()
    assert token.startswith("ycc_")
    assert not gateway.rows("SELECT 1 FROM api_tokens WHERE token_hash = :t", t=token)  # hash only
    ok = httpx.get(f"{gateway.url}/api/conversations", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and "items" in ok.json()
    bad = httpx.get(f"{gateway.url}/api/conversations", headers={"Authorization": "Bearer ycc_wrong"})
    assert bad.status_code == 401
    short = gateway.ycc("token", "create", supervisor.name, "--ttl", "1").stdout.strip()
    wait_for(lambda: httpx.get(f"{gateway.url}/api/conversations",
                               headers={"Authorization": f"Bearer {short}"}).status_code == 401, timeout=5)


def test_openapi_documents_every_api_route(gateway: Gateway) -> None:
    doc = httpx.get(f"{gateway.url}/api/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    for path in ("/api/conversations", "/api/conversations/{id}", "/api/conversations/{id}/messages",
                 "/api/conversations/{id}/assign", "/api/conversations/{id}/resolve", "/api/escalations"):
        assert path in doc["paths"]
    assert "post" in doc["paths"]["/api/conversations/{id}/messages"]
    required = doc["components"]["schemas"]["Conversation"]["required"]
    assert {"id", "status", "priority", "crisis", "assignee", "line_user_id", "waiting_since"} <= set(required)


def test_blocked_user_reply_is_marked_and_handling_is_recorded(gateway: Gateway, line_user: str) -> None:
    """R17: after the user blocks the account nothing reaches them, and a supervisor records the handling."""
    counsellor = gateway.login(gateway.add_user("counsellor"))
    sup = gateway.login(gateway.add_user("supervisor"))
    gateway.user_says(line_user, "やっぱりいいです")
    cid = gateway.queued(counsellor, line_user)["id"]
    counsellor.post(f"/api/conversations/{cid}/assign")
    unfollow = httpx.post(f"{gateway.url}/simulator/line/_fake/users/{line_user}/events", json={"type": "unfollow"})
    unfollow.raise_for_status()
    wait_for(lambda: sup.get(f"/api/conversations/{cid}").json()["status"] == "blocked")
    assert counsellor.post(f"/api/conversations/{cid}/messages", {"text": "届きますか"}).status_code in (403, 409)
    assert counsellor.post(f"/api/conversations/{cid}/resolve", RECORD).status_code == 403
    recorded = sup.post(f"/api/conversations/{cid}/resolve", {**RECORD, "summary": "ブロックされたため返信不可（R17）"})
    assert recorded.status_code == 201
    assert sup.get(f"/api/conversations/{cid}").json()["status"] == "blocked"
