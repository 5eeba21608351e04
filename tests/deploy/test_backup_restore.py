"""The backup as ycc-backup.timer runs it and the restore as docs/deploy.md tells an operator to do it, once, for
real: deploy/backup/ycc-backup dumps a scratch database (two schemas like the gateway's and Rasa's, Japanese text)
as a read-only role, encrypted with age; deploy/backup/ycc-restore decrypts it into a second scratch database; the
two are compared table by table and schema by schema, then both are dropped. Needs PostgreSQL on 127.0.0.1:5432
(trust) and Debian's `age`; skips only if `age` is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.units import DEPLOY

pytestmark = pytest.mark.postgres
BACKUP = DEPLOY / "backup" / "ycc-backup"
RESTORE = DEPLOY / "backup" / "ycc-restore"
PG = "host=127.0.0.1 port=5432 user=postgres"
MARKER = "お母さんの介護でつかれた"  # must not appear in the encrypted file
SCHEMA = f"""
CREATE TABLE contacts (id bigserial PRIMARY KEY, key text UNIQUE NOT NULL, created timestamptz NOT NULL DEFAULT now());
CREATE TABLE messages (id bigserial PRIMARY KEY, contact_id bigint REFERENCES contacts(id), text text, meta jsonb);
CREATE INDEX messages_contact ON messages (contact_id);
CREATE SCHEMA rasa;
CREATE TABLE rasa.events (id serial PRIMARY KEY, sender_id text NOT NULL, data text);
INSERT INTO contacts (key) SELECT 'k' || g FROM generate_series(1, 50) g;
INSERT INTO messages (contact_id, text, meta)
  SELECT 1 + g % 50, '{MARKER} ' || g, jsonb_build_object('n', g) FROM generate_series(1, 2000) g;
