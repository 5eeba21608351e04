"""`python -m handoff.run_all --prod` (what `make run-prod` runs) as a test fixture: a fresh PostgreSQL database,
this machine's Redis, free ports, the trained model; stopped with Ctrl-C (SIGINT) as an operator stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.databases import database
from tests.support.servers import TOKENS, free_ports

ROOT = Path(__file__).resolve().parents[2]
REDIS = "redis://127.0.0.1:6379/0"


@dataclass
class ProdRun:
    proc: subprocess.Popen[str]
    database_url: str
    port: int
    fake_url: str
    out: list[str] = field(default_factory=list)

    def read(self) -> str:
        """What the supervisor printed so far."""
        assert self.proc.stdout is not None
        while line := self.proc.stdout.readline():
            self.out.append(line)
        return "".join(self.out)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.read():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"run-prod: {text!r} not seen:\n" + self.read()[-4000:])
            time.sleep(0.2)

    def children(self) -> dict[str, int]:
        """The supervised processes by what they run (web processes as web-<pid>)."""
        found: dict[str, int] = {}
        pids = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        for pid in map(int, pids):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            for key, name in (("ycc serve", f"web-{pid}"), ("ycc worker", "worker"), ("rasa run", "rasa"),
                              ("actions.server", "actions"), ("handoff.simulator.main", "fake LINE")):
                if key in cmd:
                    found[name] = pid
        return found


@contextmanager
def run_prod(tmp_path: Path, **extra: str) -> Iterator[ProdRun]:
    with database("postgres", tmp_path) as url:
        port, rasa_port, actions_port, fake_port = free_ports(4)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("YCC_", "LINE_"))}
        env.update(
            TOKENS, YCC_DATABASE_URL=url, YCC_REDIS_URL=REDIS, YCC_PORT=str(port),
            YCC_RASA_URL=f"http://127.0.0.1:{rasa_port}", YCC_ACTION_SERVER_URL=f"http://127.0.0.1:{actions_port}",
            YCC_FAKE_LINE_PORT=str(fake_port), YCC_RUN_DIR=str(tmp_path / "run"), PYTHONUNBUFFERED="1",
            YCC_FIRST_ADMIN="prodadmin", **extra,
        )
        proc = subprocess.Popen([sys.executable, "-m", "handoff.run_all", "--prod"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        run = ProdRun(proc, url, port, f"http://127.0.0.1:{fake_port}")
        try:
            run.wait_for("Press Ctrl-C", timeout=300)
            yield run
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            os.set_blocking(proc.stdout.fileno(), True)
            run.read()
