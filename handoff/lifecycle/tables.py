"""Which tables and columns leave the building, found in the live database rather than listed by hand.

Tables are discovered by reflecting the database, so a table a future migration adds is exported without anyone
remembering to list it here. What is *not* exported must be named below with a reason: whole tables in
`EXCLUDED_TABLES`, columns in `WITHHELD_COLUMNS`. A column whose name looks like a credential (password, secret,
token, hash, …) and that is classified neither way is withheld anyway, and the coverage test fails until somebody
decides; a hand-over archive with a leaked password hash cannot be recalled.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib
import json
import pkgutil
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, MetaData, Table, event, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from handoff.store.db import new_engine
from handoff.timeutil import TOKYO

EXCLUDED_TABLES: dict[str, str] = {
    "alembic_version": "schema bookkeeping; its revision is recorded in manifest.json",
    "console_sessions": "console login sessions; the id is the session secret and nothing else is a record",
    "console_totp_uses": "replay protection for second-factor codes: security state, not a record",
    "secure_sessions": "secure chat browser sessions (issue 16): cookie and CSRF hashes, security state, not a record",
}

WITHHELD_COLUMNS: dict[tuple[str, str], str] = {
    ("users", "password_hash"): "password hash (credential)",
    ("users", "totp_secret"): "second-factor secret (credential)",
    ("users", "recovery_codes"): "second-factor recovery code hashes (credential)",
    ("api_tokens", "token_hash"): "API token hash (credential)",
    ("secure_links", "token_hash"): "secure chat link token hash (credential)",
    ("outbox", "reply_token"): "LINE reply token (short-lived credential)",
    ("messages", "mark_as_read_token"): "LINE mark-as-read token (credential)",
}

# Names that match SECRET_LOOKING but hold no secret; exported on purpose.
NOT_SECRET: frozenset[tuple[str, str]] = frozenset({
    ("users", "totp_confirmed"),
    ("outbox", "reply_token_expires_at"),
    # the key in a delivery image's public URL (/about/media/<token>.jpg, sent to LINE): no access beyond the image
    ("broadcast_images", "token"),
})

SECRET_LOOKING = re.compile(r"pass(word)?|secret|token|hash|recovery|otp|credential|api_?key|salt", re.IGNORECASE)

# Keys inside JSON columns (LINE webhook bodies in `inbox`) that are credentials for LINE's API.
SCRUBBED_JSON_KEYS = frozenset({"replyToken", "markAsReadToken"})
SCRUBBED = "[withheld]"

CONVENTIONS = {
    "encoding": "UTF-8 with byte order mark (Excel opens it), RFC 4180 CSV, CRLF line ends, header row first",
    "timestamps": "ISO 8601 in Asia/Tokyo, e.g. 2026-11-24T10:00:00+09:00",
    "null": "an empty cell is NULL (or an empty text)",
    "booleans": "true / false",
    "json": "JSON text with sorted keys; replyToken and markAsReadToken values are replaced by [withheld]",
    "order": "rows sorted by primary key",
}


class Sink(Protocol):
    def write(self, text: str) -> object: ...


@dataclass
class TablePlan:
    """One table to export: its reflected definition, the columns that go out and those withheld with why."""

    table: Table
    columns: list[str]
    withheld: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def file(self) -> str:
        return f"{self.name}.csv"


@dataclass
class Plan:
    tables: list[TablePlan]
    excluded: dict[str, str]


def unclassified_secret_columns(metadata: MetaData) -> list[tuple[str, str]]:
    """Columns that look like credentials but appear in neither list; the coverage test keeps this empty."""
    found = []
    for table in metadata.sorted_tables:
        if table.name in EXCLUDED_TABLES:
            continue
        for column in table.columns:
            key = (table.name, column.name)
            if SECRET_LOOKING.search(column.name) and key not in WITHHELD_COLUMNS and key not in NOT_SECRET:
                found.append(key)
    return found


def plan(conn: Connection) -> Plan:
    """What this database holds and what of it goes into the archive."""
    metadata = MetaData()
    metadata.reflect(conn)
    suspicious = set(unclassified_secret_columns(metadata))
    tables = []
    for table in metadata.sorted_tables:
        if table.name in EXCLUDED_TABLES:
            continue
        withheld = {}
        for column in table.columns:
            key = (table.name, column.name)
            if key in WITHHELD_COLUMNS:
                withheld[column.name] = WITHHELD_COLUMNS[key]
            elif key in suspicious:
                withheld[column.name] = "name looks like a credential and nobody classified it (handoff/lifecycle)"
        columns = [c.name for c in table.columns if c.name not in withheld]
        tables.append(TablePlan(table, columns, withheld))
    present = set(metadata.tables)
    excluded = {name: why for name, why in EXCLUDED_TABLES.items() if name in present}
    return Plan(tables, excluded)


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: SCRUBBED if k in SCRUBBED_JSON_KEYS else _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def cell(value: Any) -> str:
    """One value as CSV text; naive datetimes are UTC, as every UTCDateTime column stores them on SQLite."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(TOKYO).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(_scrub(value), ensure_ascii=False, sort_keys=True)
    if isinstance(value, bytes | bytearray | memoryview):
        return "base64:" + base64.b64encode(bytes(value)).decode()
    if isinstance(value, Decimal | int | float):
        return str(value)
    return str(value)


