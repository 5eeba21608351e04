"""A restarted PostgreSQL server costs a retry, not a message (R25)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import database, rows
from tests.support.receiver import Receiver
from tests.support.servers import Stack, start_stack
from tests.support.stub_rasa import StubRasa

USER = "U" + "f" * 32


def _restart_postgres() -> None:
    clusters = sorted(Path("/etc/postgresql").glob("*/main"))
    if not clusters or not shutil.which("pg_ctlcluster"):
        pytest.fail("this test restarts the local PostgreSQL cluster and needs pg_ctlcluster")
    version = clusters[-1].parent.name
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True, timeout=60)
    subprocess.run(["pg_isready", "-h", "127.0.0.1", "-t", "30"], check=True, timeout=40)


@pytest.fixture
def pg_stack(tmp_path: Path, rasa: StubRasa, alerts: Receiver) -> Iterator[Stack]:
    with database("postgres", tmp_path) as url:
        stack = start_stack(tmp_path, url, YCC_RASA_URL=rasa.url, YCC_ALERT_WEBHOOK_URL=alerts.url)
        yield stack
        stack.stop()


@pytest.mark.postgres
def test_messages_after_a_postgres_restart_are_stored_and_answered(pg_stack: Stack, rasa: StubRasa) -> None:
    pg_stack.send(USER, {"type": "text", "text": "再起動の前"})
    pg_stack.wait_delivered(USER, 1)
    _restart_postgres()
    # Every pooled connection died with the server. The first webhook after the restart meets one of them: its
    # INSERT is tried again on a fresh connection, so LINE gets its 200 at once (no redelivery needed), and the
    # worker's first unit of work on a dead connection is retried without counting against the event.
    assert pg_stack.send(USER, {"type": "text", "text": "再起動のあと"})["webhook_status"] == 200
    delivered = pg_stack.wait_delivered(USER, 2, timeout=30)
    assert delivered[-1]["text"] == "bot:再起動のあと"
    texts = [
        r["text"] for r in rows(pg_stack.database_url, "SELECT text FROM messages WHERE direction='in' ORDER BY id")
    ]
    assert texts[0] == "再起動の前" and "再起動のあと" in texts
    inbox = rows(pg_stack.database_url, "SELECT status, attempts FROM inbox ORDER BY id")
    assert inbox == [{"status": "done", "attempts": 0}] * 2
