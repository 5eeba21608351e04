"""`ycc export` at contract end (R25, R30): everything the prefecture owns, readable in Excel, nothing secret,
private on disk, audited."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff.lifecycle.export import ExportError, export_database, read_archive
from handoff.lifecycle.tables import identity
from tests.handoff.lifecycle_data import AT_JST, LINE_USER, SUMMARY, TEXT, async_url, seed
from tests.support.databases import rows

NOW = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_export_hands_over_every_table_with_japanese_text_intact_and_no_credentials(
    db_url: str, tmp_path: Path
) -> None:
    seeded = await seed(db_url)
    out = tmp_path / "handover"
    result = await export_database(async_url(db_url), out, operator="tanaka", now=NOW)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == result.manifest

    # Excel in Japan: BOM, CRLF; the message with emoji comes back byte for byte; times in JST.
    raw = (out / "messages.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    messages = _csv(out / "messages.csv")
    incoming = next(m for m in messages if m["direction"] == "in")
    assert incoming["text"] == TEXT
    assert incoming["event_at"] == AT_JST
    assert "mark_as_read_token" not in incoming
    contact = _csv(out / "contacts.csv")[0]
    assert contact["line_user_id"] == LINE_USER and contact["consent"] == "true"
    assert json.loads(contact["profile"]) == {"age": "16", "family": "母・弟", "municipality": "金沢市"}
    assert _csv(out / "records.csv")[0]["summary"] == SUMMARY
    assert _csv(out / "delivery_attempts.csv")[0]["request_id"] == "req-0f0f0f"
    assert _csv(out / "worklog_notes.csv")[0] == {
        "day": "2026-11-24", "text": "特記事項なし📝", "author_id": str(seeded.user_id), "updated_at": AT_JST}
    inbox = json.loads(_csv(out / "inbox.csv")[0]["body"])
    assert inbox["message"]["text"] == TEXT and inbox["replyToken"] == "[withheld]"

    # Users: who worked, with what qualifications, enabled or not; never how they log in.
    users = _csv(out / "users.csv")
    assert [(u["name"], u["display_name"], u["role"], u["qualifications"], u["disabled"]) for u in users] == [
        ("yamada", "山田 花子", "counsellor", "AB", "false")]
    assert not {"password_hash", "totp_secret", "recovery_codes"} & set(users[0])
    assert set(manifest["tables"]["users"]["withheld_columns"]) == {"password_hash", "totp_secret", "recovery_codes"}
    assert "token_hash" not in _csv(out / "api_tokens.csv")[0]
    everything = b"".join(p.read_bytes() for p in out.iterdir())
    leaked = [s for s in seeded.secrets if s.encode() in everything]
    assert leaked == []
    assert not (out / "console_sessions.csv").exists() and "console_sessions" in manifest["excluded_tables"]

    # The manifest describes and seals every file; its counts are the database's.
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [e["file"] for e in manifest["tables"].values()] + ["manifest.json"])
    for name, entry in manifest["tables"].items():
        assert hashlib.sha256((out / entry["file"]).read_bytes()).hexdigest() == entry["sha256"], name
        assert entry["rows"] == rows(db_url, f"SELECT count(*) AS n FROM {name}")[0]["n"], name
        assert entry["rows"] == len(_csv(out / entry["file"])), name
    assert manifest["tables"]["messages"]["rows"] == 2
    assert manifest["schema_revision"] == rows(db_url, "SELECT version_num FROM alembic_version")[0]["version_num"]
    assert manifest["exported_at"] == "2027-03-31T18:00:00+09:00"
    assert manifest["database"] == identity(async_url(db_url))

    # Private on disk, and the export left its own audit row, inside the archive too.
    assert _mode(out) == 0o700 and {_mode(p) for p in out.iterdir()} == {0o600}
    audit = [a for a in _csv(out / "audit_log.csv") if a["action"] == "export_all"]
    assert [(a["actor"], a["object_type"]) for a in audit] == [("os:tanaka", "database")]
    assert rows(db_url, "SELECT actor FROM audit_log WHERE action = 'export_all'") == [{"actor": "os:tanaka"}]


async def test_export_refuses_a_non_empty_directory_and_a_missing_database(sqlite_url: str, tmp_path: Path) -> None:
    await seed(sqlite_url)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "old.csv").write_text("x")
    with pytest.raises(ExportError, match="not empty"):
        await export_database(async_url(sqlite_url), busy, operator="tanaka", now=NOW)
    assert [p.name for p in busy.iterdir()] == ["old.csv"]
    assert rows(sqlite_url, "SELECT count(*) AS n FROM audit_log WHERE action = 'export_all'") == [{"n": 0}]

    missing = tmp_path / "nowhere" / "ycc.sqlite3"
    with pytest.raises(ExportError, match="no database"):
        await export_database(f"sqlite+aiosqlite:///{missing}", tmp_path / "out", operator="tanaka", now=NOW)
    assert not missing.exists()


async def test_export_as_zip_is_one_private_file_that_verifies(sqlite_url: str, tmp_path: Path) -> None:
    await seed(sqlite_url)
    result = await export_database(async_url(sqlite_url), tmp_path / "handover", operator="tanaka", now=NOW,
                                   as_zip=True)
    assert result.path == tmp_path / "handover.zip"
    assert [name for name in _names(tmp_path) if "handover" in name] == ["handover.zip"]
    assert _mode(result.path) == 0o600
    with zipfile.ZipFile(result.path) as archive:
        text = archive.read("handover/messages.csv").decode("utf-8-sig")
    assert TEXT in text
    checked = read_archive(result.path)
    assert checked.problems == [] and checked.manifest["tables"]["messages"]["rows"] == 2


async def test_a_changed_or_missing_export_file_is_reported(sqlite_url: str, tmp_path: Path) -> None:
    await seed(sqlite_url)
    out = tmp_path / "handover"
    await export_database(async_url(sqlite_url), out, operator="tanaka", now=NOW)
    assert read_archive(out).problems == []
    records = out / "records.csv"
    records.write_bytes(records.read_bytes().replace("つないだ".encode(), "つなぐ".encode()))
    (out / "alerts.csv").unlink()
    assert read_archive(out / "manifest.json").problems == [
        "alerts.csv is missing", "records.csv does not match its SHA-256 in the manifest (records)"]
