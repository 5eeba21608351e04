"""Rasa's trackers in the hand-over and the erasure: they hold the young person's own words and profile answers.

Rasa keeps every turn of every conversation in its tracker store (bot/tracker_store.py), one row per event in a
table `events`, keyed by sender id. The sender id is the contact's key (`contacts.key`, `c-…`): the gateway talks to
Rasa under that key, never under the LINE user id. Where the store is comes from the same settings Rasa reads
(YCC_TRACKER_STORE_URL, else beside YCC_DATABASE_URL), so `ycc export` and `ycc purge` see what Rasa wrote.

`ycc export` writes every event as `rasa_tracker_events.csv` (same conventions as the tables: times in JST, the
event's JSON with sorted keys) and records it under `tracker_store` in the manifest. `ycc purge` checks the store
still equals that file, refuses while Rasa has it open, and erases every event with the gateway's data.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, Float, Integer, MetaData, String, Table, Text, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from handoff.lifecycle import tables
from handoff.settings import Settings

FILE = "rasa_tracker_events.csv"
NAME = "rasa tracker events"  # its line in the purge report and the certificate
COLUMNS = ["id", "sender_id", "type_name", "timestamp", "intent_name", "action_name", "data"]


@dataclass(frozen=True)
class Store:
    url: str
    schema: str  # PostgreSQL schema, "" on SQLite

    @property
    def identity(self) -> str:
        base = tables.identity(self.url)
        return f"{base} (schema {self.schema})" if self.schema else base

    @property
    def sqlite_file(self) -> Any:
        return tables.sqlite_path(self.url)

    def events(self) -> Table:
        """Rasa 3.6's SQLTrackerStore.SQLEvent, declared here: the gateway does not import Rasa."""
        return Table(
            "events", MetaData(schema=self.schema or None),
            Column("id", Integer, primary_key=True), Column("sender_id", String(255), nullable=False),
            Column("type_name", String(255), nullable=False), Column("timestamp", Float),
            Column("intent_name", String(255)), Column("action_name", String(255)), Column("data", Text),
        )

    def engine(self) -> AsyncEngine:
        return tables.snapshot_engine(self.url)


def locate(settings: Settings) -> Store | None:
    return Store(settings.tracker_store_url, settings.tracker_store_schema) if settings.tracker_store_url else None


def present(conn: Connection, store: Store) -> bool:
    return inspect(conn).has_table("events", schema=store.schema or None)


def exists(store: Store) -> bool:
    """Without connecting when it is a SQLite file: connecting would create an empty one."""
    path = store.sqlite_file
    return path is None or path.exists()


def _row(row: Any) -> list[str]:
    import json

    try:
        data: Any = json.loads(row.data) if row.data else None  # Rasa writes \u escapes; the archive reads Japanese
    except ValueError:
        data = row.data
    at = datetime.fromtimestamp(row.timestamp, UTC) if row.timestamp is not None else None
    return [tables.cell(v) for v in (row.id, row.sender_id, row.type_name, at, row.intent_name, row.action_name,
                                      data)]


def write(conn: Connection, store: Store, sink: tables.Sink, stream: bool = True) -> int:
    """Every event as CSV (BOM, header, by id) into `sink`; the number of rows."""
    sink.write("\ufeff")
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    events = store.events()
    query = select(events).order_by(events.c.id)
    result = conn.execute(query.execution_options(yield_per=1000) if stream else query)
    count = 0
    try:
        for row in result:
            writer.writerow(_row(row))
            count += 1
    finally:
        result.close()
    return count


def digest(conn: Connection, store: Store) -> tuple[int, str]:
    sink = tables.HashingWriter()
    rows = write(conn, store, sink, stream=False)
    return rows, sink.sha256.hexdigest()


def senders(conn: Connection, store: Store) -> int:
    events = store.events()
    return int(conn.execute(select(func.count(events.c.sender_id.distinct()))).scalar_one())


