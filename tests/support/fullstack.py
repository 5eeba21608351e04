"""The whole stack: fake LINE + gateway, and either the real Rasa + action server (e2e tests, benchmarks) or a
stub (benchmarks of the gateway alone)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from handoff.run_all import write_endpoints
from tests.support.servers import INTERNAL_TOKEN, ROOT, SECRET, TOKEN, Proc, Stack, free_ports, gateway_env
from tests.support.stub_rasa import StubRasa

MODEL = ROOT / "models" / "ycc.tar.gz"
BOT = ROOT / ".venv-bot" / "bin" / "rasa"


def real_rasa() -> bool:
    return MODEL.exists() and BOT.exists()


class FullStack:
    def __init__(self, tmp: Path, database_url: str, real: bool) -> None:
        self.tmp = tmp
        self.database_url = database_url
        self.real = real
        self.procs: list[Proc] = []
        self.stub: StubRasa | None = None

    def start(self) -> FullStack:
        port, fake_port, rasa_port, actions_port = free_ports(4)
        self.url = f"http://127.0.0.1:{port}"
        self.fake_url = f"http://127.0.0.1:{fake_port}"
        self.rasa_url = f"http://127.0.0.1:{rasa_port}"
        env = gateway_env(
            self.database_url,
            port,
            LINE_CHANNEL_SECRET=SECRET,
            LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
            LINE_API_BASE_URL=self.fake_url,
            YCC_RASA_URL=self.rasa_url,
            YCC_RASA_TIMEOUT="10",
            YCC_ACTION_SERVER_URL=f"http://127.0.0.1:{actions_port}",
        )
        self._add(
            Proc(
                [
                    sys.executable,
                    "-m",
                    "handoff.line.fakeline_main",
                    "--port",
                    str(fake_port),
                    "--secret",
                    SECRET,
                    "--token",
                    TOKEN,
                    "--webhook-url",
                    f"{self.url}/line/webhook",
                ],
                env,
                self.fake_url,
                "/_fake/users",
                log_path=self.tmp / "fake.log",
            )
        )
        self._add(
            Proc(
                [str(Path(sys.executable).parent / "ycc"), "serve"],
                env,
                self.url,
                "/healthz",
                log_path=self.tmp / "gateway.log",
            )
        )
        self.stack = Stack(self.procs[1], self.procs[0], self.database_url)
        if self.real:
            bot_env = {
                **env,
                "YCC_GATEWAY_URL": self.url,
                "YCC_INTERNAL_TOKEN": INTERNAL_TOKEN,
                "PYTHONPATH": str(ROOT),
            }
            self._add(
                Proc(
                    [str(BOT), "run", "actions", "--port", str(actions_port), "--actions", "actions"],
                    bot_env,
                    f"http://127.0.0.1:{actions_port}",
                    "/health",
                    log_path=self.tmp / "actions.log",
                ),
                timeout=120,
            )
            self._add(
                Proc(
                    [
                        str(BOT),
                        "run",
                        "--enable-api",
                        "-i",
                        "127.0.0.1",
                        "-p",
                        str(rasa_port),
                        "-m",
                        str(MODEL),
                        "--endpoints",
                        str(write_endpoints(self.tmp / "endpoints.yml", f"http://127.0.0.1:{actions_port}")),
                        "--credentials",
                        "credentials.yml",
                    ],
                    bot_env,
                    self.rasa_url,
                    "/status",
                    log_path=self.tmp / "rasa.log",
                ),
                timeout=180,
            )
        else:
            self.stub = StubRasa(rasa_port).start()
        return self

    def _add(self, proc: Proc, timeout: float = 30.0) -> None:
        proc.start(timeout=timeout)
        self.procs.append(proc)

    def send(self, user: str, text: str) -> None:
        self.stack.send(user, {"type": "text", "text": text})

    def wait_first_message(self, user: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                if client.get(f"{self.fake_url}/_fake/users/{user}/messages").json()["messages"]:
                    return
                time.sleep(0.005)
        raise TimeoutError(f"no answer for {user}")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        if self.stub:
            self.stub.stop()
