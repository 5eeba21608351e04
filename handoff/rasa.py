"""Talking to the Rasa server over its REST channel, with a breaker so a dead Rasa costs one timeout, not one per
message.

While the breaker is open, messages skip Rasa and go straight to the "we received your message" path; a probe of
`/status` every few seconds closes it again as soon as Rasa answers, so new messages flow to the bot again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error; the caller keeps the message and queues it."""


@dataclass
class Breaker:
    cooldown: float = 5.0
    opened_at: float | None = None

    def allow(self) -> bool:
        return self.opened_at is None or time.monotonic() - self.opened_at >= self.cooldown

    def failure(self) -> None:
        self.opened_at = time.monotonic()

    def success(self) -> None:
        self.opened_at = None

    @property
    def open(self) -> bool:
        return self.opened_at is not None


class RasaClient:
    def __init__(self, base_url: str, http: httpx.AsyncClient, timeout: float) -> None:
        self.base_url = base_url
        self.http = http
        self.timeout = timeout
        self.breaker = Breaker()

    async def send(self, sender: str, message: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        if not self.breaker.allow():
            raise RasaUnavailable("breaker open")
        try:
            response = await self.http.post(
                f"{self.base_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": message, "metadata": metadata},
                timeout=self.timeout,
            )
            if response.status_code != 200:
                raise RasaUnavailable(f"HTTP {response.status_code}")
            answers = response.json()
            if not isinstance(answers, list):
                raise RasaUnavailable("unexpected answer shape")
        except (httpx.HTTPError, ValueError) as exc:
            self.breaker.failure()
            log.warning("rasa unavailable: %s", type(exc).__name__)
            raise RasaUnavailable(type(exc).__name__) from exc
        except RasaUnavailable:
            self.breaker.failure()
            raise
        self.breaker.success()
        return answers

    async def ready(self) -> bool:
        try:
            response = await self.http.get(f"{self.base_url}/status", timeout=2.0)
            ok = response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            ok = False
        if ok:
            self.breaker.success()
        return ok
