"""Real servers for tests: the gateway (`ycc serve`) and the fake LINE platform, each its own process.

Separate processes because the tests kill them (-9 included) and restart them, as operations would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from handoff.runtime.worker_process import die_with_parent
from tests.support.databases import rows

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-channel-secret"
CONTACT_KEY = "dGVzdC1jb250YWN0LWtleS0zMi1ieXRlcy1sb25nISE="  # Fernet: url-safe base64 of 32 bytes
TOKEN = "test-access-token"
INTERNAL_TOKEN = "test-internal-token"
RASA_TOKEN = "test-rasa-token-gateway-hop"
ACTIONS_TOKEN = "test-actions-token-rasa-hop"
# By variable name, as handoff.run_all.process_env takes them.
TOKENS = {"YCC_INTERNAL_TOKEN": INTERNAL_TOKEN, "YCC_RASA_TOKEN": RASA_TOKEN, "YCC_ACTIONS_TOKEN": ACTIONS_TOKEN}


def free_ports(count: int) -> list[int]:
    """Distinct free ports: all sockets stay open until every port is chosen, so none is handed out twice."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"process exited with {proc.returncode}:\n{out[-3000:]}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def wait_until(probe: Callable[[], bool], timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready within {timeout}s")
        time.sleep(0.1)


def worker_ready(url: str) -> bool:
    """/readyz's worker check (YCC_WORKER=process): the child answering users has started, not only been spawned.
    Tests send a user's first message at once; under CI's load a worker still importing made it wait past their
    timeouts. Rasa and the action server may be absent on purpose, so only this check is read."""
    try:
        return bool(httpx.get(url + "/readyz", timeout=5.0).json()["checks"].get("worker", True))
    except (httpx.HTTPError, ValueError, KeyError):
        return False


@dataclass
class Proc:
    args: list[str]
    env: dict[str, str]
    url: str
    health_path: str
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    ready: Callable[[str], bool] | None = None  # past answering health_path: is it ready for the test? (its url)

    def start(self, timeout: float = 60.0) -> Proc:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            self.args, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent
        )
        try:
            wait_http(self.url + self.health_path, timeout=timeout, proc=self.proc)
            if self.ready is not None:
                wait_until(lambda: self.ready(self.url), timeout, self.proc)  # type: ignore[misc]
        except BaseException:
            self.stop()  # a process that never became ready must not outlive the test (and its worker child)
            raise
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""