class HashingWriter:
    """Encodes CSV text once and feeds both the hash and (when exporting) the file, so the two cannot disagree."""

    def __init__(self, file: Any | None = None) -> None:
        self.sha256 = hashlib.sha256()
        self._file = file

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.sha256.update(data)
        if self._file is not None:
            self._file.write(data)
        return len(text)


def write_table(conn: Connection, table: TablePlan, sink: Sink, stream: bool = True) -> int:
    """The table as CSV (BOM, header, rows by primary key) into `sink`; returns the number of rows.

    `stream` reads in batches through a server-side cursor; purge turns it off because on asyncpg such a cursor
    stays open until the transaction ends, and TRUNCATE refuses tables "used by active queries in this session".
    """
    sink.write("\ufeff")
    writer = csv.writer(sink, lineterminator="\r\n")
    writer.writerow(table.columns)
    cols = [table.table.c[name] for name in table.columns]
    order = list(table.table.primary_key.columns) or cols
    query = select(*cols).order_by(*order)
    result = conn.execute(query.execution_options(yield_per=1000) if stream else query)
    count = 0
    try:
        for row in result:
            writer.writerow([cell(v) for v in row])
            count += 1
    finally:
        result.close()
    return count


def digest(conn: Connection, table: TablePlan) -> tuple[int, str]:
    """Rows and SHA-256 of the CSV the table would export as now; purge compares this with the manifest.

    One table at a time is held in memory (see `write_table`); a year of consultations is tens of MB.
    """
    sink = HashingWriter()
    rows = write_table(conn, table, sink, stream=False)
    return rows, sink.sha256.hexdigest()


def schema_revision(conn: Connection) -> str | None:
    from sqlalchemy import inspect, text

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def identity(database_url: str) -> str:
    """What the operator types after `--confirm`: the SQLite file's absolute path, or host:port/dbname."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return str(Path(url.database or "").expanduser().resolve())
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def sqlite_path(database_url: str) -> Path | None:
    url = make_url(database_url)
    return Path(identity(database_url)) if url.get_backend_name() == "sqlite" else None


def snapshot_engine(database_url: str) -> AsyncEngine:
    """An engine whose transactions are real snapshots on SQLite too (pysqlite does not BEGIN before a SELECT).

    Without it, a gateway writing during the export could leave, say, a message whose conversation is missing.
    """
    engine = new_engine(database_url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN")

    return engine


def model_tables() -> Iterable[str]:
    """Every table the code defines: all `models*` modules of handoff.store are imported first.

    Every table, the console's too, is declared in handoff.store (the migrations import them from there), so the
    gateway never has to import the console to know its own database.
    """
    import handoff.store
    from handoff.store.models import Base

    for info in pkgutil.iter_modules(handoff.store.__path__):
        if info.name.startswith("models"):
            importlib.import_module(f"handoff.store.{info.name}")
    return sorted(Base.metadata.tables)