INSERT INTO rasa.events (sender_id, data) SELECT 'k' || g, '{{"event": "user"}}' FROM generate_series(1, 300) g;
"""
TABLES = ("public.contacts", "public.messages", "rasa.events")
AGE = shutil.which("age")


def psql(database: str, sql: str, user: str = "postgres") -> str:
    conn = PG.replace("user=postgres", f"user={user}")
    return subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", f"{conn} dbname={database}",
                           "-c", sql], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def scratch() -> Iterator[dict[str, str]]:
    """Two scratch databases and a backup role with read access only, all removed afterwards."""
    if AGE is None:
        pytest.fail("age is not installed (apt-get install age; .ci/run installs it): the backup encrypts with it")
    tag = uuid.uuid4().hex[:10]
    names = {"source": f"ycc_backup_src_{tag}", "target": f"ycc_backup_dst_{tag}", "role": f"ycc_backup_{tag}"}
    psql("postgres", f"CREATE DATABASE {names['source']}")
    psql("postgres", f"CREATE DATABASE {names['target']}")
    psql("postgres", f"CREATE ROLE {names['role']} LOGIN IN ROLE pg_read_all_data")
    try:
        psql(names["source"], SCHEMA)
        yield names
    finally:
        for key in ("source", "target"):
            psql("postgres", f"DROP DATABASE IF EXISTS {names[key]} WITH (FORCE)")
        psql("postgres", f"DROP ROLE IF EXISTS {names['role']}")


def _keys(tmp: Path) -> tuple[Path, Path]:
    identity = tmp / "offline-key.txt"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    public = subprocess.run(["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True).stdout
    recipients = tmp / "backup-recipients.txt"
    recipients.write_text(f"# the office's backup key\n{public}")
    return identity, recipients


def _fingerprint(database: str) -> dict[str, str]:
    """Row count and a digest of every row, per table."""
    return {t: psql(database, f"SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))"
                              f" FROM {t} x") for t in TABLES}


def _schema(database: str) -> str:
    dump = subprocess.run(["pg_dump", "--schema-only", "--no-owner", f"{PG} dbname={database}"], check=True,
                          capture_output=True, text=True).stdout
    # Comments, and the random key of pg_dump's \restrict guard (PostgreSQL ≥ 15.14), differ between any two dumps.
    return "\n".join(line for line in dump.splitlines() if not line.startswith(("--", "\\restrict", "\\unrestrict")))


def test_an_encrypted_backup_restores_into_an_identical_database(scratch: dict[str, str], tmp_path: Path) -> None:
    identity, recipients = _keys(tmp_path)
    backups = tmp_path / "backups"
    backups.mkdir()
    old = backups / "ycc-20200101T000000Z.dump.age"
    old.write_bytes(b"an old backup")
    recent = backups / "ycc-20990101T000000Z.dump.age"
    recent.write_bytes(b"a recent backup")
    unrelated = backups / "notes.txt"
    unrelated.write_text("not ours")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    os.utime(unrelated, (ten_days_ago, ten_days_ago))
    env = {**os.environ, "YCC_BACKUP_DATABASE": f"{PG.replace('postgres', scratch['role'])} dbname={scratch['source']}",
           "YCC_BACKUP_DIR": str(backups), "YCC_BACKUP_RECIPIENTS": str(recipients), "YCC_BACKUP_KEEP_DAYS": "7"}

    run = subprocess.run([str(BACKUP)], env=env, capture_output=True, text=True)

    assert run.returncode == 0, run.stderr
    made = sorted(backups.glob("ycc-2*.dump.age"))
    assert old not in made and recent in made and unrelated.exists(), "retention: only our files older than 7 days"
    new = next(p for p in made if p != recent)
    assert new.stat().st_mode & 0o777 == 0o600 and not list(backups.glob(".*partial"))
    content = new.read_bytes()
    assert content.startswith(b"age-encryption.org/v1") and MARKER.encode() not in content
    assert b"CREATE TABLE" not in content and b"contacts" not in content

    listing = subprocess.run([str(RESTORE), "--identity", str(identity), "--list", str(new)],
                             capture_output=True, text=True)
    assert listing.returncode == 0 and "TABLE DATA rasa events" in listing.stdout, listing.stderr
    restore = subprocess.run([str(RESTORE), "--identity", str(identity), str(new),
                              f"{PG} dbname={scratch['target']}"], capture_output=True, text=True)
    assert restore.returncode == 0, restore.stderr

    assert _fingerprint(scratch["target"]) == _fingerprint(scratch["source"])
    assert _fingerprint(scratch["source"])["public.messages"].startswith("2000:")
    assert _schema(scratch["target"]) == _schema(scratch["source"])
    assert psql(scratch["target"], "SELECT nextval('messages_id_seq')") == "2001", "sequences restored"


def test_the_backup_is_useless_without_the_offline_key(scratch: dict[str, str], tmp_path: Path) -> None:
    _, recipients = _keys(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    wrong, _ = _keys(other)
    env = {**os.environ, "YCC_BACKUP_DATABASE": f"{PG} dbname={scratch['source']}", "YCC_BACKUP_DIR": str(tmp_path),
           "YCC_BACKUP_RECIPIENTS": str(recipients)}
    subprocess.run([str(BACKUP)], env=env, check=True, capture_output=True)
    backup = next(tmp_path.glob("ycc-*.dump.age"))
    restore = subprocess.run([str(RESTORE), "--identity", str(wrong), str(backup),
                              f"{PG} dbname={scratch['target']}"], capture_output=True, text=True)
    assert restore.returncode != 0
    assert psql(scratch["target"], "SELECT count(*) FROM pg_tables WHERE schemaname IN ('public', 'rasa')") == "0"


def test_a_failed_dump_writes_nothing_and_deletes_nothing(tmp_path: Path) -> None:
    if AGE is None:
        pytest.fail("age is not installed (apt-get install age; .ci/run installs it): the backup encrypts with it")
    _, recipients = _keys(tmp_path)
    old = tmp_path / "ycc-20200101T000000Z.dump.age"
    old.write_bytes(b"the last good backup")
    os.utime(old, (0, 0))
    env = {**os.environ, "YCC_BACKUP_DATABASE": f"{PG} dbname=ycc_backup_no_such_database",
           "YCC_BACKUP_DIR": str(tmp_path), "YCC_BACKUP_RECIPIENTS": str(recipients), "YCC_BACKUP_KEEP_DAYS": "1"}
    run = subprocess.run([str(BACKUP)], env=env, capture_output=True, text=True)
    assert run.returncode != 0
    assert sorted(p.name for p in tmp_path.glob("*ycc-*")) == [old.name]
