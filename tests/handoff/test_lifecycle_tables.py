"""No table is left out of the hand-over by accident (R25), and no credential is let into it (R30).

A table is either exported or listed in EXCLUDED_TABLES with a reason; a column that looks like a credential is
either withheld or listed in NOT_SECRET. A new table or column that nobody classified fails here, not at contract
end.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from handoff.lifecycle.export import export_database
from handoff.lifecycle.tables import (
    EXCLUDED_TABLES,
    NOT_SECRET,
    WITHHELD_COLUMNS,
    model_tables,
    unclassified_secret_columns,
)
from handoff.store.migrate import upgrade_async
from handoff.store.models import Base
from tests.handoff.lifecycle_data import async_url
from tests.support.databases import rows, sync_url

NOW = datetime(2027, 3, 31, 9, 0, tzinfo=UTC)


async def test_every_table_is_exported_or_deliberately_excluded(db_url: str, tmp_path: Path) -> None:
    defined = set(model_tables())  # every models*.py of handoff.store and console, e.g. R21's worklog_notes
    await upgrade_async(async_url(db_url))
    in_database = {r["name"] for r in rows(db_url, (
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        if db_url.startswith("sqlite") else
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"))}
    manifest = (await export_database(async_url(db_url), tmp_path / "out", operator="t", now=NOW)).manifest
    exported = set(manifest["tables"])
    excluded = set(manifest["excluded_tables"])

    assert defined - in_database == set(), "a model has no migration: write the Alembic revision"
    assert (defined | in_database) - exported - excluded == set()
    assert exported & excluded == set()
    assert {"contacts", "consent_events", "conversations", "status_changes", "messages", "escalations", "records",
            "alerts", "delivery_attempts", "audit_log", "roster_changes", "users", "worklog_notes"} <= exported
    assert set(EXCLUDED_TABLES) <= in_database, "EXCLUDED_TABLES names a table that no longer exists"
    assert all(len(reason) > 20 for reason in EXCLUDED_TABLES.values())


def test_no_column_that_looks_like_a_credential_is_left_unclassified() -> None:
    model_tables()
    assert unclassified_secret_columns(Base.metadata) == []
    for table, column in (*WITHHELD_COLUMNS, *NOT_SECRET):
        assert column in Base.metadata.tables[table].c, f"{table}.{column} is classified but does not exist"


async def test_a_table_a_future_migration_adds_is_exported_and_its_secret_looking_column_withheld(
    db_url: str, tmp_path: Path
) -> None:
    await upgrade_async(async_url(db_url))
    engine = create_engine(sync_url(db_url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE callbacks (id INTEGER PRIMARY KEY, note TEXT, api_key TEXT)"))
        conn.execute(text("INSERT INTO callbacks VALUES (1, '折り返し希望☎', 'sk-live-0000')"))
    engine.dispose()
    out = tmp_path / "out"
    manifest = (await export_database(async_url(db_url), out, operator="t", now=NOW)).manifest
    assert manifest["tables"]["callbacks"]["rows"] == 1
    assert list(manifest["tables"]["callbacks"]["withheld_columns"]) == ["api_key"]
    content = (out / "callbacks.csv").read_bytes().decode("utf-8-sig")
    assert content == "id,note\r\n1,折り返し希望☎\r\n"
    assert "sk-live" not in json.dumps(manifest) + "".join(p.read_bytes().decode("utf-8-sig") for p in out.iterdir())
