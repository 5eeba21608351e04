"""`ycc export`: the hand-over archive at contract end (R25), private to its owner and audited (R30).

One CSV per table plus `manifest.json` (row counts, SHA-256 per file, schema revision, export time), read from one
database snapshot. The audit row is committed *before* the snapshot is taken, so the archive contains the record of
its own making and nobody can export without leaving one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert

from handoff.lifecycle import tables, trackers
from handoff.settings import Settings, normalise_database_url
from handoff.store.models import AuditLog
from handoff.timeutil import TOKYO

FORMAT = "ycc-export/1"
MANIFEST = "manifest.json"


class ExportError(RuntimeError):
    """The export cannot be written or read as asked; the message says what to do."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    manifest: dict[str, Any]


def _private_dir(out: Path) -> None:
    """0700 whatever the umask; an existing directory must be empty, so no stale file joins the archive."""
    if out.exists():
        if not out.is_dir():
            raise ExportError(f"{out} exists and is not a directory")
        if any(out.iterdir()):
            raise ExportError(f"{out} is not empty; give a new or empty directory")
    else:
        out.mkdir(mode=0o700, parents=True)
    os.chmod(out, 0o700)


def _private_file(path: Path) -> Any:
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _audit(conn: Connection, operator: str, out: Path, now: datetime) -> None:
    conn.execute(insert(AuditLog.__table__).values(
        at=now, actor=f"os:{operator}"[:64], action="export_all", object_type="database", object_id=None,
        allowed=True, detail=f"ycc export --out {out}"[:255],
    ))


def _write(conn: Connection, out: Path, meta: dict[str, Any]) -> dict[str, Any]:
    plan = tables.plan(conn)
    entries: dict[str, Any] = {}
    for table in plan.tables:
        with _private_file(out / table.file) as file:
            sink = tables.HashingWriter(file)
            rows = tables.write_table(conn, table, sink)
            file.flush()
            os.fsync(file.fileno())
        entries[table.name] = {
            "file": table.file, "rows": rows, "sha256": sink.sha256.hexdigest(),
            "columns": [{"name": c, "type": str(table.table.c[c].type)} for c in table.columns],
            "withheld_columns": table.withheld,
        }
    manifest = {**meta, "schema_revision": tables.schema_revision(conn), "conventions": tables.CONVENTIONS,
                "tables": entries, "excluded_tables": plan.excluded}
    with _private_file(out / MANIFEST) as file:
        file.write(json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
        os.fsync(file.fileno())
    return manifest


def _zip(folder: Path, target: Path) -> None:
    with _private_file(target) as raw, zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, arcname=f"{target.stem}/{path.name}")


def _prepare(database_url: str, out: Path, as_zip: bool) -> tuple[Path, Path]:
    """Where the archive goes and the private directory the files are written to first."""
    database = tables.sqlite_path(database_url)
    if database is not None and not database.exists():  # connecting would create an empty one
        raise ExportError(f"there is no database at {database}")
    out = out.expanduser().absolute()
    if not as_zip:
        _private_dir(out)
        return out, out
    target = out.with_name(out.name + ".zip")
    if target.exists():
        raise ExportError(f"{target} exists already")
    out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return target, Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))


def tracker_store_of(database_url: str) -> trackers.Store | None:
    """Where Rasa keeps its trackers when nothing else is configured: beside the database (handoff/settings.py)."""
    return trackers.locate(Settings(database_url=normalise_database_url(database_url)))


async def export_database(
    database_url: str, out: Path, *, operator: str, now: datetime, as_zip: bool = False,
    tracker: trackers.Store | None = None,
) -> ExportResult:
    """Write the archive to `out` (a directory), or to `out` + ".zip" with nothing left unpacked on disk.

    Rasa's trackers (`tracker`, by default beside the database) are written first, from their own snapshot:
    Rasa must be stopped for the hand-over anyway (docs/contract-end.md)."""
    target, folder = _prepare(database_url, out, as_zip)
    meta: dict[str, Any] = {"format": FORMAT, "exported_at": now.astimezone(TOKYO).isoformat(),
                            "operator": operator, "database": tables.identity(database_url)}
    engine = tables.snapshot_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_audit, operator, target, now)
        meta["tracker_store"] = await trackers.export(tracker or tracker_store_of(database_url), folder)
        # REPEATABLE READ on PostgreSQL, one BEGIN on SQLite: every table from the same instant.
        async with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                manifest = await conn.run_sync(_write, folder, meta)
        if as_zip:
            _zip(folder, target)
    except BaseException:
        if as_zip:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        await engine.dispose()
    if as_zip:
        shutil.rmtree(folder)
    return ExportResult(target, manifest)


def summary(result: ExportResult) -> str:
    manifest = result.manifest
    lines = [f"exported {manifest['database']} (schema {manifest['schema_revision']}) to {result.path}"]
    width = max((len(name) for name in manifest["tables"]), default=0)
    for name, entry in manifest["tables"].items():
        lines.append(f"  {name:<{width}}  {entry['rows']:>8} rows")
    total = sum(entry["rows"] for entry in manifest["tables"].values())
    lines.append(f"  {len(manifest['tables'])} tables, {total} rows; not exported: "
                 f"{', '.join(manifest['excluded_tables']) or 'none'}")
    tracker = manifest.get("tracker_store") or {}
    if "rows" in tracker:
        lines.append(f"  Rasa's trackers: {tracker['rows']} events of {tracker['senders']} contacts from "
                     f"{tracker['store']} in {tracker['file']}")
    else:
        lines.append(f"  Rasa's trackers: none ({tracker.get('absent', 'not recorded')})")
    lines.append("The archive is personal data: keep it encrypted, in Japan, and hand it over as agreed (R27, R30).")
    return "\n".join(lines)


@dataclass(frozen=True)
class Archive:
    """An export read back: its manifest, the manifest file's SHA-256, and files that do not match it."""

    manifest: dict[str, Any]
    manifest_sha256: str
    problems: list[str]


def read_archive(path: Path) -> Archive:
    """Accept the export directory, its manifest.json, or the .zip; check every file against its hash."""
    path = path.expanduser()
    if path.is_dir():
        path = path / MANIFEST
    if not path.exists():
        raise ExportError(f"no export at {path}")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = {Path(n).name: n for n in archive.namelist()}
            if MANIFEST not in names:
                raise ExportError(f"{path} has no {MANIFEST}")
            raw = archive.read(names[MANIFEST])

            def content(file: str) -> bytes | None:
                return archive.read(names[file]) if file in names else None

            return _check(raw, content)
    raw = path.read_bytes()

    def from_dir(file: str) -> bytes | None:
        with contextlib.suppress(FileNotFoundError):
            return (path.parent / file).read_bytes()
        return None

    return _check(raw, from_dir)


def _check(raw: bytes, content: Any) -> Archive:
    try:
        manifest = json.loads(raw)
    except ValueError:
        raise ExportError("manifest.json is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ExportError(f"not a {FORMAT} manifest")
    problems = []
    tracker = manifest.get("tracker_store") or {}
    entries = {**manifest["tables"], **({trackers.NAME: tracker} if "file" in tracker else {})}
    for name, entry in entries.items():
        data = content(entry["file"])
        if data is None:
            problems.append(f"{entry['file']} is missing")
        elif hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"{entry['file']} does not match its SHA-256 in the manifest ({name})")
    return Archive(manifest, hashlib.sha256(raw).hexdigest(), problems)
