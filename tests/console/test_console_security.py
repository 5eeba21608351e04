"""Login, 2FA, sessions, CSRF and role boundaries (ASVS L2; R15, R24, R26, R30)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.console.conftest import PASSWORD, Account, Gateway
from tests.support.databases import execute


def _form_token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def _password_step(gateway: Gateway, account: Account, password: str | None = None) -> tuple[httpx.Client,
                                                                                             httpx.Response]:
    client = httpx.Client(base_url=gateway.url, follow_redirects=False)
    gateway.consoles.append(client)
    token = _form_token(client.get("/console/login"))
    response = client.post("/console/login", data={"csrf_token": token, "username": account.name,
                                                   "password": password or account.password})
    return client, response


def test_password_is_stored_as_argon2_and_totp_is_required(gateway_sqlite: Gateway) -> None:
    account = gateway_sqlite.add_user("counsellor")
    stored = gateway_sqlite.rows("SELECT password_hash, recovery_codes FROM users WHERE id = :i", i=account.id)[0]
    assert stored["password_hash"].startswith("$argon2id$") and PASSWORD not in stored["password_hash"]
    assert account.recovery_codes[0] not in str(stored["recovery_codes"])
    client, step = _password_step(gateway_sqlite, account)
    assert step.headers["location"] == "/console/login/2fa"
    assert client.get("/api/conversations").status_code == 401  # password alone is not a session
    assert client.get("/console/queue").headers["location"] == "/console/login"
    token = _form_token(client.get("/console/login/2fa"))
    wrong = client.post("/console/login/2fa", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 401 and "確認コードが正しくありません" in wrong.text


def test_session_id_is_rotated_and_cookie_is_strict_httponly(gateway_sqlite: Gateway) -> None:
    account = gateway_sqlite.add_user("counsellor")
    client, _ = _password_step(gateway_sqlite, account)
    pending = client.cookies.get("ycc_login")
    token = _form_token(client.get("/console/login/2fa"))
    done = client.post("/console/login/2fa", data={"csrf_token": token, "code": account.code()})
    cookie = next(v for k, v in done.headers.multi_items()
                  if k.lower() == "set-cookie" and v.startswith("ycc_session=")).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    session = client.cookies.get("ycc_session")
    assert session and session != pending
    rows = gateway_sqlite.rows("SELECT revoked, second_factor_done FROM console_sessions WHERE user_id = :u "
                               "ORDER BY created_at", u=account.id)
    assert [(bool(r["revoked"]), bool(r["second_factor_done"])) for r in rows] == [(True, False), (False, True)]
    assert session not in str(gateway_sqlite.rows("SELECT id FROM console_sessions"))  # only hashes stored


def test_recovery_code_works_once(gateway_sqlite: Gateway) -> None:
    account = gateway_sqlite.add_user("supervisor")
    code = account.recovery_codes[0]
    for expected in (302, 401):
        client, _ = _password_step(gateway_sqlite, account)
        token = _form_token(client.get("/console/login/2fa"))
        response = client.post("/console/login/2fa", data={"csrf_token": token, "recovery_code": code})
        assert response.status_code == expected


def test_logout_idle_timeout_and_disabling_end_sessions_server_side(gateway_sqlite: Gateway) -> None:
    account = gateway_sqlite.add_user("counsellor")
    console = gateway_sqlite.login(account)
    stolen = dict(console.client.cookies)
    assert console.post("/console/logout").status_code == 302
    replay = httpx.get(f"{gateway_sqlite.url}/api/conversations", cookies=stolen)
    assert replay.status_code == 401  # the old cookie is dead on the server, not just deleted in the browser

    account = gateway_sqlite.add_user("counsellor")  # a fresh account: TOTP codes are single-use per 30 s
    idle = gateway_sqlite.login(account)
    assert idle.get("/api/conversations").status_code == 200
    long_ago = (datetime.now(UTC) - timedelta(hours=2)).replace(tzinfo=None)
    execute(gateway_sqlite.database_url,
            "UPDATE console_sessions SET last_seen_at = :t WHERE user_id = :u AND revoked = 0",
            t=long_ago, u=account.id)
    assert idle.get("/api/conversations").status_code == 401

    account = gateway_sqlite.add_user("counsellor")
    disabled = gateway_sqlite.login(account)
    assert disabled.get("/api/conversations").status_code == 200
    assert gateway_sqlite.ycc("user", "disable", account.name).returncode == 0
    assert disabled.get("/api/conversations").status_code == 401
    assert gateway_sqlite.rows("SELECT change FROM roster_changes WHERE user_id = :u ORDER BY id",
                               u=account.id)[-1]["change"] == "disabled"


def test_csrf_is_required_for_every_state_change(gateway_sqlite: Gateway, line_user: str) -> None:
    console = gateway_sqlite.login(gateway_sqlite.add_user("counsellor"))
    gateway_sqlite.user_says(line_user, "こんにちは")
    cid = gateway_sqlite.queued(console, line_user)["id"]
    assert console.post(f"/api/conversations/{cid}/assign", csrf=False).status_code == 403
    forged = console.client.post(f"/api/conversations/{cid}/assign", json={}, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    assert console.client.post("/console/logout", data={}).status_code == 403
    audited = gateway_sqlite.rows("SELECT detail FROM audit_log WHERE actor = :a AND allowed = :f",
                                  a=console.account.name, f=False)
    assert len(audited) == 3 and all("csrf" in row["detail"] for row in audited)
    login_without_token = httpx.post(f"{gateway_sqlite.url}/console/login",
                                     data={"username": console.account.name, "password": PASSWORD})
    assert login_without_token.status_code == 403
    assert console.post(f"/api/conversations/{cid}/assign").status_code == 200


@pytest.mark.parametrize(("role", "path"), [
    ("counsellor", "/console/records"), ("counsellor", "/console/records.csv"), ("counsellor", "/console/admin/"),
    ("counsellor", "/console/admin/roster.csv"), ("counsellor", "/console/training"), ("counsellor", "/api/staff"),
    ("trainer", "/api/conversations"), ("trainer", "/console/queue"), ("trainer", "/api/escalations"),
    ("trainer", "/console/records"), ("admin", "/api/conversations"), ("admin", "/console/records"),
    ("admin", "/console/chat/1"), ("supervisor", "/console/admin/"),
])
def test_role_boundaries_answer_403_and_audit(gateway_sqlite: Gateway, role: str, path: str) -> None:
    console = gateway_sqlite.login(gateway_sqlite.add_user(role))
    assert console.get(path).status_code == 403
    rows = gateway_sqlite.rows("SELECT * FROM audit_log WHERE actor = :a AND allowed = :f", a=console.account.name,
                               f=False)
    assert len(rows) == 1 and rows[0]["detail"] == f"role {role}"


def test_record_views_and_exports_are_audited_and_not_cached(gateway_sqlite: Gateway) -> None:
    sup = gateway_sqlite.login(gateway_sqlite.add_user("supervisor"))
    admin = gateway_sqlite.login(gateway_sqlite.add_user("admin"))
    listing = sup.get("/console/records")
    assert listing.status_code == 200 and listing.headers["cache-control"] == "no-store"
    export = sup.get("/console/records.csv")
    assert export.status_code == 200 and export.headers["cache-control"] == "no-store"
    assert export.content.startswith("\ufeff記録ID".encode())
    roster = admin.get("/console/admin/roster.csv")
    assert roster.status_code == 200 and sup.account.name in roster.text and "資格A" in roster.text
    history = admin.get("/console/admin/roster_history.csv")
    assert "登録" in history.text and sup.account.name in history.text
    actions = {r["action"] for r in gateway_sqlite.rows(
        "SELECT action FROM audit_log WHERE actor IN (:s, :a)", s=sup.account.name, a=admin.account.name)}
    assert {"view_record_list", "export_records", "export_roster", "export_roster_history"} <= actions


def test_cli_refuses_weak_passwords_and_unknown_qualifications(gateway_sqlite: Gateway) -> None:
    weak = gateway_sqlite.ycc("user", "add", "weakling", "--role", "counsellor", stdin="short\n")
    assert weak.returncode == 2 and "12" in weak.stderr
    odd = gateway_sqlite.ycc("user", "add", "oddq", "--role", "counsellor", "--qualification", "D",
                             stdin=PASSWORD + "\n")
    assert odd.returncode == 2
    ok = gateway_sqlite.ycc("user", "add", "plainout", "--role", "counsellor", "--qualification", "A,B,C",
                            stdin=PASSWORD + "\n")
    assert ok.returncode == 0 and "TOTP secret:" in ok.stdout and "otpauth://" in ok.stdout


def test_password_change_needs_the_current_one_and_ends_other_sessions(gateway_sqlite: Gateway) -> None:
    account = gateway_sqlite.add_user("counsellor")
    laptop = gateway_sqlite.login(account)
    phone = gateway_sqlite.login(account)
    form = {"csrf_token": laptop.csrf, "current_password": "not it", "new_password": "a brand new password",
            "new_password_again": "a brand new password"}
    assert laptop.client.post("/console/account/password", data=form).status_code == 400
    form["current_password"] = PASSWORD
    assert laptop.client.post("/console/account/password", data=form).status_code == 200
    assert laptop.get("/api/conversations").status_code == 200
    assert phone.get("/api/conversations").status_code == 401
    _, old = _password_step(gateway_sqlite, account)
    assert old.status_code == 401
    account.password = "a brand new password"
    _, new = _password_step(gateway_sqlite, account)
    assert new.status_code == 302


def test_a_totp_code_is_accepted_once_even_across_workers(gateway_sqlite: Gateway) -> None:
    account = gateway_sqlite.add_user("counsellor")
    code = account.code()
    gateway_sqlite.login(account, code=code)
    stored = gateway_sqlite.rows("SELECT counter FROM console_totp_uses WHERE user_id = :u", u=account.id)
    assert stored and stored[0]["counter"] == account.last_counter  # in the database, not one worker's memory
    client, _ = _password_step(gateway_sqlite, account)
    token = _form_token(client.get("/console/login/2fa"))
    replay = client.post("/console/login/2fa", data={"csrf_token": token, "code": code})
    assert replay.status_code == 401
