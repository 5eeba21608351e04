"""Safety flags in the console API and counsellors' feedback on them (issue 13, items 4 and 5).

The flag is raised through the running gateway's internal API (the bot's crisis intent gives `concern`), so these
tests do not depend on the lexicon's wording.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.console.conftest import PASSWORD, Console, Gateway, new_line_user, wait_for
from tests.support.servers import INTERNAL_TOKEN

TEXT = "お母さんが心の病気で、毎日ごはんを作っています"


def flag_concern(gw: Gateway, console: Console) -> dict[str, Any]:
    """A user's message in the queue, then the bot's crisis intent on it: a concern flag on that message."""
    user = new_line_user()
    gw.user_says(user, TEXT)
    conversation = gw.queued(console, user)
    key = gw.rows("SELECT key FROM contacts WHERE line_user_id = :u", u=user)[0]["key"]
    answer = httpx.post(f"{gw.url}/internal/contacts/{key}/crisis", json={"at": "2026-11-25T14:00:00+09:00"},
                        headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"}, timeout=10).json()
    assert answer["level"] == "concern"
    return console.get(f"/api/conversations/{conversation['id']}").json()


def flagged_message(console: Console, conversation_id: int) -> dict[str, Any]:
    items = console.get(f"/api/conversations/{conversation_id}/messages").json()["items"]
    return next(m for m in items if m["risk_level"])


def test_the_api_carries_risk_level_and_reason_and_the_flagged_message(gateway: Gateway) -> None:
    console = gateway.login(gateway.add_user("supervisor"))
    conversation = flag_concern(gateway, console)
    assert (conversation["risk"], conversation["risk_reason"], conversation["risk_level"]) == (
        "concern", "nlu_crisis_intent", "concern")
    assert conversation["crisis"] is False  # crisis is true exactly when risk == "crisis"
    message = flagged_message(console, conversation["id"])
    assert (message["text"], message["risk_level"], message["risk_category"]) == (TEXT, "concern", "nlu_crisis_intent")

    case = console.post(f"/api/conversations/{conversation['id']}/escalate").json()
    assert (case["level"], case["category"]) == ("crisis", "counsellor")
    raised = console.get(f"/api/conversations/{conversation['id']}").json()
    assert (raised["risk"], raised["risk_level"], raised["crisis"]) == ("crisis", "crisis", True)
    listed = console.get("/api/escalations").json()["items"]
    assert {"level", "category", "message_id"} <= set(next(e for e in listed if e["id"] == case["id"]))

    document = console.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert {"risk", "risk_reason", "risk_level"} <= set(schemas["Conversation"]["properties"])
    assert {"level", "category"} <= set(schemas["Escalation"]["properties"])
    assert "/api/conversations/{id}/safety-feedback" in document["paths"]


def test_a_counsellor_marks_a_false_alarm_with_a_reason_and_it_is_stored_and_audited(gateway: Gateway) -> None:
    counsellor = gateway.add_user("counsellor")
    console = gateway.login(counsellor)
    conversation = flag_concern(gateway, console)
    cid = conversation["id"]
    message = flagged_message(console, cid)
    path = f"/api/conversations/{cid}/safety-feedback"

    missing = console.post(path, {"message_id": message["id"], "verdict": "false_alarm"})
    assert missing.status_code == 400 and "reason" in missing.json()["fields"]
    same = console.post(path, {"message_id": message["id"], "verdict": "change_level", "level": "concern",
                               "reason": "more_serious"})
    assert same.status_code == 400 and "level" in same.json()["fields"]
    other = console.post(path, {"message_id": message["id"], "verdict": "false_alarm", "reason": "other"})
    assert other.status_code == 400 and "note" in other.json()["fields"]
    unflagged = console.post(path, {"message_id": message["id"] + 1000, "verdict": "false_alarm",
                                    "reason": "plain_care"})
    assert unflagged.status_code == 400

    done = console.post(path, {"message_id": message["id"], "verdict": "false_alarm", "reason": "plain_care",
                               "note": "介護の様子の説明"})
    assert done.status_code == 201, done.text
    body = done.json()
    assert (body["verdict"], body["level"], body["flagged_level"], body["reason"]) == (
        "false_alarm", None, "concern", "plain_care")
    assert body["reason_label"] == "介護や家族の状況の説明だった" and body["author"] == counsellor.name
    listed = console.get(path).json()
    assert [f["id"] for f in listed["items"]] == [body["id"]] and "plain_care" in listed["reasons"]["false_alarm"]
    stored = gateway.rows("SELECT flagged_level, level, reason, note, author FROM safety_feedback WHERE id = :i",
                          i=body["id"])
    assert stored == [{"flagged_level": "concern", "level": None, "reason": "plain_care", "note": "介護の様子の説明",
                       "author": counsellor.name}]
    audit = gateway.rows("SELECT actor, object_id, detail FROM audit_log WHERE action = 'safety_feedback' "
                         "AND object_id = :c", c=str(cid))
    assert len(audit) == 1 and audit[0]["actor"] == counsellor.name
    assert "concern->none" in audit[0]["detail"] and TEXT not in audit[0]["detail"]
    # The verdict labels the flag; the conversation keeps its place and banner until a counsellor acts on it.
    assert console.get(f"/api/conversations/{cid}").json()["risk"] == "concern"


def test_export_feedback_writes_labelled_examples_owner_only_for_trainers_and_audits(
    gateway_sqlite: Gateway, tmp_path: Path
) -> None:
    gw = gateway_sqlite
    console = gw.login(gw.add_user("supervisor"))
    conversation = flag_concern(gw, console)
    message = flagged_message(console, conversation["id"])
    console.post(f"/api/conversations/{conversation['id']}/safety-feedback",
                 {"message_id": message["id"], "verdict": "change_level", "level": "crisis",
                  "reason": "more_serious"}).raise_for_status()
    trainer = gw.add_user("trainer")
    out = tmp_path / "feedback.yml"

    done = gw.ycc("safety", "export-feedback", "--out", str(out), "--as", trainer.name, stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert TEXT not in done.stdout + done.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    items = yaml.safe_load(out.read_text(encoding="utf-8"))["items"]
    mine = [i for i in items if i["text"] == TEXT and i["level"] == "crisis"]
    assert mine and mine[-1]["category"] == "nlu_crisis_intent" and mine[-1]["reason"] == "more_serious"
    assert mine[-1]["flagged"] == {"level": "concern", "category": "nlu_crisis_intent"}
    assert wait_for(lambda: gw.rows("SELECT allowed, detail FROM audit_log WHERE action = 'export_safety_feedback' "
                                    "AND actor = :a", a=trainer.name)) == [
        {"allowed": 1, "detail": f"examples={len(items)}"}]

    counsellor = gw.add_user("counsellor")
    refused_out = tmp_path / "refused.yml"
    refused = gw.ycc("safety", "export-feedback", "--out", str(refused_out), "--as", counsellor.name,
                     stdin=PASSWORD + "\n")
    assert refused.returncode == 2 and "admin or trainer" in refused.stderr and not refused_out.exists()
    wrong = gw.ycc("safety", "export-feedback", "--out", str(refused_out), "--as", trainer.name, stdin="nope\n")
    assert wrong.returncode == 2 and not refused_out.exists()
    denied = gw.rows("SELECT actor FROM audit_log WHERE action = 'export_safety_feedback' AND allowed = :f "
                     "ORDER BY id", f=False)
    assert [d["actor"] for d in denied][-2:] == [counsellor.name, trainer.name]
