"""Rasa's trackers follow the gateway's data at contract end (issue 18.1): `ycc export` hands them over, `ycc purge`
erases them, on SQLite (their own file beside the gateway's) and on PostgreSQL (schema `rasa` in its database).

Rasa is not run here: the events are written in Rasa 3.6's table layout (SQLTrackerStore.SQLEvent) the way Rasa
writes them (JSON with \\u escapes), keyed by the contact's key. tests/e2e/test_e2e_tracker.py shows real Rasa
writing to the same place.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from handoff.lifecycle import trackers
from handoff.lifecycle.export import export_database, read_archive
from handoff.lifecycle.purge import PurgeRefused, PurgeRequest, purge
from handoff.lifecycle.tables import identity
from handoff.settings import Settings
from tests.handoff.lifecycle_data import MARK, TEXT, seed, settings_for, write_tracker_events
from tests.support.databases import rows

NOW = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)
SAID_AT = datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC)


def _sync(url: str) -> str:
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg2")


def _write_events(settings: Settings, sender: str, words: str, count: int = 2) -> trackers.Store:
    """What Rasa's SQLTrackerStore writes for `count` user turns of `sender`."""
    rows_of = []
    for i in range(count):
        data = {"event": "user", "timestamp": SAID_AT.timestamp() + i, "text": words,
                "parse_data": {"intent": {"name": "share_situation", "confidence": 0.9}}}
        rows_of.append({"sender_id": sender, "type_name": "user", "timestamp": data["timestamp"],
                        "intent_name": "share_situation", "action_name": None, "data": json.dumps(data)})
    return write_tracker_events(settings, rows_of)


def _count(store: trackers.Store) -> int:
    table = f'"{store.schema}".events' if store.schema else "events"
    return rows(_sync(store.url), f"SELECT count(*) AS n FROM {table}")[0]["n"]


async def _seeded(url: str, tmp_path: Path) -> tuple[Settings, str, trackers.Store]:
    await seed(url)
    settings = settings_for(url, tmp_path)
    key = rows(url, "SELECT key FROM contacts ORDER BY id")[0]["key"]
    return settings, key, _write_events(settings, key, TEXT)


def _exists(path: Path) -> bool:
    return path.exists()


