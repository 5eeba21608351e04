"""Console test harness: a real gateway (`ycc serve`, simulator mode, Rasa down) per storage backend per session.

Rasa pointing at a closed port is real behaviour when the bot is down: every user text gets the "received"
reply and the conversation is queued for a human, which is what the console works on.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from console.users import create_user
from handoff.settings import normalise_database_url
from handoff.store.db import Database
from handoff.store.migrate import upgrade_async
from tests.support.databases import database, rows
from tests.support.servers import Proc, free_port, gateway_env

YCC = str(Path(sys.executable).parent / "ycc")
PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    name: str
    role: str
    id: int
    secret: str
    recovery_codes: list[str]
    password: str = PASSWORD
    last_counter: int = -1

    def code(self) -> str:
        """A TOTP code the server has not seen yet (it refuses replays within a time step)."""
        totp = pyotp.TOTP(self.secret)
        while True:
            now = totp.timecode(datetime.now())
            for counter in (now, now + 1):
                if counter > self.last_counter:
                    self.last_counter = counter
                    return totp.generate_otp(counter)
            time.sleep(1)


@dataclass
class Console:
    """A logged-in browserless console session: cookies plus the CSRF token from the page."""

    client: httpx.Client
    csrf: str
    account: Account

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, body: Any = None, *, csrf: bool = True, **kwargs: Any) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return self.client.post(path, json=body if body is not None else {}, headers=headers, **kwargs)


@dataclass
class Gateway:
    url: str
    database_url: str
    proc: Proc
    env: dict[str, str]
    consoles: list[httpx.Client] = field(default_factory=list)

    # ---- the user's side (fake LINE inside the gateway) ----
    def user_says(self, user_id: str, text: str, **extra: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.url}/simulator/line/_fake/users/{user_id}/events",
                              json={"type": "text", "text": text, **extra}, timeout=15)
        response.raise_for_status()
        return response.json()

    def delivered(self, user_id: str) -> list[str]:
        data = httpx.get(f"{self.url}/simulator/line/_fake/users/{user_id}/messages", timeout=5).json()
        return [m["text"] for m in data["messages"]]

    def line_requests(self, endpoint: str) -> list[dict[str, Any]]:
        return httpx.get(f"{self.url}/simulator/line/_fake/requests", params={"endpoint": endpoint},
                         timeout=5).json()["requests"]

    def fault(self, endpoint: str, responses: list[dict[str, Any]]) -> None:
        httpx.post(f"{self.url}/simulator/line/_fake/faults", json={"endpoint": endpoint, "responses": responses},
                   timeout=5).raise_for_status()

    # ---- staff ----
    def ycc(self, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([YCC, *args], input=stdin, env={**self.env, **(env or {})}, capture_output=True,
                              text=True, timeout=60)

    def add_user(self, role: str, *, quals: str = "", max_chats: int = 3, name: str | None = None) -> Account:
        """Create an account in-process (what `ycc user add` does, without a subprocess per user)."""
        name = name or f"{role[:4]}_{secrets.token_hex(3)}"

        async def create() -> Account:
            db = Database(normalise_database_url(self.database_url))
            try:
                async with db.session() as session:
                    enrolment = await create_user(session, name=name, role=role, password=PASSWORD,
                                                  qualifications=quals, max_chats=max_chats, actor="test")
                return Account(name, role, enrolment.user.id, enrolment.totp_secret, enrolment.recovery_codes)
            finally:
                await db.close()

        # In a thread of its own: sync Playwright keeps an event loop running in the test's thread.
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(lambda: asyncio.run(create())).result()

    def login(self, account: Account, *, code: str | None = None) -> Console:
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=15)
        self.consoles.append(client)
        page = client.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        step = client.post("/console/login", data={"csrf_token": token, "username": account.name,
                                                   "password": account.password})
        assert step.status_code == 302, step.text
        page = client.get("/console/login/2fa")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        done = client.post("/console/login/2fa", data={"csrf_token": token, "code": code or account.code()})
        assert done.status_code == 302 and done.headers["location"].startswith("/console/"), done.text
        home = client.get(done.headers["location"], follow_redirects=True)
        csrf = re.search(r'name="csrf-token" content="([^"]*)"', home.text)
        return Console(client, csrf.group(1) if csrf else "", account)

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        return rows(self.database_url, sql, **params)

    def queued(self, console: Console, user_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the user's conversation is in the queue and return it."""
        found = wait_for(lambda: next((c for c in console.get("/api/conversations?status=queued&limit=1000")
                                       .json()["items"] if c["line_user_id"] == user_id), None), timeout)
        return found


def wait_for(probe: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def new_line_user() -> str:
    return "U" + secrets.token_hex(16)


def _start(tmp_path: Path, url: str, **overrides: str) -> Iterator[Gateway]:
    port = free_port()
    env = gateway_env(url, port, **overrides)
    proc = Proc([YCC, "serve"], env, f"http://127.0.0.1:{port}", "/healthz", log_path=tmp_path / "gateway.log")
    try:
        proc.start()
    except Exception:
        raise AssertionError("gateway did not start:\n" + proc.log()[-4000:]) from None
    gateway = Gateway(proc.url, url, proc, env)
    yield gateway
    for client in gateway.consoles:
        client.close()
    proc.stop()


@pytest.fixture(scope="session")
def gateway_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("console_sqlite")
    with database("sqlite", tmp) as url:
        yield from _start(tmp, url)


@pytest.fixture(scope="session")
def gateway_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("console_pg")
    with database("postgres", tmp) as url:
        yield from _start(tmp, url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def gateway(request: pytest.FixtureRequest) -> Gateway:
    """The same test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"gateway_{request.param}")


@pytest.fixture
def line_user() -> str:
    return new_line_user()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database on each backend, for tests of the console's storage without a running gateway."""
    with database(request.param, tmp_path) as url:
        await upgrade_async(normalise_database_url(url))
        handle = Database(normalise_database_url(url))
        try:
            yield handle
        finally:
            await handle.close()
