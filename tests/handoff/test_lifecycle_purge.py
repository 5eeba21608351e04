"""`ycc purge` at contract end (R25): refuses unless the operator names the database, the export still equals the
database and nothing uses it; then erases so that the deleted text is gone from the SQLite files too, and certifies
it (データ消去証明書)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from handoff.lifecycle.certificate import write_certificate
from handoff.lifecycle.export import export_database
from handoff.lifecycle.purge import PurgeRefused, PurgeRequest, purge
from handoff.lifecycle.tables import identity
from handoff.settings import Settings
from tests.handoff.lifecycle_data import MARK, TEXT, Seeded, add_message, seed, settings_for
from tests.support.databases import rows, sync_url

NOW = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)
TABLES_WITH_ROWS = {"users", "roster_changes", "contacts", "consent_events", "conversations", "status_changes",
                    "outbox", "delivery_attempts", "messages", "inbox", "escalations", "alerts", "records",
                    "audit_log", "api_tokens", "console_sessions", "console_totp_uses", "worklog_notes"}


def _request(settings: Settings, **kwargs: object) -> PurgeRequest:
    return PurgeRequest(settings=settings, operator="tanaka", now=NOW, **kwargs)  # type: ignore[arg-type]


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _messages(url: str) -> int:
    return rows(url, "SELECT count(*) AS n FROM messages")[0]["n"]


def _sqlite_bytes(settings: Settings) -> bytes:
    db = Path(identity(settings.database_url))
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists())


async def _seed_and_export(url: str, tmp_path: Path) -> tuple[Settings, Seeded, Path]:
    seeded = await seed(url)
    settings = settings_for(url, tmp_path)
    out = tmp_path / "handover"
    await export_database(settings.database_url, out, operator="tanaka", now=NOW)
    return settings, seeded, out


async def test_purge_refuses_without_the_database_named_and_says_which_name_it_wants(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings, _, out = await _seed_and_export(sqlite_url, tmp_path)
    expected = str(tmp_path / "ycc.sqlite3")
    with pytest.raises(PurgeRefused, match=f"--confirm {expected}$"):
        await purge(_request(settings, archive=out))
    with pytest.raises(PurgeRefused, match=f"does not name this database; it is: {expected}"):
        await purge(_request(settings, archive=out, confirm="/var/lib/ycc/other.sqlite3"))
    with pytest.raises(PurgeRefused, match="--export-manifest PATH"):
        await purge(_request(settings, confirm=expected))
    assert _messages(sqlite_url) == 2


async def test_purge_refuses_when_a_message_arrived_after_the_export(db_url: str, tmp_path: Path) -> None:
    settings, seeded, out = await _seed_and_export(db_url, tmp_path)
    await add_message(db_url, seeded.conversation_id, "エクスポートの後に届いた相談")
    confirm = identity(settings.database_url)
    with pytest.raises(PurgeRefused, match="messages: 2 rows in the export, 3 now"):
        await purge(_request(settings, archive=out / "manifest.json", confirm=confirm))
    assert _messages(db_url) == 3


async def test_purge_refuses_when_content_changed_with_the_same_counts_or_the_export_is_damaged(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings, _, out = await _seed_and_export(sqlite_url, tmp_path)
    confirm = identity(settings.database_url)
    engine = create_engine(sync_url(sqlite_url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE records SET summary = '書き換え'"))
    engine.dispose()
    with pytest.raises(PurgeRefused, match="records: same row count but the content changed"):
        await purge(_request(settings, archive=out, confirm=confirm))

    messages = out / "messages.csv"
    messages.write_bytes(messages.read_bytes().replace(MARK.encode(), b"x"))
    with pytest.raises(PurgeRefused, match=r"export is damaged: messages\.csv does not match"):
        await purge(_request(settings, archive=out, confirm=confirm))
    assert _messages(sqlite_url) == 2


async def test_purge_refuses_while_a_gateway_holds_its_socket_but_not_for_one_a_killed_gateway_left(
    sqlite_url: str, tmp_path: Path
) -> None:
    settings, _, out = await _seed_and_export(sqlite_url, tmp_path)
    confirm = identity(settings.database_url)
    settings.run_dir.mkdir(mode=0o700)
    live = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    live.bind(str(settings.run_dir / "web-4242.sock"))  # a web process's, named by its pid
    try:
        with pytest.raises(PurgeRefused, match=r"has .*web-4242\.sock bound"):
            await purge(_request(settings, archive=out, confirm=confirm))
    finally:
        live.close()  # the file stays, as after kill -9
    assert (settings.run_dir / "web-4242.sock").exists()
    settings.metrics_dir.mkdir(mode=0o700)  # what /metrics counted into (prometheus_client multiprocess files)
    (settings.metrics_dir / "counter_4242.db").write_bytes(b"\0" * 16)
    report = await purge(_request(settings, archive=out, confirm=confirm))
    assert report.deleted["messages"] == 2
    assert str(settings.metrics_dir / "counter_4242.db") in report.removed_files
    assert not settings.run_dir.exists()


@contextmanager
def _holding_open(database: Path) -> Iterator[int]:
    """Another process with the database open and idle, like a gateway between two messages."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT 1 FROM "
         "messages').fetchall(); print('open', flush=True); sys.stdin.read()", str(database)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        yield holder.pid
    finally:
        holder.communicate(b"")