@contextmanager
def _held_open(path: Path | None) -> Iterator[None]:
    """Another process with the file open, as Rasa's connection pool keeps it."""
    holder = subprocess.Popen([sys.executable, "-c", f"import time; f = open({str(path)!r}, 'rb'); "
                               "print('open', flush=True); time.sleep(60)"], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        yield
    finally:
        holder.kill()
        holder.wait()


def _request(settings: Settings, **kwargs: object) -> PurgeRequest:
    return PurgeRequest(settings=settings, operator="tanaka", now=NOW,  # type: ignore[arg-type]
                        confirm=identity(settings.database_url), **kwargs)


def test_the_tracker_store_sits_beside_the_gateways_database_unless_configured(tmp_path: Path) -> None:
    sqlite = Settings.from_mapping({"YCC_DATABASE_URL": f"sqlite:///{tmp_path / 'ycc.sqlite3'}"})
    assert sqlite.tracker_store_url == f"sqlite+aiosqlite:///{tmp_path / 'ycc-trackers.sqlite3'}"
    assert sqlite.tracker_store_schema == ""
    pg = Settings.from_mapping({"YCC_DATABASE_URL": "postgresql://ycc@db:5432/ycc"})
    assert (pg.tracker_store_url, pg.tracker_store_schema) == ("postgresql+asyncpg://ycc@db:5432/ycc", "rasa")
    own = Settings.from_mapping({"YCC_DATABASE_URL": "postgresql://ycc@db:5432/ycc",
                                 "YCC_TRACKER_STORE_URL": "postgresql://rasa@db:5432/rasa",
                                 "YCC_TRACKER_STORE_SCHEMA": "public"})
    assert (own.tracker_store_url, own.tracker_store_schema) == ("postgresql+asyncpg://rasa@db:5432/rasa", "public")
    with pytest.raises(ValueError, match="YCC_TRACKER_STORE_URL"):
        Settings.from_mapping({"YCC_TRACKER_STORE_URL": "mysql://x"})
    with pytest.raises(ValueError, match="YCC_TRACKER_STORE_SCHEMA"):
        Settings.from_mapping({"YCC_TRACKER_STORE_SCHEMA": 'rasa"; DROP'})


async def test_export_hands_over_every_tracker_event_in_readable_japanese(db_url: str, tmp_path: Path) -> None:
    settings, key, store = await _seeded(db_url, tmp_path)
    out = tmp_path / "handover"
    result = await export_database(settings.database_url, out, operator="tanaka", now=NOW,
                                   tracker=trackers.locate(settings))

    entry = result.manifest["tracker_store"]
    assert entry["store"] == store.identity and entry["rows"] == 2 and entry["senders"] == 1
    raw = (out / trackers.FILE).read_bytes()
    assert raw.startswith("\ufeff".encode()) and (out / trackers.FILE).stat().st_mode & 0o777 == 0o600
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == trackers.COLUMNS and len(table) == 3
    first = dict(zip(table[0], table[1], strict=True))
    assert first["sender_id"] == key and first["timestamp"] == "2026-11-24T10:02:03+09:00"
    assert TEXT in first["data"]  # the user's words as written, not \u escapes
    assert read_archive(out).problems == []
    (out / trackers.FILE).write_bytes(raw.replace(MARK.encode(), b"changed"))
    assert read_archive(out).problems == [f"{trackers.FILE} does not match its SHA-256 in the manifest "
                                          f"({trackers.NAME})"]


async def test_export_says_when_rasa_never_wrote_a_tracker(sqlite_url: str, tmp_path: Path) -> None:
    await seed(sqlite_url)
    settings = settings_for(sqlite_url, tmp_path)
    result = await export_database(settings.database_url, tmp_path / "out", operator="tanaka", now=NOW)
    assert "no file" in result.manifest["tracker_store"]["absent"]
    assert not _exists(tmp_path / "out" / trackers.FILE)
    assert not _exists(Path(identity(settings.tracker_store_url)))  # looking did not create an empty store


async def test_purge_erases_the_trackers_with_the_gateways_data(db_url: str, tmp_path: Path) -> None:
    settings, _, store = await _seeded(db_url, tmp_path)
    out = tmp_path / "handover"
    await export_database(settings.database_url, out, operator="tanaka", now=NOW)

    report = await purge(_request(settings, archive=out))

    assert report.deleted[trackers.NAME] == 2 and report.remaining[trackers.NAME] == 0
    assert _count(store) == 0
    if store.sqlite_file is not None:  # secure_delete + VACUUM: the words are gone from the file's bytes
        files = [store.sqlite_file, Path(f"{store.sqlite_file}-wal")]
        assert all(MARK.encode() not in p.read_bytes() for p in files if p.exists())


async def test_purge_refuses_when_rasa_wrote_after_the_export(db_url: str, tmp_path: Path) -> None:
    settings, key, store = await _seeded(db_url, tmp_path)
    out = tmp_path / "handover"
    await export_database(settings.database_url, out, operator="tanaka", now=NOW)
    _write_events(settings, key, "エクスポートの後の言葉", count=1)

    with pytest.raises(PurgeRefused, match=r"Rasa's trackers changed after the export.*2 in the export, 3 now"):
        await purge(_request(settings, archive=out))
    assert _count(store) == 3
    assert rows(db_url, "SELECT count(*) AS n FROM messages")[0]["n"] == 2  # nothing of the gateway's deleted either


async def test_purge_refuses_while_rasa_holds_its_sqlite_tracker_store_open(sqlite_url: str, tmp_path: Path) -> None:
    settings, _, store = await _seeded(sqlite_url, tmp_path)
    with _held_open(store.sqlite_file):
        with pytest.raises(PurgeRefused, match="Rasa's tracker store; stop Rasa"):
            await purge(_request(settings, no_export=True))
    assert _count(store) == 2


async def test_purge_with_remove_files_removes_the_tracker_file_too(sqlite_url: str, tmp_path: Path) -> None:
    settings, _, store = await _seeded(sqlite_url, tmp_path)
    report = await purge(_request(settings, no_export=True, remove_files=True))
    assert store.sqlite_file is not None and not store.sqlite_file.exists()
    assert str(store.sqlite_file) in report.removed_files


@pytest.mark.postgres
async def test_purge_refuses_before_deleting_anything_while_rasa_is_connected_to_its_own_database(
    tmp_path: Path,
) -> None:
    """YCC_TRACKER_STORE_URL naming a database of its own: Rasa's session there is seen before the first delete."""
    from tests.support.databases import database, sync_url
    from tests.support.servers import free_port

    with database("postgres", tmp_path) as url, database("postgres", tmp_path / "rasa") as rasa_url:
        await seed(url)
        settings = Settings.from_mapping({"YCC_DATABASE_URL": url, "YCC_TRACKER_STORE_URL": rasa_url,
                                          "YCC_RUN_DIR": str(tmp_path / "run"), "YCC_PORT": str(free_port())})
        store = _write_events(settings, "c-someone", TEXT)
        engine = create_engine(sync_url(rasa_url), connect_args={"application_name": "rasa-by-test"})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                with pytest.raises(PurgeRefused, match=r"Rasa's tracker store is in use.*rasa-by-test"):
                    await purge(_request(settings, no_export=True))
        finally:
            engine.dispose()
        assert rows(url, "SELECT count(*) AS n FROM messages")[0]["n"] == 2 and _count(store) == 2
        report = await purge(_request(settings, no_export=True))
        assert report.deleted[trackers.NAME] == 2 and _count(store) == 0
