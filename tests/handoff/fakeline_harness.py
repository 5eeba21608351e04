"""Harness for the fake LINE tests: the fake served on a free port with a webhook receiver beside it."""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sanic import Sanic
from sanic.response import text

from handoff.simulator.api import create_fakeline_blueprint
from handoff.simulator.fakeline import FakeLine

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "line_events"
SECRET = "test-channel-secret"
TOKEN = "test-access-token"
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Running:
    """A Sanic app served in this event loop on a free port."""

    def __init__(self, app: Sanic) -> None:
        self.app, self.port, self.server = app, free_port(), None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Running:
        self.server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self.server.startup()
        await self.server.before_start()
        await self.server.after_start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.before_stop()
        self.server.close()
        await self.server.wait_closed()
        await self.server.after_stop()


@dataclass
class Receiver:
    """Records every webhook POST; answers with the statuses queued in `answers` (then 200)."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def app(self) -> Sanic:
        app = Sanic(f"receiver_{uuid.uuid4().hex[:8]}")

        @app.post("/line/webhook")
        async def webhook(request):  # type: ignore[no-untyped-def]
            self.calls.append({"body": request.body.decode("utf-8"), "headers": dict(request.headers)})
            return text("", status=self.answers.pop(0) if self.answers else 200)

        return app


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several Sanic apps are served in one process here; Sanic allows that only in test mode."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
async def line() -> AsyncIterator[tuple[FakeLine, Receiver, httpx.AsyncClient]]:
    """The fake (API at the root) wired to a receiver; yields the fake, the receiver and a client for the fake."""
    receiver = Receiver()
    async with Running(receiver.app()) as hook:
        fake = FakeLine(SECRET, TOKEN, f"{hook.url}/line/webhook", reply_token_ttl=60.0)
        app = Sanic(f"fake_{uuid.uuid4().hex[:8]}")
        app.blueprint(create_fakeline_blueprint(fake, url_prefix=""))
        async with Running(app) as api:
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with httpx.AsyncClient(base_url=api.url, headers=headers) as client:
                yield fake, receiver, client


def text_message(body: str = "こんにちは", **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": body, **extra}


async def user_says(client: httpx.AsyncClient, user_id: str, spec: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(f"/_fake/users/{user_id}/events", json=spec)
    assert response.status_code == 200, response.text
    return response.json()
