"""The worker's inbox in-process, with stand-ins for LINE and Rasa: for tests and benchmarks of the per-message
path that need to watch it from inside (which connection saw what, when) rather than through HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from handoff.line.client import LineResult
from handoff.pipeline.inbox import InboxWorker
from handoff.pipeline.outbox import OutboxSender
from handoff.pipeline.rasa import BotReply, Understood
from handoff.pipeline.router import Router
from handoff.runtime.resources import Resources
from handoff.settings import Settings


@dataclass
class InstantLine:
    """LINE that accepts everything at once and keeps what it was sent, and when."""

    replied_at: float = 0.0
    sent: list[dict[str, Any]] = field(default_factory=list)

    def _took(self, to: str | None, messages: list[dict[str, Any]]) -> LineResult:
        self.replied_at = time.perf_counter()
        self.sent.extend({"to": to, **m} for m in messages)
        return LineResult(200, "instant")

    async def reply(self, token: str, messages: list[dict[str, Any]]) -> LineResult:
        return self._took(None, messages)

    async def push(
        self, to: str, messages: list[dict[str, Any]], retry_key: str, *, silent: bool = False
    ) -> LineResult:
        return self._took(to, messages)

    async def show_loading(self, chat_id: str, seconds: int = 20) -> LineResult:
        return LineResult(202, "instant")


Answer = Callable[[str, str, dict[str, Any]], Awaitable[list[dict[str, Any]]]]


class InstantRasa:
    """Rasa that answers at once; `before_answer` runs first, as the action server would while Rasa thinks."""

    def __init__(self, before_answer: Answer | None = None) -> None:
        self.before_answer = before_answer
        self.asked: list[str] = []
        self.understood: Understood | None = None  # what NLU "read" each turn as; None like an older bot

    async def send(self, sender: str, message: str, metadata: dict[str, Any]) -> BotReply:
        self.asked.append(message)
        if self.before_answer is not None:
            await self.before_answer(sender, message, metadata)
        return BotReply([{"recipient_id": sender, "text": f"bot:{message}"}], self.understood)


@dataclass
class InProcess:
    res: Resources
    inbox: InboxWorker
    line: InstantLine
    rasa: InstantRasa


@asynccontextmanager
async def in_process(url: str, rasa: InstantRasa | None = None) -> AsyncIterator[InProcess]:
    """Resources opened as the worker process opens them (no pre-ping), on a migrated database."""
    settings = Settings.from_mapping({"YCC_DATABASE_URL": url})
    res = Resources.open(settings, pre_ping=False)
    line, rasa = InstantLine(), rasa or InstantRasa()
    outbox = OutboxSender(res.db, line, 5)  # type: ignore[arg-type]
    router = Router(res.db, res.content, res.hours, rasa, line, res.safety, outbox)  # type: ignore[arg-type]
    try:
        yield InProcess(res, InboxWorker(res.db, router), line, rasa)
    finally:
        await res.close()


def text_event(user: str, text: str, n: int) -> dict[str, Any]:
    """A LINE text message event as the webhook stores it."""
    return {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": f"T{n:024d}",
        "replyToken": f"r{n:031d}",
        "message": {"type": "text", "id": str(n), "text": text},
    }
