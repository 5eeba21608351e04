"""API tokens belong to a person: their role, their scope, their name in the audit log (issue 12.6, 12.12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from console import security
from tests.console.conftest import Gateway, wait_for
from tests.support.databases import execute


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def crisis_case(gateway: Gateway, line_user: str) -> tuple[int, int]:
    """A crisis message: a queued, unassigned conversation with an open case. Returns (conversation, case) ids."""
    sup = gateway.login(gateway.add_user("supervisor"))
    gateway.user_says(line_user, "もう死にたい")
    case = wait_for(lambda: next((c for c in sup.get("/api/escalations").json()["items"]
                                  if c["conversation_id"] in {x["id"] for x in sup.get(
                                      "/api/conversations?status=queued&limit=1000").json()["items"]
                                      if x["line_user_id"] == line_user}), None))
    return case["conversation_id"], case["id"]


def test_a_counsellor_token_sees_only_the_cases_its_person_holds(gateway: Gateway, line_user: str) -> None:
    conversation_id, case_id = crisis_case(gateway, line_user)
    counsellor = gateway.add_user("counsellor")
    made = gateway.ycc("token", "create", counsellor.name)
    assert made.returncode == 0 and f"token for user {counsellor.name} (role counsellor)" in made.stderr
    token = made.stdout.strip()
    cases = httpx.get(f"{gateway.url}/api/escalations", headers=bearer(token))
    assert cases.status_code == 200 and cases.json()["items"] == []  # unassigned crisis cases are nobody's
    claim = httpx.post(f"{gateway.url}/api/conversations/{conversation_id}/assign", headers=bearer(token))
    assert claim.status_code == 200 and claim.json()["assignee"]["id"] == counsellor.id
    assert [c["id"] for c in httpx.get(f"{gateway.url}/api/escalations", headers=bearer(token)).json()["items"]
            ] == [case_id]
    assert httpx.get(f"{gateway.url}/api/escalations/{case_id}", headers=bearer(token)).status_code == 200
    audited = gateway.rows("SELECT actor FROM audit_log WHERE action = 'view_case' AND object_id = :o", o=str(case_id))
    assert audited == [{"actor": counsellor.name}]  # the person, not an anonymous token


def test_a_token_without_a_person_sees_nothing_scoped_to_a_person(gateway: Gateway, line_user: str) -> None:
    """Tokens made before tokens had owners keep their role but hold no conversation and no case."""
    conversation_id, _ = crisis_case(gateway, line_user)
    raw = security.new_token("ycc_")
    execute(gateway.database_url, "INSERT INTO api_tokens (name, token_hash, role, created_at, revoked) "
            "VALUES ('legacy', :h, 'counsellor', :t, :f)", h=security.token_hash(raw),
            t=datetime.now(UTC).replace(tzinfo=None), f=False)
    assert httpx.get(f"{gateway.url}/api/escalations", headers=bearer(raw)).json()["items"] == []
    listed = httpx.get(f"{gateway.url}/api/conversations?status=bot,open,resolved,blocked&limit=1000",
                       headers=bearer(raw))
    assert listed.status_code == 200 and listed.json()["items"] == []
    queued = httpx.get(f"{gateway.url}/api/conversations?status=queued&limit=1000", headers=bearer(raw)).json()
    assert conversation_id in {c["id"] for c in queued["items"]}  # the queue is every counsellor's, not a person's


def test_tokens_need_an_active_person_and_expire_after_90_days_by_default(gateway: Gateway) -> None:
    nobody = gateway.ycc("token", "create", "monitoring")
    assert nobody.returncode == 2 and "ycc user add" in nobody.stderr and not nobody.stdout.strip()
    assert "acts as that person" in gateway.ycc("token", "create", "--help").stdout
    supervisor = gateway.add_user("supervisor")
    token = gateway.ycc("token", "create", supervisor.name).stdout.strip()
    stored = gateway.rows("SELECT expires_at, user_id, role FROM api_tokens WHERE token_hash = :h",
                          h=security.token_hash(token))[0]
    expires = stored["expires_at"] if isinstance(stored["expires_at"], datetime) else datetime.fromisoformat(
        str(stored["expires_at"]))
    left = expires.replace(tzinfo=None) - datetime.now(UTC).replace(tzinfo=None)
    assert timedelta(days=89, hours=23) < left <= timedelta(days=90)
    assert (stored["user_id"], stored["role"]) == (supervisor.id, "supervisor")
    assert httpx.get(f"{gateway.url}/api/conversations", headers=bearer(token)).status_code == 200
    assert gateway.ycc("user", "disable", supervisor.name).returncode == 0
    assert httpx.get(f"{gateway.url}/api/conversations", headers=bearer(token)).status_code == 401
