"""Wrong passwords slow their source down and never lock the account; the second factor still locks (issue 12.5).

Most tests use a gateway configured as if behind nginx (`SANIC_REAL_IP_HEADER=X-Real-IP`), so one test can speak
from several addresses; the default gateway shows that without that setting the headers are not believed.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from handoff.settings import Settings
from handoff.store.migrate import upgrade_async
from tests.console.conftest import Account, Gateway, _start
from tests.support.databases import database, execute, rows

WRONG = "not the password at all"
FIRST = 3  # seconds: the first delay (1 s by default), long enough that a busy test machine stays inside it
GENERIC = "ユーザー名またはパスワードが正しくありません"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("console_proxied")
    with database("sqlite", tmp) as url:
        yield from _start(tmp, url, SANIC_REAL_IP_HEADER="X-Real-IP", YCC_LOGIN_DELAY_SECONDS=str(FIRST))


def attempt(gateway: Gateway, name: str, password: str, source: str | None = None,
            headers: dict[str, str] | None = None) -> httpx.Response:
    """One password step from a fresh browser, optionally from `source` (as nginx would say it)."""
    sent = dict(headers or {})
    if source:
        sent["X-Real-IP"] = source
    with httpx.Client(base_url=gateway.url, follow_redirects=False, headers=sent) as client:
        page = client.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        return client.post("/console/login", data={"csrf_token": token, "username": name, "password": password})


def answer(response: httpx.Response) -> tuple[int, str, str | None]:
    """What the person at the login form sees: status, the error line, and Retry-After."""
    found = re.search(r'class="error"[^>]*>([^<]*)<', response.text)
    return response.status_code, found.group(1).strip() if found else "", response.headers.get("retry-after")


def test_wrong_passwords_from_anyone_never_lock_the_account(proxied: Gateway) -> None:
    account = proxied.add_user("supervisor")
    for i in range(8):  # the old rule locked the account after five, whoever sent them
        assert attempt(proxied, account.name, WRONG, source=f"198.51.100.{i}").status_code == 401
    assert attempt(proxied, account.name, account.password, source="192.0.2.7").status_code == 302
    assert rows(proxied.database_url, "SELECT locked_until FROM users WHERE id = :i", i=account.id) == [
        {"locked_until": None}]


def test_repeated_wrong_passwords_from_one_source_wait_longer_each_time(proxied: Gateway) -> None:
    account = proxied.add_user("counsellor")
    here = "203.0.113.9"
    for _ in range(3):
        assert answer(attempt(proxied, account.name, WRONG, source=here))[:2] == (401, GENERIC + "。")
    status, message, retry = answer(attempt(proxied, account.name, account.password, source=here))
    assert status == 429 and retry in {"1", "2", "3"} and f"{retry}秒" in message  # the right password waits too
    assert attempt(proxied, account.name, account.password, source="203.0.113.10").status_code == 302
    time.sleep(FIRST)
    assert attempt(proxied, account.name, WRONG, source=here).status_code == 401
    status, _, retry = answer(attempt(proxied, account.name, WRONG, source=here))
    assert status == 429 and FIRST < int(retry or 0) <= 2 * FIRST  # doubled: then 4×, 8× … up to 15 minutes
    time.sleep(2 * FIRST)
    assert attempt(proxied, account.name, account.password, source=here).status_code == 302
    assert attempt(proxied, account.name, WRONG, source=here).status_code == 401  # the right password reset it
    audited = rows(proxied.database_url, "SELECT action FROM audit_log WHERE actor = :a", a=account.name)
    assert {"login_failed", "login_throttled"} <= {r["action"] for r in audited}


def test_unknown_and_locked_names_get_the_same_answers_as_any_name(proxied: Gateway) -> None:
    locked = proxied.add_user("counsellor")
    until = (datetime.now(UTC) + timedelta(minutes=15)).replace(tzinfo=None)
    execute(proxied.database_url, "UPDATE users SET locked_until = :t WHERE id = :i", t=until, i=locked.id)
    plain = proxied.add_user("counsellor")
    seen = {}
    for who, name in (("unknown", "nobody_" + plain.name), ("locked", locked.name), ("plain", plain.name)):
        source = f"192.0.2.{len(seen) + 50}"
        # The seconds left depend on how fast this machine is; everything else must be identical.
        seen[who] = [(status, re.sub(r"\d+", "N", message), retry is not None)
                     for status, message, retry in (answer(attempt(proxied, name, WRONG, source=source))
                                                    for _ in range(4))]
    assert seen["unknown"] == seen["locked"] == seen["plain"]
    assert [status for status, _, _ in seen["plain"]] == [401, 401, 401, 429]
    assert all("ロック" not in message for status, message, _ in seen["locked"])


def test_five_wrong_second_factors_still_lock_the_account(proxied: Gateway) -> None:
    account = proxied.add_user("counsellor")
    with httpx.Client(base_url=proxied.url, follow_redirects=False, headers={"X-Real-IP": "192.0.2.99"}) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text).group(1)
        assert client.post("/console/login", data={"csrf_token": token, "username": account.name,
                                                   "password": account.password}).status_code == 302
        for _ in range(5):
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login/2fa").text)
            if token is None:
                break
            wrong = client.post("/console/login/2fa", data={"csrf_token": token.group(1), "code": "000000"})
            assert wrong.status_code == 401
    assert "ロック" in wrong.text
    assert rows(proxied.database_url, "SELECT locked_until FROM users WHERE id = :i", i=account.id)[0][
        "locked_until"]
    locked = answer(attempt(proxied, account.name, account.password, source="192.0.2.100"))
    assert locked[0] == 401 and "ロック" in locked[1]  # told only to someone who knows the password
    assert answer(attempt(proxied, account.name, WRONG, source="192.0.2.101"))[1] == GENERIC + "。"


def test_forwarded_headers_are_not_believed_without_a_configured_proxy(gateway_sqlite: Gateway) -> None:
    account: Account = gateway_sqlite.add_user("counsellor")
    for i in range(3):
        forged = {"X-Forwarded-For": f"10.9.8.{i}", "X-Real-IP": f"10.9.7.{i}", "Forwarded": f"for=10.9.6.{i}"}
        assert attempt(gateway_sqlite, account.name, WRONG, headers=forged).status_code == 401
    stored = rows(gateway_sqlite.database_url,
                  "SELECT source, failures FROM console_login_throttle WHERE name = :n", n=account.name)
    assert stored == [{"source": "127.0.0.1", "failures": 3}]  # the socket's address, whatever the headers claim


def test_make_run_names_the_first_admin_after_ycc_first_admin(tmp_path: Path) -> None:
    from handoff.cli import create_first_admin

    with database("sqlite", tmp_path) as url:
        settings = Settings.from_mapping({"YCC_DATABASE_URL": url, "YCC_FIRST_ADMIN": "kanri_ishikawa"})
        asyncio.run(upgrade_async(settings.database_url))
        written = asyncio.run(create_first_admin(settings, str(tmp_path / "first-admin.txt")))
        assert rows(url, "SELECT name, role FROM users") == [{"name": "kanri_ishikawa", "role": "admin"}]
    assert written is not None and "user: kanri_ishikawa" in written.read_text(encoding="utf-8")
    assert os.stat(written).st_mode & 0o777 == 0o600
    assert Settings.from_mapping({}).first_admin == "admin"
