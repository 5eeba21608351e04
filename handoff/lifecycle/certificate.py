"""The deletion certificate (データ消去証明書) `ycc purge` leaves behind: one JSON file for machines, one text
file to print and sign.

The wording lives in data/erasure_certificate.yml, so the prefecture's preferred phrasing can be adopted without
touching code; the figures come from the purge itself, never from what the operator types.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from string import Template
from typing import Any

import yaml

from handoff.lifecycle.purge import PurgeReport
from handoff.settings import DATA_DIR
from handoff.timeutil import TOKYO

WORDING = "erasure_certificate.yml"
INDENT = "\n    "  # list items sit four spaces in, under their heading


@dataclass(frozen=True)
class Certificate:
    json_path: Path
    text_path: Path
    content: dict[str, Any]


def _wording(data_dir: Path) -> dict[str, Any]:
    path = data_dir / WORDING
    if not path.exists():  # a deployment's own data dir may predate this file
        path = DATA_DIR / WORDING
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _content(report: PurgeReport, operator: str, finished: datetime, wording: dict[str, Any]) -> dict[str, Any]:
    archive = report.archive
    export = None
    if archive is not None:
        export = {"manifest_sha256": archive.manifest_sha256, "exported_at": archive.manifest.get("exported_at"),
                  "schema_revision": archive.manifest.get("schema_revision"),
                  "path": str(report.archive_path.expanduser().absolute()) if report.archive_path else None}
    method = [wording["method"][report.backend]]
    if report.database_files_removed:
        method.append(wording["method"]["remove_files"])
    return {
        "title": wording["title"],
        "erased_at": finished.astimezone(TOKYO).isoformat(),
        "started_at": report.started_at.astimezone(TOKYO).isoformat(),
        "database": report.identity,
        "backend": report.backend,
        "operator": operator,
        "host": socket.gethostname(),
        "export": export,
        "deleted_rows": report.deleted,
        "deleted_rows_total": sum(report.deleted.values()),
        "remaining_rows": report.remaining,
        "method": method,
        "removed_files": report.removed_files,
        "files_left_in_data_directory": report.left_files,
        "manual_steps": wording["manual_steps"],
    }


def _lines(items: list[str], none: str) -> str:
    return INDENT.join(items) if items else none


def _text(content: dict[str, Any], wording: dict[str, Any]) -> str:
    export = content["export"]
    if export is None:
        export_text = wording["export_none"]
    else:
        export_text = Template(wording["export"]).substitute(
            sha256=export["manifest_sha256"], exported_at=export["exported_at"],
            schema_revision=export["schema_revision"], path=export["path"])
    width = max((len(name) for name in content["deleted_rows"]), default=0)
    rows = [f"{name:<{width}}  {count:>9}" for name, count in content["deleted_rows"].items()]
    return Template(wording["text"]).substitute(
        erased_at=content["erased_at"], started_at=content["started_at"], database=content["database"],
        backend=content["backend"], operator=content["operator"], host=content["host"], export=export_text,
        method=INDENT.join(content["method"]), remaining_total=sum(content["remaining_rows"].values()),
        rows=_lines(rows, wording["none"]), total=content["deleted_rows_total"],
        removed_files=_lines(content["removed_files"], wording["none"]),
        left_files=_lines(content["files_left_in_data_directory"], wording["none"]),
        manual_steps=_lines([f"{i}. {step}" for i, step in enumerate(content["manual_steps"], 1)], wording["none"]),
    )


def _private_write(path: Path, data: str) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def write_certificate(
    report: PurgeReport, *, operator: str, finished: datetime, directory: Path, data_dir: Path = DATA_DIR
) -> Certificate:
    """Write both files to `directory` (created 0700 if missing); names carry the JST time, never overwrite."""
    wording = _wording(data_dir)
    content = _content(report, operator, finished, wording)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    stem = "erasure-certificate-" + finished.astimezone(TOKYO).strftime("%Y%m%dT%H%M%S")
    json_path, text_path = directory / f"{stem}.json", directory / f"{stem}.txt"
    _private_write(json_path, json.dumps(content, ensure_ascii=False, indent=2) + "\n")
    _private_write(text_path, _text(content, wording))
    return Certificate(json_path, text_path, content)
