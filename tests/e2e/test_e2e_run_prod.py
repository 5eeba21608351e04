"""`make run-prod` as an operator runs it (issue 18.2): `python -m handoff.run_all --prod` on this machine's
PostgreSQL and Redis starts the fake LINE, the worker, two web processes, Rasa with the trained model and the action
server; a LINE user who adds the account is greeted by the real bot; Ctrl-C stops every process."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from tests.support.databases import rows
from tests.support.prodrun import run_prod


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_run_prod_starts_every_process_answers_a_user_and_stops_them_all(tmp_path: Path) -> None:
    with run_prod(tmp_path) as run:
        text = run.read()
        assert "All 6 processes are up" in text and f"{run.fake_url}/simulator/" in text
        user = "U" + "cd" * 16
        httpx.post(f"{run.fake_url}/_fake/users/{user}/events", json={"type": "follow"}, timeout=30).raise_for_status()
        got = httpx.get(f"{run.fake_url}/_fake/users/{user}/messages", params={"wait_for": 1, "timeout": 60},
                        timeout=70).json()["messages"]
        assert got and "同意" in "".join(m.get("text") or "" for m in got)  # the real bot's greeting asks consent
        assert rows(run.database_url, "SELECT count(*) AS n FROM contacts")[0]["n"] == 1
        children = run.children()
        assert sorted(n if not n.startswith("web-") else "web" for n in children) == [
            "actions", "fake LINE", "rasa", "web", "web", "worker"]
    assert "Stopped." in run.read()
    assert [pid for pid in children.values() if _alive(pid)] == [], "processes left running"
