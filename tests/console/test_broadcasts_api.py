"""情報配信 through the console's API against a real gateway and its fake LINE (issue 17 item 1): count, send,
progress, who may, refusals with a reason, a 429 that pauses and alerts, the audit trail without the text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from tests.console.conftest import Gateway, new_line_user, wait_for

TEXT = "年末年始の相談時間のお知らせ：12月29日〜1月3日はお休みです。https://example.jp/yc"


def friends_in(gw: Gateway, municipality: str, n: int, *, consent: bool = True) -> list[str]:
    """Friends who added the account; their consented profile names the municipality."""
    users = [new_line_user() for _ in range(n)]
    for user in users:
        httpx.post(f"{gw.url}/simulator/line/_fake/users/{user}/events", json={"type": "follow"},
                   timeout=10).raise_for_status()
    for user in users:
        wait_for(lambda u=user: gw.rows("SELECT id FROM contacts WHERE line_user_id = :u", u=u))
        gw_execute(gw, "UPDATE contacts SET consent = :c, profile = :p WHERE line_user_id = :u", c=consent,
                   p=json.dumps({"municipality": municipality}, ensure_ascii=False), u=user)
    return users


def gw_execute(gw: Gateway, sql: str, **params: object) -> None:
    from tests.support.databases import execute

    execute(gw.database_url, sql, **params)


def broadcast_texts(gw: Gateway, user: str) -> list[str]:
    data = httpx.get(f"{gw.url}/simulator/line/_fake/users/{user}/messages", timeout=5).json()
    return [m["text"] for m in data["messages"] if m["via"] == "multicast"]


def test_a_supervisor_counts_then_sends_to_a_consented_segment_and_each_friend_gets_it_once(gateway: Gateway) -> None:
    gw = gateway
    wanted = friends_in(gw, "珠洲市", 2)
    unconsented = friends_in(gw, "珠洲市", 1, consent=False)
    sv = gw.login(gw.add_user("supervisor"))
    segment = {"municipality": ["珠洲市"]}
    assert sv.post("/api/broadcasts/count", {"segment": segment}).json() == {"recipients": 2}
    made = sv.post("/api/broadcasts", {"text": TEXT, "segment": segment, "send_at": None, "silent": False})
    assert made.status_code == 201, made.text
    assert made.json()["recipients"] == 2
    broadcast_id = made.json()["id"]
    done = wait_for(lambda: (b := sv.get(f"/api/broadcasts/{broadcast_id}").json())["status"] == "sent" and b)
    assert (done["recipients"], done["sent"], done["failed"], done["silent"]) == (2, 2, 0, False)
    for user in wanted:
        assert broadcast_texts(gw, user) == [TEXT]
    assert broadcast_texts(gw, unconsented[0]) == []
    audit = gw.rows("SELECT action, detail FROM audit_log WHERE object_type = 'broadcast' AND action = "
                    "'broadcast_create' AND object_id = :i", i=str(broadcast_id))
    assert audit and "recipients=2" in audit[0]["detail"] and "年末年始" not in str(audit)


def test_who_may_and_what_is_refused_with_a_reason(gateway_sqlite: Gateway) -> None:
    gw = gateway_sqlite
    friends_in(gw, "能美市", 1)
    counsellor = gw.login(gw.add_user("counsellor"))
    assert counsellor.post("/api/broadcasts", {"text": TEXT}).status_code == 403
    assert counsellor.get("/console/broadcasts").status_code == 403
    admin = gw.login(gw.add_user("admin"))
    empty = admin.post("/api/broadcasts", {"text": TEXT, "segment": {"municipality": ["川北町"], "role": ["guardian"]}})
    assert empty.status_code == 400 and empty.json()["error"] == "empty_segment"
    assert "当てはまる友だちはいません" in empty.json()["message"]
    long = admin.post("/api/broadcasts", {"text": "あ" * 5001, "segment": {"municipality": ["能美市"]}})
    assert long.status_code == 400 and "5000文字まで" in long.json()["message"]
    assert admin.post("/api/broadcasts", ["not", "an", "object"]).status_code == 400
    assert admin.get("/api/broadcasts/999999").status_code == 404
    later = admin.post("/api/broadcasts", {"text": TEXT, "segment": {"municipality": ["能美市"]},
                                           "send_at": "2099-01-01T10:00"})
    assert later.status_code == 400 and "1年以内" in later.json()["message"]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    scheduled = admin.post("/api/broadcasts", {"text": TEXT, "segment": {"municipality": ["能美市"]},
                                               "send_at": tomorrow, "silent": True})
    assert scheduled.status_code == 201
    broadcast_id = scheduled.json()["id"]
    assert admin.post(f"/api/broadcasts/{broadcast_id}/resume").status_code == 409  # not paused
    cancelled = admin.post(f"/api/broadcasts/{broadcast_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert gw.rows("SELECT count(*) AS n FROM broadcast_batches WHERE broadcast_id = :i", i=broadcast_id)[0]["n"] == 0


def test_a_monthly_quota_429_pauses_the_delivery_alerts_staff_and_resuming_sends_it_once(
    gateway_sqlite: Gateway,
) -> None:
    gw = gateway_sqlite
    users = friends_in(gw, "輪島市", 2)
    sv = gw.login(gw.add_user("supervisor"))
    gw.fault("multicast", [{"status": 429, "message": "You have reached your monthly limit."}])
    made = sv.post("/api/broadcasts", {"text": TEXT, "segment": {"municipality": ["輪島市"]}}).json()
    paused = wait_for(lambda: (b := sv.get(f"/api/broadcasts/{made['id']}").json())["status"] == "paused" and b)
    assert paused["resumes_at"] and paused["sent"] == 0 and "quota" in paused["last_error"]
    alerts = gw.rows("SELECT type, conversation_id FROM alerts WHERE type = 'broadcast_paused'")
    assert alerts and alerts[0]["conversation_id"] is None
    listed = sv.get("/api/broadcasts").json()["items"]
    assert any(b["id"] == made["id"] and b["status"] == "paused" for b in listed)
    assert sv.post(f"/api/broadcasts/{made['id']}/resume").status_code == 200
    wait_for(lambda: sv.get(f"/api/broadcasts/{made['id']}").json()["status"] == "sent")
    assert [broadcast_texts(gw, u) for u in users] == [[TEXT], [TEXT]]
