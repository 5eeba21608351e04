"""Headers on every API and static response, HSTS behind https, the absolute session lifetime (12.8, 12.12)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.console.conftest import Gateway, _start
from tests.support.databases import database, execute


def private(response: httpx.Response) -> bool:
    return (response.headers.get("cache-control") == "no-store"
            and response.headers.get("x-content-type-options") == "nosniff")


def test_api_and_static_responses_are_never_cached_or_sniffed(gateway_sqlite: Gateway, line_user: str) -> None:
    sup = gateway_sqlite.login(gateway_sqlite.add_user("supervisor"))
    gateway_sqlite.user_says(line_user, "こんにちは")
    cid = gateway_sqlite.queued(sup, line_user)["id"]
    answers = {
        "list": sup.get("/api/conversations"),
        "one": sup.get(f"/api/conversations/{cid}"),
        "messages": sup.get(f"/api/conversations/{cid}/messages"),
        "cases": sup.get("/api/escalations"),
        "openapi": sup.get("/api/openapi.json"),
        "not logged in": httpx.get(f"{gateway_sqlite.url}/api/conversations"),
        "not found": sup.get("/api/conversations/999999999"),
        "bad request": sup.get("/api/conversations?limit=5000"),
        "no such route": sup.get("/api/nothing-here"),
        "wrong method": sup.client.put("/api/conversations"),
        "script": sup.get("/console/static/chat.js"),
        "style": sup.get("/console/static/console.css"),
        "missing file": sup.get("/console/static/none.js"),
    }
    assert answers["list"].status_code == 200 and answers["not logged in"].status_code == 401
    assert answers["script"].status_code == 200 and answers["missing file"].status_code == 404
    assert {name for name, response in answers.items() if not private(response)} == set()
    assert "strict-transport-security" not in answers["list"].headers  # plain http: no HSTS


@pytest.fixture(scope="module")
def behind_https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("console_https")
    with database("sqlite", tmp) as url:
        yield from _start(tmp, url, YCC_PUBLIC_URL="https://ycc.example.jp")


def test_https_public_url_turns_on_hsts_everywhere(behind_https: Gateway) -> None:
    for path in ("/healthz", "/console/login", "/api/conversations", "/console/static/common.js", "/nothing"):
        response = httpx.get(behind_https.url + path)
        assert response.headers.get("strict-transport-security") == "max-age=31536000; includeSubDomains", path
        assert response.headers.get("x-content-type-options") == "nosniff", path


def test_a_busy_session_still_ends_after_twelve_hours(gateway_sqlite: Gateway) -> None:
    account = gateway_sqlite.add_user("counsellor")
    console = gateway_sqlite.login(account)
    assert console.get("/api/conversations").status_code == 200
    now = datetime.now(UTC).replace(tzinfo=None)
    execute(gateway_sqlite.database_url,  # active a minute ago, but logged in 12 hours and a minute ago
            "UPDATE console_sessions SET created_at = :c, last_seen_at = :s WHERE user_id = :u AND revoked = 0",
            c=now - timedelta(hours=12, minutes=1), s=now - timedelta(minutes=1), u=account.id)
    assert console.get("/api/conversations").status_code == 401
    assert console.get("/console/queue").headers["location"] == "/console/login"
