"""What a gateway process opens from the settings: the database, the data files, and the clients for LINE and Rasa.

Each process (web, worker) opens its own, in its own event loop; the web app hangs it on `app.ctx`.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from handoff.domain.content import Content
from handoff.domain.hours import HoursPolicy
from handoff.domain.safety import SafetyScreen
from handoff.line.client import LineClient
from handoff.pipeline.rasa import Breaker, RasaClient
from handoff.settings import Settings
from handoff.store.db import Database


@dataclass
class Resources:
    """What both halves open from the settings; each process opens its own."""

    db: Database
    content: Content
    hours: HoursPolicy
    http: httpx.AsyncClient
    line: LineClient
    rasa: RasaClient
    safety: SafetyScreen

    @classmethod
    def open(cls, settings: Settings, *, pre_ping: bool = True) -> Resources:
        http = httpx.AsyncClient(timeout=10.0)
        return cls(
            db=Database(settings.database_url, pre_ping=pre_ping),
            content=Content.load(settings.data_dir),
            hours=HoursPolicy.load(settings.data_dir / "hours.yml"),
            http=http,
            line=LineClient(settings.effective_line_api_base_url, settings.effective_access_token),
            rasa=RasaClient(
                settings.rasa_url, settings.rasa_timeout, settings.rasa_token,
                Breaker(settings.rasa_breaker_failures, settings.rasa_breaker_cooldown),
            ),
            safety=SafetyScreen.load(settings.data_dir / "safety.yml"),
        )

    async def close(self) -> None:
        await self.line.close()
        await self.rasa.close()
        await self.http.aclose()
        await self.db.close()
