"""Sending information deliveries (issue 17 item 1): batch after batch by LINE's multicast, from the database; and
releasing follow-up check-ins (item 8) to the outbox when they are due.

Why each batch is claimed, then sent outside any transaction, then recorded (as the outbox does): a crash between
the call and the record leaves the batch pending with its retry key, and the next attempt gets LINE's 409 for a
request it already accepted, so nobody receives the delivery twice. A 429 (rate limit or the monthly quota) pauses
the whole delivery and alerts staff; it resumes on its own at `next_attempt_at`, or earlier when staff say so.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from handoff.domain import broadcast_images, broadcasts, follow_ups
from handoff.domain.outgoing import raise_alert
from handoff.line.client import LineClient, LineResult
from handoff.pipeline.outbox import QUOTA_BACKOFF, QUOTA_MESSAGE
from handoff.store.db import Database
from handoff.store.models_broadcasts import Broadcast, BroadcastBatch, FollowUp
from handoff.store.types import utcnow
from handoff.store.values import UNFINISHED_BROADCASTS, BatchStatus, BroadcastStatus, FollowUpStatus

log = logging.getLogger(__name__)
RATE_PAUSE = timedelta(minutes=1)  # LINE's rate limit for multicast is per minute
LEASE = timedelta(seconds=30)  # a claimed batch whose record never came is tried again after this (same key)
MAX_ATTEMPTS = 8
ALERT = "broadcast_paused"


@dataclass(frozen=True)
class BatchPlan:
    broadcast_id: int
    batch_id: int
    recipients: list[str]
    retry_key: str
    messages: list[dict[str, Any]]
    silent: bool


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** max(0, attempts - 1)))


class BroadcastSender:
    def __init__(self, db: Database, line: LineClient) -> None:
        self.db = db
        self.line = line

    async def due(self) -> Iterable[str]:
        """Deliveries whose time has come: scheduled ones, batches left to send, pauses that are over."""
        async with self.db.session() as session:
            ids = await session.scalars(
                select(Broadcast.id)
                .where(Broadcast.status.in_(UNFINISHED_BROADCASTS), Broadcast.next_attempt_at <= utcnow())
                .order_by(Broadcast.id)
                .limit(20)
            )
            return [str(i) for i in ids]

    async def drain(self, key: str) -> None:
        """Send the delivery's batches in order until it is done, paused or backing off."""
        broadcast_id = int(key)
        while True:
            plan = await self._claim(broadcast_id)
            if plan is None:
                return
            result = await self.line.multicast(plan.recipients, plan.messages, plan.retry_key, silent=plan.silent)
            if not await self._record(plan, result):
                return

    async def _claim(self, broadcast_id: int) -> BatchPlan | None:
        async with self.db.session() as session:
            broadcast = await session.get(Broadcast, broadcast_id)
            now = utcnow()
            if broadcast is None or broadcast.status not in UNFINISHED_BROADCASTS or broadcast.next_attempt_at > now:
                return None
            if broadcast.status == BroadcastStatus.SCHEDULED:
                await broadcasts.start(session, broadcast, now)
                log.info("broadcast %s started: %s recipients", broadcast.id, broadcast.recipients)
                if broadcast.status == BroadcastStatus.EMPTY:
                    return None
            broadcast.status = BroadcastStatus.SENDING  # also the end of a pause
            while True:
                batch = await session.scalar(
                    select(BroadcastBatch)
                    .where(BroadcastBatch.broadcast_id == broadcast_id, BroadcastBatch.status == BatchStatus.PENDING)
                    .order_by(BroadcastBatch.id)
                    .limit(1)
                )
                if batch is None:
                    broadcast.status, broadcast.finished_at = BroadcastStatus.SENT, now
                    log.info("broadcast %s finished: sent=%s skipped=%s failed=%s", broadcast.id, broadcast.sent,
                             broadcast.skipped, broadcast.failed)
                    return None
                if batch.attempts == 0:  # its request not yet made: take out who blocked the account since
                    blocked = await broadcasts.blocked_among(session, batch.recipients)
                    if blocked:
                        batch.recipients = [u for u in batch.recipients if u not in blocked]
                        broadcast.skipped += len(blocked)
                    if not batch.recipients:
                        batch.status = BatchStatus.SENT
                        continue
                batch.attempts += 1
                broadcast.next_attempt_at = now + LEASE
                return BatchPlan(broadcast.id, batch.id, list(batch.recipients), batch.retry_key,
                                 broadcasts.messages(broadcast, await broadcast_images.urls_of(session, broadcast.id)),
                                 broadcast.silent)

    async def _record(self, plan: BatchPlan, result: LineResult) -> bool:
        """Store LINE's answer; whether to go on with the next batch now."""
        async with self.db.session() as session:
            broadcast = await session.get(Broadcast, plan.broadcast_id)
            batch = await session.get(BroadcastBatch, plan.batch_id)
            if broadcast is None or batch is None:
                return False
            now = utcnow()
            batch.last_status, batch.request_id = result.status, result.request_id
            log.info("line multicast broadcast=%s batch=%s status=%s request_id=%s", plan.broadcast_id,
                     plan.batch_id, result.status, result.request_id)
            if result.ok or result.status == 409:  # 409: LINE accepted this retry key before
                batch.status, batch.sent_at = BatchStatus.SENT, now
                broadcast.sent += len(batch.recipients)
                go_on = broadcast.status != BroadcastStatus.CANCELLED  # stopped meanwhile: this batch still counts
            elif broadcast.status == BroadcastStatus.CANCELLED:
                return False
            elif result.status == 429:
                quota = QUOTA_MESSAGE in (result.error or "").lower()
                # LINE refused the request (it did not accept it under this key), so when the pause is over it is
                # made afresh: who blocked the account meanwhile is taken out first (see _claim).
                batch.attempts = 0
                broadcast.status = BroadcastStatus.PAUSED
                broadcast.next_attempt_at = now + (QUOTA_BACKOFF if quota else RATE_PAUSE)
                broadcast.last_error = "429 monthly quota" if quota else "429 rate limit"
                await raise_alert(session, ALERT, conversation_id=None, at=now, dedupe=timedelta(minutes=10))
                log.warning("broadcast %s paused by LINE's 429 (%s)", plan.broadcast_id,
                            "quota" if quota else "rate limit")
                return False
            elif (result.status == 0 or result.status >= 500) and batch.attempts < MAX_ATTEMPTS:
                broadcast.next_attempt_at = now + _backoff(batch.attempts)
                broadcast.last_error = f"HTTP {result.status}"
                return False
            else:
                batch.status = BatchStatus.FAILED
                broadcast.failed += len(batch.recipients)
                broadcast.last_error = f"HTTP {result.status}: {result.error or ''}"[:255]
                log.warning("broadcast %s batch %s failed with %s", plan.broadcast_id, plan.batch_id, result.status)
                go_on = True
            if go_on:
                broadcast.next_attempt_at = now
            return go_on



class FollowUpReleaser:
    """Follow-up check-ins (issue 17 item 8) whose time has come go to the outbox; the outbox sends them."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def due(self) -> Iterable[str]:
        async with self.db.session() as session:
            found = await session.scalar(select(FollowUp.id).where(
                FollowUp.status == FollowUpStatus.SCHEDULED, FollowUp.send_at <= utcnow()).limit(1))
        return ["follow_ups"] if found is not None else []

    async def drain(self, _key: str) -> None:
        async with self.db.session() as session:
            released = await follow_ups.release_due(session, utcnow())
        if released:
            log.info("follow-ups released to the outbox: %s", released)
