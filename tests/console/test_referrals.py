"""Referrals with consent (issue 17 item 7) against a real gateway, on SQLite and PostgreSQL: record one from a
consultation, refuse one without consent, supervisors' open list, the outcome, and a printable handover summary
that carries only what the person agreed to share and never the chat text."""

from __future__ import annotations

import json

from tests.console.conftest import Console, Gateway, new_line_user
from tests.support.databases import execute

CHAT_TEXT = "母の介護で学校に行けない日があります"
PROFILE = {"age_band": "16_18", "gender": "female", "municipality": "金沢市", "care_recipients": ["mother"],
           "role": "self"}


def claimed(gateway: Gateway, counsellor: Console) -> tuple[str, int]:
    user = new_line_user()
    gateway.user_says(user, CHAT_TEXT)
    item = gateway.queued(counsellor, user)
    execute(gateway.database_url, "UPDATE contacts SET consent = :c, profile = :p WHERE line_user_id = :u",
            c=True, p=json.dumps(PROFILE, ensure_ascii=False), u=user)
    assert counsellor.post(f"/api/conversations/{item['id']}/assign").status_code == 200
    return user, int(item["id"])


def form(console: Console, path: str, data: dict[str, object]) -> object:
    return console.client.post(path, data={"csrf_token": console.csrf, **data})


def test_a_referral_with_consent_its_summary_and_outcome(gateway: Gateway) -> None:
    counsellor = gateway.login(gateway.add_user("counsellor", quals="A,B"))
    user, cid = claimed(gateway, counsellor)
    page = counsellor.get(f"/console/referrals/new?conversation={cid}")
    assert page.status_code == 200
    assert "金沢市児童相談所" in page.text and "ヤングケアラー・家族介護者の支援団体" in page.text
    assert 'value="金沢市" selected' in page.text  # the person's own municipality first
    path = f"/console/referrals/new?conversation={cid}"
    base = {"municipality": "金沢市", "recipient": "金沢市児童相談所", "shared": ["age_band", "care_recipients"],
            "note": "夕方なら電話に出られます"}
    refused = form(counsellor, path, base)
    assert refused.status_code == 400 and "本人の同意がないと" in refused.text  # type: ignore[attr-defined]
    wrong = form(counsellor, path, {**base, "consent": "yes", "recipient": "どこか知らない所"})
    assert wrong.status_code == 400 and "一覧から選んで" in wrong.text  # type: ignore[attr-defined]
    assert gateway.rows("SELECT id FROM referrals WHERE conversation_id = :c", c=cid) == []
    made = form(counsellor, path, {**base, "consent": "yes"})
    assert made.status_code == 302  # type: ignore[attr-defined]
    [row] = gateway.rows("SELECT * FROM referrals WHERE conversation_id = :c", c=cid)
    assert (row["kind"], row["recipient"], row["municipality"]) == ("child_guidance", "金沢市児童相談所", "金沢市")

    summary = counsellor.get(f"/console/referrals/{row['id']}/summary").text
    assert "金沢市児童相談所 御中" in summary and "16〜18歳" in summary and "母" in summary
    assert "夕方なら電話に出られます" in summary
    assert CHAT_TEXT not in summary and user not in summary and "女性" not in summary  # gender was not shared
    assert gateway.rows("SELECT 1 FROM audit_log WHERE action = 'print_referral' AND object_id = :i",
                        i=str(row["id"]))

    sup = gateway.login(gateway.add_user("supervisor"))
    assert f'/console/referrals/{row["id"]}"' in sup.get("/console/referrals").text
    other = gateway.login(gateway.add_user("counsellor"))
    assert other.get(f"/console/referrals/{row['id']}").status_code == 403
    assert other.get("/console/referrals").status_code == 403
    bad = form(counsellor, f"/console/referrals/{row['id']}/outcome", {"outcome": "maybe"})
    assert bad.status_code == 400  # type: ignore[attr-defined]
    done = form(counsellor, f"/console/referrals/{row['id']}/outcome", {"outcome": "connected"})
    assert done.status_code == 302  # type: ignore[attr-defined]
    assert "つながった" in counsellor.get(f"/console/referrals/{row['id']}").text
    again = form(sup, f"/console/referrals/{row['id']}/outcome", {"outcome": "declined"})
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert f'/console/referrals/{row["id"]}"' not in sup.get("/console/referrals").text  # no longer open
    assert f'/console/referrals/{row["id"]}"' in sup.get("/console/referrals?all=1").text
    assert counsellor.client.post(f"/console/referrals/{row['id']}/outcome", data={"outcome": "other"}
                                  ).status_code == 403  # no CSRF token
