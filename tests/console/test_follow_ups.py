"""フォローアップ (issue 17 item 8) against a real gateway and its fake LINE, on SQLite and PostgreSQL: the
counsellor who wrote the record schedules one check-in, it is pushed (silently if chosen) and shown in the
conversation; the person's answer brings the conversation to the queue marked as a follow-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff.domain.content import Content
from handoff.domain.handoff import closed_text
from handoff.domain.hours import HoursPolicy
from tests.console.conftest import Gateway, wait_for
from tests.console.test_console_api import RECORD

CHECK_IN = "先週はお話ししてくれてありがとう。その後、おうちのことはどうですか？"


def resolved_by(gw: Gateway, user: str) -> tuple[object, int]:
    """A consultation a counsellor answered and closed with a record; the counsellor and the conversation id."""
    counsellor = gw.login(gw.add_user("counsellor", quals="A,B"))
    gw.user_says(user, "家のことで相談したいです")
    item = gw.queued(counsellor, user)
    assert counsellor.post(f"/api/conversations/{item['id']}/assign").status_code == 200
    assert counsellor.post(f"/api/conversations/{item['id']}/resolve", RECORD).status_code == 201
    return counsellor, item["id"]


def test_a_check_in_goes_out_silently_and_the_answer_comes_to_the_queue_as_a_follow_up(
    gateway: Gateway, line_user: str
) -> None:
    gw = gateway
    counsellor, conversation_id = resolved_by(gw, line_user)
    made = counsellor.post(f"/api/conversations/{conversation_id}/follow-ups",
                           {"text": CHECK_IN, "silent": True, "consented": True, "send_at": None})
    assert made.status_code == 201, made.text
    wait_for(lambda: CHECK_IN in gw.delivered(line_user))
    pushed = [r for r in gw.line_requests("push") if r["body"]["messages"][0].get("text") == CHECK_IN]
    assert pushed and pushed[-1]["body"]["notificationDisabled"] is True and pushed[-1]["retry_key"]
    listed = wait_for(lambda: (f := counsellor.get(f"/api/conversations/{conversation_id}/follow-ups")
                               .json()["items"])[0]["status"] == "sent" and f)
    assert listed[0]["silent"] is True
    supervisor = gw.login(gw.add_user("supervisor"))
    turns = supervisor.get(f"/api/conversations/{conversation_id}/messages").json()["items"]
    assert any(t["text"] == CHECK_IN and t["sender"] == "agent" for t in turns)  # a turn of the conversation

    at = datetime.now(UTC)
    gw.user_says(line_user, "まあまあです。また話したいです")
    queued = gw.queued(counsellor, line_user)
    assert queued["id"] == conversation_id and queued["queue_reason"] == "follow_up"
    root = gw.env.get("YCC_DATA_DIR") or "data"
    expected = closed_text(Content.load(root), HoursPolicy.load(f"{root}/hours.yml"), at) \
        or Content.load(root).reply("follow_up_answered")
    wait_for(lambda: gw.delivered(line_user)[-1] == expected)
    answered = counsellor.get(f"/api/conversations/{conversation_id}/follow-ups").json()["items"][0]
    assert answered["status"] == "answered" and answered["answered_at"]
    audit = gw.rows("SELECT detail FROM audit_log WHERE action = 'follow_up_schedule' AND object_id = :c",
                    c=str(conversation_id))
    assert audit and "その後" not in str(audit)


def test_a_check_in_answered_while_the_person_already_waits_is_marked_answered(
    gateway_sqlite: Gateway, line_user: str
) -> None:
    gw = gateway_sqlite
    counsellor, conversation_id = resolved_by(gw, line_user)
    gw.user_says(line_user, "やっぱりもう一回相談したいです")
    assert gw.queued(counsellor, line_user)["id"] == conversation_id
    path = f"/api/conversations/{conversation_id}/follow-ups"
    assert counsellor.post(path, {"text": CHECK_IN, "consented": True, "send_at": None}).status_code == 201
    wait_for(lambda: counsellor.get(path).json()["items"][0]["status"] == "sent")
    gw.user_says(line_user, "はい、いまは少し落ち着いてます")
    answered = wait_for(lambda: (f := counsellor.get(path).json()["items"][0])["status"] == "answered" and f)
    assert answered["answered_at"]
    assert gw.queued(counsellor, line_user)["id"] == conversation_id  # still waiting, in the same place


def test_only_with_consent_one_at_a_time_and_only_for_their_own_counsellor(
    gateway_sqlite: Gateway, line_user: str
) -> None:
    gw = gateway_sqlite
    counsellor, conversation_id = resolved_by(gw, line_user)
    path = f"/api/conversations/{conversation_id}/follow-ups"
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    unconsented = counsellor.post(path, {"text": CHECK_IN, "send_at": tomorrow})
    assert unconsented.status_code == 400 and "同意" in unconsented.json()["message"]
    first = counsellor.post(path, {"text": CHECK_IN, "send_at": tomorrow, "consented": True})
    assert first.status_code == 201 and first.json()["status"] == "scheduled"
    second = counsellor.post(path, {"text": CHECK_IN, "send_at": tomorrow, "consented": True})
    assert second.status_code == 409 and "予約済み" in second.json()["message"]
    stranger = gw.login(gw.add_user("counsellor"))
    assert stranger.post(path, {"text": CHECK_IN, "consented": True}).status_code == 403
    assert stranger.get(path).json() == {"items": [], "total": 0, "may_schedule": False}
    assert stranger.post(f"/api/follow-ups/{first.json()['id']}/cancel").status_code == 403
    cancelled = counsellor.post(f"/api/follow-ups/{first.json()['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert counsellor.post(f"/api/follow-ups/{first.json()['id']}/cancel").status_code == 409
    missing = counsellor.post("/api/conversations/99999999/follow-ups", {"text": "x", "consented": True})
    assert missing.status_code == 404
    long = counsellor.post(path, {"text": "あ" * 5001, "consented": True})
    assert long.status_code == 400 and "5000文字まで" in long.json()["message"]