async def export(store: Store | None, folder: Any) -> dict[str, Any]:
    """Write FILE into `folder` and return its manifest entry (`absent` says why there is no file)."""
    if store is None:
        return {"store": None, "absent": "no tracker store configured (in-memory database)"}
    entry: dict[str, Any] = {"store": store.identity, "file": FILE}
    if not exists(store):
        return {"store": store.identity, "absent": "Rasa never wrote a tracker here (no file)"}
    engine = store.engine()
    try:
        async with engine.begin() as conn:
            if not await conn.run_sync(present, store):
                return {"store": store.identity, "absent": "Rasa never wrote a tracker here (no events table)"}
            fd = os.open(folder / FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                sink = tables.HashingWriter(file)
                entry["rows"] = await conn.run_sync(write, store, sink)
                file.flush()
                os.fsync(file.fileno())
            entry["senders"] = await conn.run_sync(senders, store)
    finally:
        await engine.dispose()
    entry["sha256"] = sink.sha256.hexdigest()
    entry["sender_id"] = "the contact's key (contacts.key), never the LINE user id"
    return entry


def compare(conn: Connection, store: Store, manifest: dict[str, Any]) -> list[str]:
    """Why the store no longer equals the export ([] if it does)."""
    exported = manifest.get("tracker_store")
    rows, sha256 = digest(conn, store) if present(conn, store) else (0, None)
    if exported is None or "absent" in exported:
        return [f"{NAME}: {rows} in the store, none in the export"] if rows else []
    if rows != exported["rows"]:
        return [f"{NAME}: {exported['rows']} in the export, {rows} now"]
    if sha256 != exported["sha256"]:
        return [f"{NAME}: same count but the content changed since the export"]
    return []


def erase(conn: Connection, store: Store, manifest: dict[str, Any] | None) -> tuple[int, list[str]]:
    """Check against the export and delete every event in one transaction (connection in autocommit; BEGIN is
    ours); then rewrite the storage as purge does for the gateway's tables. (deleted, differences)."""
    sqlite = conn.dialect.name == "sqlite"
    if not present(conn, store):
        return 0, compare(conn, store, manifest) if manifest is not None else []
    events = store.events()
    if sqlite:
        conn.exec_driver_sql("PRAGMA secure_delete=ON")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")
        conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
        conn.exec_driver_sql(f'LOCK TABLE "{store.schema}".events IN ACCESS EXCLUSIVE MODE')
    try:
        differences = compare(conn, store, manifest) if manifest is not None else []
        if differences:
            conn.exec_driver_sql("ROLLBACK")
            return 0, differences
        deleted = int(conn.execute(select(func.count()).select_from(events)).scalar_one())
        if sqlite:
            conn.execute(events.delete())
        else:
            conn.exec_driver_sql(f'TRUNCATE TABLE "{store.schema}".events RESTART IDENTITY')
        conn.exec_driver_sql("COMMIT")
    except BaseException:
        conn.exec_driver_sql("ROLLBACK")
        raise
    if sqlite:
        conn.exec_driver_sql("VACUUM")
        busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if busy:
            raise RuntimeError("the tracker store's WAL could not be checkpointed: another connection holds it")
    else:
        conn.exec_driver_sql(f'VACUUM FULL "{store.schema}".events')
    return deleted, []


def remaining(conn: Connection, store: Store) -> int:
    if not present(conn, store):
        return 0
    return int(conn.execute(select(func.count()).select_from(store.events())).scalar_one())


def forget_before(conn: Connection, store: Store, before: dict[str, float]) -> int:
    """Delete each sender's events older than its time (epoch seconds, as Rasa stamps them); rows deleted."""
    if not present(conn, store):
        return 0
    events = store.events()
    deleted = 0
    for sender, at in before.items():
        result = conn.execute(events.delete().where(events.c.sender_id == sender, events.c.timestamp < at))
        deleted += int(result.rowcount or 0)
    return deleted