@dataclass
class Stack:
    """A gateway in LINE mode wired to a standalone fake LINE platform."""

    gateway: Proc
    fake: Proc
    database_url: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def http(self) -> httpx.Client:
        """One client for the whole test: a new httpx client per call costs tens of ms (TLS context set-up)."""
        if "http" not in self.extra:
            self.extra["http"] = httpx.Client(timeout=15)
        return self.extra["http"]

    def send(self, user_id: str, event: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(f"{self.fake.url}/_fake/users/{user_id}/events", json=event)
        response.raise_for_status()
        return response.json()

    def delivered(self, user_id: str) -> list[dict[str, Any]]:
        return self.http.get(f"{self.fake.url}/_fake/users/{user_id}/messages").json()["messages"]

    def wait_delivered(
        self, user_id: str, count: int, timeout: float = 15.0, settle: bool = True
    ) -> list[dict[str, Any]]:
        """Long poll on the fake (it answers as soon as `count` messages arrived, or at the timeout)."""
        url = f"{self.fake.url}/_fake/users/{user_id}/messages"
        messages = self.http.get(url, params={"wait_for": count, "timeout": timeout}, timeout=timeout + 5).json()
        if len(messages["messages"]) >= count:
            if settle:
                self._settle(user_id)
            return messages["messages"]
        raise AssertionError(f"{user_id}: expected {count} message(s), got {self.delivered(user_id)}")

    def _settle(self, user_id: str, limit: float = 1.0) -> None:
        """LINE has a message a moment before the gateway records that it does; tests then read the record."""
        deadline = time.monotonic() + limit
        query = "SELECT count(*) AS n FROM outbox WHERE recipient = :u AND status = 'pending' AND attempts > 0"
        while time.monotonic() < deadline and rows(self.database_url, query, u=user_id)[0]["n"]:
            time.sleep(0.01)

    def faults(self, endpoint: str, responses: list[dict[str, Any]]) -> None:
        httpx.post(
            f"{self.fake.url}/_fake/faults", json={"endpoint": endpoint, "responses": responses}
        ).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.fake.url}/_fake/requests", timeout=5).json()["requests"]

    def internal(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
        return httpx.request(method, f"{self.url}/internal{path}", headers=headers, timeout=10, **kwargs)

    def stop(self) -> None:
        self.gateway.stop()
        self.fake.stop()
        if "http" in self.extra:
            self.extra.pop("http").close()


def gateway_env(database_url: str, port: int, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YCC_", "LINE_"))}
    rasa_port, actions_port = free_ports(2)
    env.update(
        YCC_DATABASE_URL=database_url,
        YCC_HOST="127.0.0.1",
        YCC_PORT=str(port),
        YCC_RASA_URL=f"http://127.0.0.1:{rasa_port}",
        YCC_ACTION_SERVER_URL=f"http://127.0.0.1:{actions_port}",
        YCC_INTERNAL_TOKEN=INTERNAL_TOKEN,
        YCC_RASA_TOKEN=RASA_TOKEN,
        YCC_SECRET_KEY="test-secret-key",
        YCC_CONTACT_KEYS=CONTACT_KEY,
        YCC_WORKER_POLL_SECONDS="0.2",
        YCC_RASA_TIMEOUT="2",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def fakeline_proc(tmp_path: Path, fake_port: int, gateway_port: int) -> Proc:
    """The standalone fake LINE platform, signing webhooks for the gateway on `gateway_port`."""
    args = [
        sys.executable,
        "-m",
        "handoff.simulator.main",
        "--port",
        str(fake_port),
        "--secret",
        SECRET,
        "--token",
        TOKEN,
        "--webhook-url",
        f"http://127.0.0.1:{gateway_port}/line/webhook",
    ]
    return Proc(args, dict(os.environ), f"http://127.0.0.1:{fake_port}", "/_fake/users", tmp_path / "fakeline.log")


def gateway_proc(tmp_path: Path, env: dict[str, str]) -> Proc:
    url = f"http://127.0.0.1:{env['YCC_PORT']}"
    return Proc([str(Path(sys.executable).parent / "ycc"), "serve"], env, url, "/healthz", tmp_path / "gateway.log",
                ready=worker_ready)


def always_open_data(tmp_path: Path) -> str:
    """A copy of data/ whose hours.yml is open every day, all day (but 23:59): for a YCC_DATA_DIR of tests about
    something other than hours, which would otherwise pass only when CI happens to run in office hours in Japan."""
    import shutil

    import yaml

    target = tmp_path / "always-open" / "data"
    if not target.exists():
        shutil.copytree(ROOT / "data", target)
        (target.parent / "bot").symlink_to(ROOT / "bot")  # data/safety.yml trains its second opinion from ../bot
        hours = yaml.safe_load((target / "hours.yml").read_text(encoding="utf-8"))
        hours.update({"open": "00:00", "close": "23:59", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                      "closed_on_national_holidays": False, "closed_dates": []})
        hours.pop("year_end", None)
        (target / "hours.yml").write_text(yaml.safe_dump(hours, allow_unicode=True), encoding="utf-8")
    return str(target)


def start_stack(tmp_path: Path, database_url: str, **overrides: str) -> Stack:
    port, fake_port = free_ports(2)
    fake_url = f"http://127.0.0.1:{fake_port}"
    fake = fakeline_proc(tmp_path, fake_port, port).start()
    env = gateway_env(
        database_url,
        port,
        LINE_CHANNEL_SECRET=SECRET,
        LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
        LINE_API_BASE_URL=fake_url,
        **overrides,
    )
    gateway = gateway_proc(tmp_path, env)
    try:
        gateway.start()
    except Exception:
        fake.stop()
        raise AssertionError("gateway did not start:\n" + gateway.log()[-4000:]) from None
    return Stack(gateway, fake, database_url)


def wait_for(predicate: Any, timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy and return its value; the gateway works after its 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (IndexError, KeyError):
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout}s")
