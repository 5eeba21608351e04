"""The whole stack: fake LINE + gateway, and either the real Rasa + action server (e2e tests, benchmarks) or a
stub (benchmarks of the gateway alone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handoff.run_all import BOT_VENV, MODEL, bot_commands, process_env, write_endpoints
from tests.support.servers import (
    ACTIONS_TOKEN,
    RASA_TOKEN,
    ROOT,
    SECRET,
    TOKEN,
    TOKENS,
    Proc,
    Stack,
    fakeline_proc,
    free_ports,
    gateway_env,
    gateway_proc,
)
from tests.support.stub_rasa import StubRasa


def real_rasa() -> bool:
    return MODEL.exists() and (BOT_VENV / "bin" / "rasa").exists()


class FullStack:
    def __init__(self, tmp: Path, database_url: str, real: bool, **overrides: str) -> None:
        self.tmp = tmp
        self.overrides = overrides
        self.database_url = database_url
        self.real = real
        self.procs: list[Proc] = []
        self.stub: StubRasa | None = None

    def start(self) -> FullStack:
        port, fake_port, rasa_port, actions_port = free_ports(4)
        self.url = f"http://127.0.0.1:{port}"
        self.fake_url = f"http://127.0.0.1:{fake_port}"
        self.rasa_url = f"http://127.0.0.1:{rasa_port}"
        self.actions_url = f"http://127.0.0.1:{actions_port}"
        env = gateway_env(
            self.database_url,
            port,
            LINE_CHANNEL_SECRET=SECRET,
            LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
            LINE_API_BASE_URL=self.fake_url,
            YCC_RASA_URL=self.rasa_url,
            YCC_RASA_TIMEOUT="10",
            YCC_ACTION_SERVER_URL=self.actions_url,
            **self.overrides,
        )
        env = process_env(env, "gateway", TOKENS)
        self._add(fakeline_proc(self.tmp, fake_port, port))
        self._add(gateway_proc(self.tmp, env))
        self.stack = Stack(self.procs[1], self.procs[0], self.database_url)
        if self.real:
            bot_env = {**env, "YCC_GATEWAY_URL": self.url, "PYTHONPATH": str(ROOT)}
            endpoints = write_endpoints(self.tmp / "endpoints.yml", self.actions_url)
            commands = bot_commands(rasa_port, actions_port, endpoints)
            actions_env = process_env(bot_env, "actions", TOKENS)
            self._add(
                Proc(commands["actions"], actions_env, self.actions_url, "/health", self.tmp / "actions.log"), 120
            )
            rasa_env = process_env(bot_env, "rasa", TOKENS)  # Rasa answers `/` only once the model is loaded
            self._add(Proc(commands["rasa"], rasa_env, self.rasa_url, "/", self.tmp / "rasa.log"), 180)
        else:
            self.stub = StubRasa(rasa_port).start()
        return self

    @property
    def rasa_headers(self) -> dict[str, str]:
        """What the gateway sends Rasa on every call (the REST channel refuses calls without it)."""
        return {"Authorization": f"Bearer {RASA_TOKEN}"}

    @property
    def actions_headers(self) -> dict[str, str]:
        """What Rasa sends the action server (endpoints.yml)."""
        return {"Authorization": f"Bearer {ACTIONS_TOKEN}"}

    def _add(self, proc: Proc, timeout: float = 30.0) -> None:
        proc.start(timeout=timeout)
        self.procs.append(proc)

    def send(self, user: str, text: str) -> dict[str, Any]:
        """The fake's outcome: the event, LINE's webhook status and when the webhook was sent (`at`)."""
        return self.stack.send(user, {"type": "text", "text": text})

    def stop(self) -> None:
        if hasattr(self, "stack"):
            self.stack.stop()
        for proc in reversed(self.procs):
            proc.stop()
        if self.stub:
            self.stub.stop()
