"""`ycc export` and `ycc purge` as the operator runs them at contract end (R25), after a consultation that went
through the real gateway, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import pwd
import subprocess
import sys
from pathlib import Path

from handoff.lifecycle.tables import identity
from handoff.settings import normalise_database_url
from tests.handoff.lifecycle_data import TEXT
from tests.support.databases import rows
from tests.support.servers import Stack
from tests.support.stub_rasa import StubRasa

USER = "U" + "c" * 32
YCC = str(Path(sys.executable).parent / "ycc")


def _ycc(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([YCC, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def _total(url: str) -> int:
    return sum(rows(url, f"SELECT count(*) AS n FROM {t}")[0]["n"]
               for t in ("contacts", "conversations", "messages", "inbox", "outbox", "audit_log"))


def test_ycc_export_then_purge_after_a_conversation_through_the_real_gateway(
    any_stack: Stack, rasa: StubRasa, tmp_path: Path
) -> None:
    any_stack.send(USER, {"type": "text", "text": TEXT})
    any_stack.wait_delivered(USER, 1)
    url = any_stack.database_url
    env = dict(any_stack.gateway.env)  # the gateway's own configuration: same port, run directory, database
    database = identity(normalise_database_url(url))
    var = tmp_path / "var"
    var.mkdir()

    running = _ycc(env, tmp_path, "purge", "--confirm", database, "--no-export", "--var-dir", str(var))
    assert running.returncode == 1 and "the database is in use" in running.stderr, running.stderr
    assert f"answers http://127.0.0.1:{env['YCC_PORT']}/healthz" in running.stderr
    any_stack.stop()
    kept = _total(url)
    assert kept > 0

    unnamed = _ycc(env, tmp_path, "purge", "--no-export")
    assert unnamed.returncode == 1 and unnamed.stderr.strip().endswith(f"--confirm {database}")

    out = tmp_path / "handover"
    exported = _ycc(env, tmp_path, "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert f"exported {database}" in exported.stdout and "messages" in exported.stdout
    messages = list(csv.DictReader(io.StringIO((out / "messages.csv").read_bytes().decode("utf-8-sig"))))
    assert [(m["direction"], m["text"]) for m in messages] == [("in", TEXT), ("out", f"bot:{TEXT}")]
    assert all(m["event_at"].endswith("+09:00") for m in messages)
    operator = pwd.getpwuid(os.geteuid()).pw_name
    assert rows(url, "SELECT actor FROM audit_log WHERE action = 'export_all'") == [{"actor": f"os:{operator}"}]

    purge_args = ("purge", "--confirm", database, "--export-manifest", str(out / "manifest.json"),
                  "--var-dir", str(var), "--certificate-dir", str(tmp_path / "cert"))
    dry = _ycc(env, tmp_path, *purge_args, "--dry-run")
    assert dry.returncode == 0 and "every check passed" in dry.stdout, dry.stderr
    assert _total(url) == kept + 1  # + the export's audit row, which is in the export

    purged = _ycc(env, tmp_path, *purge_args)
    assert purged.returncode == 0, purged.stderr
    assert "rows left: 0" in purged.stdout
    assert _total(url) == 0
    certificates = sorted((tmp_path / "cert").iterdir())
    assert [p.suffix for p in certificates] == [".json", ".txt"]
    content = json.loads(certificates[0].read_text(encoding="utf-8"))
    assert content["database"] == database and content["operator"] == operator
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert content["deleted_rows"]["messages"] == 2
    assert content["deleted_rows_total"] == sum(entry["rows"] for entry in manifest["tables"].values())
    assert content["export"]["manifest_sha256"] == hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
