"""`make run-prod` as an operator runs it (issue 18.2): `python -m handoff.run_all --prod` on this machine's
PostgreSQL and Redis starts the fake LINE, the worker, two web processes, Rasa with the trained model and the action
server; a LINE user who adds the account is greeted by the real bot; Ctrl-C stops every process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.databases import database, rows
from tests.support.servers import TOKENS, free_ports

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(proc: subprocess.Popen[str], out: list[str], text: str, timeout: float) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stdout.fileno(), False)
    while not any(text in line for line in out):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("run-prod did not come up:\n" + "".join(out)[-4000:])
        line = proc.stdout.readline()
        if line:
            out.append(line)
        else:
            time.sleep(0.2)


def test_run_prod_starts_every_process_answers_a_user_and_stops_them_all(tmp_path: Path) -> None:
    with database("postgres", tmp_path) as url:
        port, rasa_port, actions_port, fake_port = free_ports(4)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("YCC_", "LINE_"))}
        env.update(
            TOKENS,
            YCC_DATABASE_URL=url, YCC_REDIS_URL="redis://127.0.0.1:6379/0", YCC_PORT=str(port),
            YCC_RASA_URL=f"http://127.0.0.1:{rasa_port}", YCC_ACTION_SERVER_URL=f"http://127.0.0.1:{actions_port}",
            YCC_FAKE_LINE_PORT=str(fake_port), YCC_RUN_DIR=str(tmp_path / "run"), PYTHONUNBUFFERED="1",
            YCC_FIRST_ADMIN="prodadmin",
        )
        proc = subprocess.Popen([sys.executable, "-m", "handoff.run_all", "--prod"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        out: list[str] = []
        children: list[int] = []
        try:
            _wait_for(proc, out, "Press Ctrl-C", timeout=240)
            text = "".join(out)
            assert "All 6 processes are up" in text and f"127.0.0.1:{fake_port}/simulator/" in text
            fake = f"http://127.0.0.1:{fake_port}"
            user = "U" + "cd" * 16
            httpx.post(f"{fake}/_fake/users/{user}/events", json={"type": "follow"}, timeout=30).raise_for_status()
            got = httpx.get(f"{fake}/_fake/users/{user}/messages", params={"wait_for": 1, "timeout": 60},
                            timeout=70).json()["messages"]
            assert got and "同意" in "".join(m.get("text") or "" for m in got)  # the real bot's greeting asks consent
            assert rows(url, "SELECT count(*) AS n FROM contacts")[0]["n"] == 1
            children = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                                       text=True).stdout.split()]
            assert len(children) == 6, "".join(out)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read() if proc.stdout else ""
        assert "Stopped." in rest or "Stopped." in "".join(out)
        assert [pid for pid in children if _alive(pid)] == [], "processes left running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
