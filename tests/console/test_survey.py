"""The post-consultation survey (issue 17 item 5) end to end: a real gateway with the fake LINE, on SQLite and
PostgreSQL. What the person sees (the questions, the quick replies, the thanks), what is stored, what supervisors
see, and who never gets it (no consent, after a crisis unless the counsellor chose, the counsellor said no)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.console.conftest import Console, Gateway, new_line_user, wait_for
from tests.console.test_console_api import RECORD
from tests.support.databases import execute

FIRST = "話してみて、どうでしたか？"


def messages(gateway: Gateway, user: str, at_least: int) -> list[dict[str, Any]]:
    return httpx.get(f"{gateway.url}/simulator/line/_fake/users/{user}/messages",
                     params={"wait_for": at_least, "timeout": 10}, timeout=15).json()["messages"]


def tap(gateway: Gateway, user: str, action: dict[str, Any]) -> None:
    gateway.user_says(user, "", type="postback", data=action["data"], displayText=action["displayText"])


def consult(gateway: Gateway, counsellor: Console, user: str, text: str = "話を聞いてほしいです", *,
            consent: bool | None = True) -> int:
    gateway.user_says(user, text)
    item = gateway.queued(counsellor, user)
    if consent is not None:
        execute(gateway.database_url, "UPDATE contacts SET consent = :c WHERE line_user_id = :u", c=consent, u=user)
    assert counsellor.post(f"/api/conversations/{item['id']}/assign").status_code == 200
    return int(item["id"])


def surveys(gateway: Gateway, conversation_id: int) -> list[dict[str, Any]]:
    return gateway.rows("SELECT * FROM surveys WHERE conversation_id = :c", c=conversation_id)


def settled(gateway: Gateway, user: str) -> None:
    """Every event of this user handled (so 'nothing more was sent' is a fact, not a race)."""
    wait_for(lambda: not gateway.rows("SELECT 1 FROM inbox WHERE source_key LIKE :u AND status IN ('pending', 'bot')",
                                      u=f"%{user}%"))


def test_after_a_resolve_the_person_answers_two_taps_and_a_comment(gateway: Gateway) -> None:
    user = new_line_user()
    counsellor = gateway.login(gateway.add_user("counsellor", quals="A,B"))
    cid = consult(gateway, counsellor, user)
    before = len(messages(gateway, user, 1))
    assert counsellor.post(f"/api/conversations/{cid}/resolve", RECORD).status_code == 201
    got = messages(gateway, user, before + 2)
    question = got[-1]
    assert FIRST in question["text"] and "答えなくても大丈夫" in question["text"]
    assert [a["label"] for a in question["quickReply"]] == ["役に立った", "少し役に立った", "あまり役に立たなかった"]
    tap(gateway, user, question["quickReply"][0])
    second = messages(gateway, user, before + 3)[-1]
    assert second["text"] == "また困ったとき、ここを使いたいと思いますか？"
    tap(gateway, user, question["quickReply"][2])  # the first question again: already answered, nothing changes
    settled(gateway, user)
    assert len(messages(gateway, user, 0)) == before + 3
    tap(gateway, user, second["quickReply"][0])
    prompt = messages(gateway, user, before + 4)[-1]
    assert "ひとこと" in prompt["text"] and [a["label"] for a in prompt["quickReply"]] == ["なし"]
    gateway.user_says(user, "話せてすっきりしました")
    thanks = messages(gateway, user, before + 5)[-1]
    assert thanks["text"].startswith("答えてくれてありがとうございます")
    settled(gateway, user)
    [row] = surveys(gateway, cid)
    assert row["step"] == "done" and row["comment_message_id"] is not None and not row["after_crisis"]
    answers = row["answers"] if isinstance(row["answers"], dict) else json.loads(row["answers"])
    assert answers == {"helpful": "helped", "again": "will"}
    status = gateway.rows("SELECT status FROM conversations WHERE id = :c", c=cid)[0]["status"]
    assert status == "resolved"  # the comment went to the survey, not to the bot or the queue

    sup = gateway.login(gateway.add_user("supervisor"))
    month = datetime.now(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m")
    page = sup.get(f"/console/survey/{month}")
    assert page.status_code == 200 and "話せてすっきりしました" in page.text
    assert "役に立ったか：役に立った" in page.text
    assert counsellor.get(f"/console/survey/{month}").status_code == 403
    assert gateway.rows("SELECT 1 FROM audit_log WHERE action = 'view_survey' AND actor = :a", a=sup.account.name)


def test_no_survey_without_consent_after_a_crisis_or_when_the_counsellor_says_no(gateway: Gateway) -> None:
    counsellor = gateway.login(gateway.add_user("counsellor", quals="A,B", max_chats=10))
    cases = {"no_consent": ({}, {"consent": False}), "said_no": ({"survey": False}, {}),
             "crisis": ({}, {"text": "もう死にたい"}), "crisis_chosen": ({"survey": True}, {"text": "もう死にたい"}),
             "no_consent_chosen": ({"survey": True}, {"consent": None})}
    sent: dict[str, bool] = {}
    for name, (extra, how) in cases.items():
        user = new_line_user()
        cid = consult(gateway, counsellor, user, **how)
        settled(gateway, user)
        wait_for(lambda u=user: not gateway.rows("SELECT 1 FROM outbox WHERE recipient = :u AND status = 'pending'",
                                                 u=u))
        before = len(messages(gateway, user, 0))
        assert counsellor.post(f"/api/conversations/{cid}/resolve", {**RECORD, **extra}).status_code == 201
        messages(gateway, user, before + 1)  # the closing message, and the survey with it when there is one
        sent[name] = any(FIRST in m["text"] for m in messages(gateway, user, 0))
        assert [bool(r["after_crisis"]) for r in surveys(gateway, cid)] == ([name == "crisis_chosen"] if sent[name]
                                                                             else [])
    assert sent == {"no_consent": False, "said_no": False, "crisis": False, "crisis_chosen": True,
                    "no_consent_chosen": False}
    user = new_line_user()
    cid = consult(gateway, counsellor, user)
    bad = counsellor.post(f"/api/conversations/{cid}/resolve", {**RECORD, "survey": "yes"})
    assert bad.status_code == 400 and "survey" in bad.json()["fields"]
