"""業務日誌 over HTTP (R21, R24, R30): who may see it, notes, the password-protected download, the audit trail.

Runs against the real gateway (`ycc serve`) once on SQLite and once on PostgreSQL; October 2026 is seeded straight
into its tables (tests/console/worklog_seed.py), so the page's numbers are known.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import httpx
import pytest

from tests.console.conftest import Console, Gateway
from tests.console.test_worklog_report import decrypt
from tests.console.worklog_seed import seed_gateway

FILE_PASSWORD = "agreed with the prefecture"


def form(console: Console, path: str, data: dict[str, str], *, csrf: bool = True) -> httpx.Response:
    return console.client.post(path, data={**data, **({"csrf_token": console.csrf} if csrf else {})})


def audit_rows(gw: Gateway, actor: str) -> list[dict]:
    return gw.rows("SELECT action, object_id, allowed, detail FROM audit_log WHERE actor = :a ORDER BY id", a=actor)


def row_of(html: str, day: str) -> str:
    match = re.search(rf'<tr id="d-{day}".*?</tr>', html, re.S)
    assert match, day
    return match.group(0)


def test_counsellor_is_refused_the_work_log_and_the_refusal_is_audited(gateway: Gateway) -> None:
    counsellor = gateway.login(gateway.add_user("counsellor"))
    assert "業務日誌" not in counsellor.get("/console/queue").text  # not in the navigation
    assert counsellor.get("/console/worklog/2026-10").status_code == 403
    refused = form(counsellor, "/console/worklog/2026-10/download",
                   {"password": FILE_PASSWORD, "password_again": FILE_PASSWORD})
    assert refused.status_code == 403 and "spreadsheetml" not in refused.headers["content-type"]
    assert form(counsellor, "/console/worklog/2026-10/notes/2026-10-07", {"text": "x"}).status_code == 403
    rows = audit_rows(gateway, counsellor.account.name)
    assert [r["allowed"] for r in rows if r["object_id"] and "worklog" in r["object_id"]] == [False, False, False]


def test_supervisor_sees_the_month_writes_a_note_and_downloads_the_file(gateway: Gateway) -> None:
    seed = seed_gateway(gateway.database_url)
    boss = gateway.login(gateway.add_user("supervisor"))
    home = boss.get("/console/worklog")
    assert home.status_code == 302 and re.fullmatch(r"/console/worklog/\d{4}-\d{2}", home.headers["location"])
    page = boss.get("/console/worklog/2026-10")
    assert page.status_code == 200 and "業務日誌" in page.text and "月次報告をダウンロード" in page.text
    sixth = row_of(page.text, "2026-10-06")
    assert '<td data-key="handled_by" class="names">山田 2、佐藤 1</td>' in sixth
    assert '<td data-key="wait_median" class="num-cell">20.0</td>' in sixth
    assert "危機対応1件。県に電話で報告済み。" in sixth
    assert not any(line_id in page.text for line_id in seed.line_ids)

    assert form(boss, "/console/worklog/2026-10/notes/2026-10-07", {"text": "x"}, csrf=False).status_code == 403
    saved = form(boss, "/console/worklog/2026-10/notes/2026-10-07", {"text": "相談員研修を実施。\n来月の体制を確認。"})
    assert saved.status_code == 302 and saved.headers["location"].endswith("#d-2026-10-07")
    seventh = row_of(boss.get(saved.headers["location"]).text, "2026-10-07")
    assert "相談員研修を実施。\n来月の体制を確認。" in seventh and boss.account.name in seventh
    assert form(boss, "/console/worklog/2026-10/notes/2026-11-07", {"text": "x"}).status_code == 404

    mismatch = form(boss, "/console/worklog/2026-10/download",
                    {"password": FILE_PASSWORD, "password_again": FILE_PASSWORD + "!"})
    assert mismatch.status_code == 400 and "パスワードが一致しません。" in mismatch.text
    short = form(boss, "/console/worklog/2026-10/download", {"password": "short", "password_again": "short"})
    assert short.status_code == 400 and "12文字以上" in short.text
    done = form(boss, "/console/worklog/2026-10/download",
                {"password": FILE_PASSWORD, "password_again": FILE_PASSWORD})
    assert done.status_code == 200
    assert done.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = done.headers["content-disposition"]
    assert 'filename="worklog_2026-10.xlsx"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "業務日誌_2026-10.xlsx"
    assert done.headers["cache-control"] == "no-store"
    book = decrypt(done.content, FILE_PASSWORD)
    header = [c.value for c in book["業務日誌"][2]]
    seventh_row = dict(zip(header, [c.value for c in book["業務日誌"][2 + 7]], strict=True))
    assert seventh_row["特記事項"] == "相談員研修を実施。\n来月の体制を確認。"
    assert book["相談記録"].max_row >= 2

    rows = audit_rows(gateway, boss.account.name)
    actions = [(r["action"], r["object_id"], bool(r["allowed"])) for r in rows]
    assert ("view_worklog", "2026-10", True) in actions
    assert ("worklog_note", "2026-10-07", True) in actions
    assert actions.count(("export_worklog", "2026-10", False)) == 2
    assert actions.count(("export_worklog", "2026-10", True)) == 1
    assert not any(FILE_PASSWORD in (r["detail"] or "") for r in rows)
    # An empty note removes it.
    form(boss, "/console/worklog/2026-10/notes/2026-10-07", {"text": "  "})
    assert gateway.rows("SELECT text FROM worklog_notes WHERE day = :d", d="2026-10-07") == []


@pytest.mark.parametrize("path", ["/console/worklog/2026-13", "/console/worklog/latest"])
def test_a_month_that_does_not_exist_is_not_found(gateway_sqlite: Gateway, path: str) -> None:
    boss = gateway_sqlite.login(gateway_sqlite.add_user("supervisor"))
    assert boss.get(path).status_code == 404


def test_admin_reads_the_log_but_neither_writes_nor_downloads(gateway_sqlite: Gateway) -> None:
    admin = gateway_sqlite.login(gateway_sqlite.add_user("admin"))
    page = admin.get("/console/worklog/2026-10")
    assert page.status_code == 200 and 'href="/console/worklog"' in page.text
    assert "月次報告をダウンロード" not in page.text and 'name="text"' not in page.text
    assert form(admin, "/console/worklog/2026-10/download",
                {"password": FILE_PASSWORD, "password_again": FILE_PASSWORD}).status_code == 403
    assert form(admin, "/console/worklog/2026-10/notes/2026-10-07", {"text": "x"}).status_code == 403