async def test_purge_refuses_while_another_process_has_the_sqlite_file_open(sqlite_url: str, tmp_path: Path) -> None:
    settings, _, out = await _seed_and_export(sqlite_url, tmp_path)
    confirm = identity(settings.database_url)
    with _holding_open(Path(confirm)) as pid:
        with pytest.raises(PurgeRefused, match=rf"process {pid} .* has {confirm}"):
            await purge(_request(settings, archive=out, confirm=confirm))
    assert _messages(sqlite_url) == 2


@pytest.mark.postgres
async def test_purge_refuses_while_another_postgres_session_is_connected(tmp_path: Path) -> None:
    from tests.support.databases import database

    with database("postgres", tmp_path) as url:
        settings, _, out = await _seed_and_export(url, tmp_path)
        engine = create_engine(sync_url(url), connect_args={"application_name": "psql-by-hand"})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                with pytest.raises(PurgeRefused, match="psql-by-hand"):
                    await purge(_request(settings, archive=out, confirm=identity(settings.database_url)))
        finally:
            engine.dispose()
        assert _messages(url) == 2


async def test_purge_erases_every_row_and_the_certificate_lists_what_it_deleted(db_url: str, tmp_path: Path) -> None:
    settings, _, out = await _seed_and_export(db_url, tmp_path)
    sqlite = db_url.startswith("sqlite")
    if sqlite:
        assert MARK.encode() in _sqlite_bytes(settings)
    before = {t: rows(db_url, f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in TABLES_WITH_ROWS}
    assert all(before.values()), before
    var = tmp_path / "var"
    (var / "log").mkdir(parents=True)
    (var / "log" / "gateway.log").write_text("conversation=1 kind=text\n")
    (var / "first-admin.txt").write_text("password: ...\n")
    (var / "backup-2027-03-30.sqlite3").write_bytes(b"a backup")

    report = await purge(_request(settings, archive=out, confirm=identity(settings.database_url), var_dir=var))

    for table in before:
        assert rows(db_url, f"SELECT count(*) AS n FROM {table}") == [{"n": 0}], table
    assert {t: report.deleted[t] for t in before} == before
    assert set(report.remaining.values()) == {0}
    assert rows(db_url, "SELECT count(*) AS n FROM alembic_version") == [{"n": 1}]  # schema kept
    if sqlite:  # secure_delete + VACUUM + WAL truncated: the text is gone from the bytes on disk
        assert MARK.encode() not in _sqlite_bytes(settings)
        assert TEXT.encode() not in _sqlite_bytes(settings)
    assert not (var / "log" / "gateway.log").exists() and not (var / "first-admin.txt").exists()
    assert report.left_files == [str(var / "backup-2027-03-30.sqlite3")]

    certificate = write_certificate(report, operator="tanaka", finished=NOW, directory=tmp_path / "cert")
    content = json.loads(certificate.json_path.read_text(encoding="utf-8"))
    assert content["deleted_rows"]["messages"] == 2 and content["deleted_rows_total"] == sum(report.deleted.values())
    assert content["export"]["manifest_sha256"] == report.archive.manifest_sha256  # type: ignore[union-attr]
    assert content["erased_at"] == "2027-03-31T18:00:00+09:00" and content["operator"] == "tanaka"
    assert content["database"] == identity(settings.database_url)
    printed = certificate.text_path.read_text(encoding="utf-8")
    assert printed.startswith("データ消去証明書") and "バックアップ" in printed and "LINE公式アカウント" in printed
    assert "messages" in printed and report.archive.manifest_sha256 in printed  # type: ignore[union-attr]


async def test_purge_with_remove_files_overwrites_and_deletes_the_sqlite_file_set(
    sqlite_url: str, tmp_path: Path
) -> None:
    await seed(sqlite_url)
    settings = settings_for(sqlite_url, tmp_path)
    database = tmp_path / "ycc.sqlite3"
    report = await purge(_request(settings, confirm=str(database), no_export=True, remove_files=True))
    assert report.archive is None and report.deleted["messages"] == 2
    assert report.removed_files[0] == str(database) and report.database_files_removed
    assert not [p for p in _names(tmp_path) if p.startswith("ycc.sqlite3")]


def test_the_byte_check_above_would_catch_a_plain_delete(tmp_path: Path) -> None:
    """Control for the SQLite assertion: without secure_delete and VACUUM, deleted text stays in the file.

    Debian builds SQLite with secure_delete on by default; Python's own builds for macOS and Windows do not, which
    is why purge sets it rather than relying on the platform.
    """
    import sqlite3

    path = tmp_path / "plain.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA secure_delete=OFF")
    conn.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, text TEXT)")
    conn.executemany("INSERT INTO messages (text) VALUES (?)", [(f"{TEXT} {i}",) for i in range(20)])
    conn.commit()
    conn.execute("DELETE FROM messages")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert rows(f"sqlite:///{path}", "SELECT count(*) AS n FROM messages") == [{"n": 0}]
    assert MARK.encode() in path.read_bytes()
