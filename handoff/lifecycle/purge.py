"""`ycc purge`: secure deletion of all consultation data at contract end (R25), after a verified hand-over.

Order matters. Every refusal happens before the first row is deleted: the operator must name the database, the
export must be intact and still equal to the database, and nothing else may be using the database. The comparison
with the export runs inside the deleting transaction, under the write lock, so a row written between the check and
the delete is impossible rather than unlikely.

What it guarantees, by backend:
- SQLite: `secure_delete` zeroes freed content, VACUUM rebuilds the file from the (empty) tables and a TRUNCATE
  checkpoint empties the WAL, so the file set holds no deleted text; `--remove-files` then overwrites the files with
  zeros and unlinks them. On SSDs and copy-on-write or journaling file systems an overwrite need not reach the old
  blocks: full-disk encryption with its key destroyed, or the device's own erase, is the operator's last step.
- PostgreSQL: TRUNCATE gives each table a new empty file, VACUUM FULL rewrites the rest. The old files are unlinked,
  not overwritten; WAL segments, archives, replicas and dumps still hold the data until the operator destroys them.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, Table, func, select
from sqlalchemy.pool import NullPool

from handoff.lifecycle import running, tables, trackers
from handoff.lifecycle.export import Archive, ExportError, read_archive
from handoff.runtime.signals import socket_files
from handoff.settings import Settings
from handoff.store.db import new_engine

KEPT = "alembic_version"  # the empty database keeps its schema, so `ycc serve` on it would still work


class PurgeRefused(RuntimeError):
    """Purge did not start; nothing was deleted. The message says what the operator must do."""


@dataclass
class PurgeRequest:
    settings: Settings
    operator: str
    now: datetime
    confirm: str | None = None
    archive: Path | None = None
    no_export: bool = False
    remove_files: bool = False
    var_dir: Path | None = None


@dataclass
class PurgeReport:
    identity: str
    backend: str
    deleted: dict[str, int]
    remaining: dict[str, int]
    archive: Archive | None
    archive_path: Path | None
    started_at: datetime
    removed_files: list[str] = field(default_factory=list)
    left_files: list[str] = field(default_factory=list)
    database_files_removed: bool = False


def _check_request(req: PurgeRequest) -> tuple[str, Path | None, Archive | None]:
    url = req.settings.database_url
    expected = tables.identity(url)
    if req.confirm is None:
        raise PurgeRefused(f"this deletes every consultation in {expected}; to proceed add: --confirm {expected}")
    if req.confirm != expected:
        raise PurgeRefused(f"--confirm {req.confirm!r} does not name this database; it is: {expected}")
    database = tables.sqlite_path(url)
    if database is not None and not database.exists():
        raise PurgeRefused(f"there is no database at {database}")
    if req.no_export and req.archive is not None:
        raise PurgeRefused("give either --export-manifest or --no-export, not both")
    if req.remove_files and database is None:
        raise PurgeRefused("--remove-files applies to SQLite only; on PostgreSQL drop the database with dropdb")
    archive = None
    if not req.no_export:
        if req.archive is None:
            raise PurgeRefused("give --export-manifest PATH of the export made just before (`ycc export`), "
                               "or --no-export to erase without one")
        try:
            archive = read_archive(req.archive)
        except (ExportError, OSError) as exc:
            raise PurgeRefused(f"cannot read the export: {exc}") from None
        if archive.problems:
            raise PurgeRefused("the export is damaged: " + "; ".join(archive.problems))
        if archive.manifest.get("database") != expected:
            raise PurgeRefused(f"the export is of {archive.manifest.get('database')}, not of {expected}")
    signs = running.outside_signs(req.settings, database)
    store = trackers.locate(req.settings)
    if store is not None and store.sqlite_file is not None:
        signs += [f"{sign} (Rasa's tracker store; stop Rasa)" for sign in running.sqlite_holders(store.sqlite_file)]
    if signs:
        raise PurgeRefused("the database is in use; stop the gateway (and anything else using it) first: "
                           + "; ".join(signs))
    return expected, database, archive


def _compare(conn: Connection, manifest: dict[str, Any]) -> None:
    """The database must render exactly the CSV files that were exported: same tables, rows and bytes."""
    plan = tables.plan(conn)
    exported = manifest["tables"]
    differences = []
    now_names = {t.name for t in plan.tables}
    for name in sorted(now_names - set(exported)):
        differences.append(f"table {name} is not in the export")
    for name in sorted(set(exported) - now_names):
        differences.append(f"table {name} is in the export but not in the database")
    for table in plan.tables:
        if table.name not in exported:
            continue
        rows, sha256 = tables.digest(conn, table)
        entry = exported[table.name]
        if rows != entry["rows"]:
            differences.append(f"{table.name}: {entry['rows']} rows in the export, {rows} now")
        elif sha256 != entry["sha256"]:
            differences.append(f"{table.name}: same row count but the content changed since the export")
    if differences:
        raise PurgeRefused("the database changed after the export; export again, then purge with the new "
                           "manifest: " + "; ".join(differences))


def _counts(conn: Connection, targets: list[Table]) -> dict[str, int]:
    return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in targets}


def _targets(conn: Connection) -> list[Table]:
    metadata = MetaData()
    metadata.reflect(conn)
    return [t for t in metadata.sorted_tables if t.name != KEPT]


def _erase(conn: Connection, manifest: dict[str, Any] | None) -> dict[str, int]:
    """Check and delete in one transaction holding the write lock (connection in autocommit; BEGIN is ours)."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("PRAGMA secure_delete=ON")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        sessions = running.postgres_sessions(conn)
        if sessions:
            raise PurgeRefused("the database is in use; stop the gateway (and anything else using it) first: "
                               + "; ".join(sessions))
        conn.exec_driver_sql("BEGIN")
        conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
    try:
        targets = _targets(conn)
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in targets)
        if not sqlite and targets:
            conn.exec_driver_sql(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE")
        if manifest is not None:
            _compare(conn, manifest)
        deleted = _counts(conn, targets)
        if sqlite:
            for table in reversed(targets):
                conn.execute(table.delete())
            if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").first():
                conn.exec_driver_sql("DELETE FROM sqlite_sequence")
        elif targets:
            conn.exec_driver_sql(f"TRUNCATE TABLE {names} RESTART IDENTITY")
        conn.exec_driver_sql("COMMIT")
    except BaseException:
        conn.exec_driver_sql("ROLLBACK")
        raise
    return deleted


def _compact(conn: Connection) -> dict[str, int]:
    """After the commit: rewrite the storage so deleted rows leave no trace in it, then count again."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete=ON")
        conn.exec_driver_sql("VACUUM")
        busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        if busy:
            raise RuntimeError("the WAL could not be checkpointed: another connection holds it; stop it and "
                               "run `sqlite3 DB 'PRAGMA wal_checkpoint(TRUNCATE)'`")
    else:
        conn.exec_driver_sql("VACUUM FULL")
    return _counts(conn, _targets(conn))


def overwrite_and_remove(path: Path) -> bool:
    """Zeros over the whole file, flushed to disk, then unlink (see the module docstring for what this is worth)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    with open(path, "r+b", buffering=0) as file:
        block = b"\0" * (1 << 20)
        left = size
        while left > 0:
            left -= file.write(block[: min(left, len(block))])
        os.fsync(file.fileno())
    path.unlink()
    return True


def _clean_files(req: PurgeRequest, database: Path | None, report: PurgeReport) -> None:
    store = trackers.locate(req.settings)
    tracker_file = store.sqlite_file if store is not None else None
    if req.remove_files and database is not None:
        for db in (database, tracker_file):
            for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")) if db else ():
                if overwrite_and_remove(path):
                    report.removed_files.append(str(path))
                    report.database_files_removed = True
    var = req.var_dir
    if var is not None and var.is_dir():
        # Logs carry ids and kinds, never text, but ids are still about people; first-admin.txt is a credential.
        for path in [*sorted((var / "log").glob("*.log*")), var / "first-admin.txt"]:
            if path.is_file() and overwrite_and_remove(path):
                report.removed_files.append(str(path))
        with contextlib.suppress(OSError):
            (var / "log").rmdir()
    run_dir, metrics = req.settings.run_dir, req.settings.metrics_dir
    # Metrics hold counts, not words; they go so that a purged install starts from zero, and the run dir with them.
    counted = sorted(metrics.glob("*.db")) if metrics.is_dir() else []
    for path in [*(socket_files(run_dir) if run_dir.is_dir() else []), *counted]:
        if path.exists() or path.is_symlink():
            path.unlink()
            report.removed_files.append(str(path))
    for folder in (metrics, run_dir):
        with contextlib.suppress(OSError):
            folder.rmdir()
    if var is not None and var.is_dir():
        report.left_files = sorted(str(p) for p in var.rglob("*") if p.is_file())[:100]


async def _tracker_connection(store: trackers.Store, work: Any, *args: Any) -> Any:
    """Run `work(conn, store, *args)` on the tracker store in autocommit (its BEGIN is the work's own)."""
    engine = new_engine(store.url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if store.sqlite_file is not None:
                await conn.exec_driver_sql("PRAGMA busy_timeout=5000")
            else:  # the gateway's own connection is closed by now: any session left is someone else's
                sessions = await conn.run_sync(running.postgres_sessions)
                if sessions:
                    raise PurgeRefused("Rasa's tracker store is in use; stop Rasa first: " + "; ".join(sessions))
            return await conn.run_sync(work, store, *args)
    finally:
        await engine.dispose()


def _tracker_store(req: PurgeRequest) -> trackers.Store | None:
    """The tracker store when Rasa ever wrote one; its check against the export runs before anything is deleted."""
    store = trackers.locate(req.settings)
    return store if store is not None and trackers.exists(store) else None


def _tracker_differences(conn: Connection, store: trackers.Store, manifest: dict[str, Any] | None) -> list[str]:
    return trackers.compare(conn, store, manifest) if manifest is not None else []


async def _check_trackers(store: trackers.Store, manifest: dict[str, Any] | None) -> None:
    """Before anything is deleted: nobody (Rasa) connected to the store, and it still equals the export."""
    differences = await _tracker_connection(store, _tracker_differences, manifest)
    if differences:
        raise PurgeRefused("Rasa's trackers changed after the export; stop Rasa, export again, then purge with "
                           "the new manifest: " + "; ".join(differences))


async def _erase_trackers(store: trackers.Store, manifest: dict[str, Any] | None) -> tuple[int, int]:
    deleted, differences = await _tracker_connection(store, trackers.erase, manifest)
    if differences:  # checked before the gateway's erase; only a Rasa started meanwhile gets here
        raise RuntimeError("Rasa's trackers changed during the purge (was Rasa started?); the gateway's data is "
                           "erased, the trackers are not: stop Rasa and run ycc purge --no-export again: "
                           + "; ".join(differences))
    return deleted, await _tracker_connection(store, trackers.remaining)


async def purge(req: PurgeRequest) -> PurgeReport:
    """Refuse (PurgeRefused, nothing deleted) or erase everything and report what was deleted."""
    url = req.settings.database_url
    expected, database, archive = _check_request(req)
    manifest = archive.manifest if archive else None
    store = _tracker_store(req)
    if store is not None:
        await _check_trackers(store, manifest)
    engine = new_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if database is not None:
                await conn.exec_driver_sql("PRAGMA busy_timeout=5000")
            deleted = await conn.run_sync(_erase, manifest)
            remaining = await conn.run_sync(_compact)
    finally:
        await engine.dispose()
    if store is not None:
        deleted[trackers.NAME], remaining[trackers.NAME] = await _erase_trackers(store, manifest)
    report = PurgeReport(expected, engine.dialect.name, deleted, remaining, archive,
                         req.archive, req.now)
    _clean_files(req, database, report)
    return report


def refused_message(exc: PurgeRefused) -> str:
    return f"ycc purge: refused, nothing was deleted: {exc}"


async def check_only(req: PurgeRequest) -> str:
    """Every refusal check without deleting (for `--dry-run`): returns the identity that would be purged."""
    expected, _, archive = _check_request(req)
    engine = tables.snapshot_engine(req.settings.database_url)
    try:
        async with engine.begin() as conn:
            sessions = await conn.run_sync(running.postgres_sessions) if engine.dialect.name == "postgresql" else []
            if sessions:
                raise PurgeRefused("the database is in use: " + "; ".join(sessions))
            if archive is not None:
                await conn.run_sync(_compare, archive.manifest)
    finally:
        await engine.dispose()
    store = _tracker_store(req)
    if store is not None:
        await _check_trackers(store, archive.manifest if archive else None)
    return expected

