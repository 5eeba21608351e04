"""Staff alerts (crisis, LINE quota, …) POSTed to YCC_ALERT_WEBHOOK_URL.

Alerts are rows first, so an alert endpoint that is down delays an alert but never drops it. The body carries
ids and times only, never what the user wrote (R14). The risk alerts' `type` is the level the safety screen (or
the bot's crisis intent) found: "crisis", "emergency_other" or "concern" (handoff/pipeline/escalation.py); on-call staff
route them by type (a concern needs a counsellor soon, not a call to the police).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from handoff.store.db import Database
from handoff.store.models import Alert
from handoff.store.types import utcnow
from handoff.store.values import AlertStatus
from handoff.timeutil import to_tokyo

log = logging.getLogger(__name__)


def alert_body(alert: Alert) -> dict[str, Any]:
    return {
        "type": alert.type,
        "conversation_id": alert.conversation_id,
        "at": to_tokyo(alert.at).isoformat(),
        "in_hours": alert.in_hours,
    }


class AlertSender:
    def __init__(self, db: Database, url: str, http: httpx.AsyncClient, max_attempts: int = 20) -> None:
        self.db = db
        self.url = url
        self.http = http
        self.max_attempts = max_attempts

    async def due(self) -> Iterable[str]:
        async with self.db.session() as session:
            found = await session.scalar(
                select(Alert.id).where(Alert.status == AlertStatus.PENDING, Alert.next_attempt_at <= utcnow()).limit(1)
            )
        return ["alerts"] if found is not None else []

    async def drain(self, _key: str) -> None:
        """Post each due alert; the HTTP call happens outside any transaction (see OutboxSender.drain)."""
        async with self.db.session() as session:
            alerts = (
                await session.scalars(
                    select(Alert)
                    .where(Alert.status == AlertStatus.PENDING, Alert.next_attempt_at <= utcnow())
                    .order_by(Alert.id)
                )
            ).all()
        for alert in alerts:
            await self._send(alert)
            async with self.db.session() as session:
                await session.merge(alert)

    async def _send(self, alert: Alert) -> None:
        now = utcnow()
        if not self.url:
            alert.status = AlertStatus.SKIPPED  # still visible in the console; nothing configured to receive it
            return
        alert.attempts += 1
        try:
            response = await self.http.post(self.url, json=alert_body(alert), timeout=5.0)
            if response.status_code < 300:
                alert.status = AlertStatus.SENT
                log.info("alert %s %s sent", alert.id, alert.type)
                return
            alert.last_error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            alert.last_error = type(exc).__name__
        log.warning("alert %s %s not delivered: %s", alert.id, alert.type, alert.last_error)
        if alert.attempts >= self.max_attempts:
            alert.status = AlertStatus.FAILED
        else:
            alert.next_attempt_at = now + timedelta(seconds=min(300, 2**alert.attempts))
