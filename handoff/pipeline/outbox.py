"""Outgoing messages: stored first, then sent by reply token or push, retried until LINE has them.

Reply tokens are free but single-use and short-lived, so they are tried first; push with a stable
`X-Line-Retry-Key` covers everything else, and LINE's 409 for a repeated key means it already has the message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import events
from handoff.domain.outgoing import outbox_rows, pending_for, raise_alert, store_rows, to_web, wake_outbox
from handoff.line.client import LineClient, LineResult
from handoff.store.db import Database, notify, retry_on_disconnect
from handoff.store.models import Contact, DeliveryAttempt, Message, Outbox
from handoff.store.types import utcnow
from handoff.store.values import LEAVES, Channel, OutboxKind, OutboxStatus

log = logging.getLogger(__name__)

QUOTA_MESSAGE = "monthly limit"
QUOTA_BACKOFF = timedelta(minutes=30)


@dataclass(frozen=True)
class SendPlan:
    """What one attempt will do, decided and committed before LINE is called."""

    id: int
    kind: str  # an OutboxKind
    recipient: str
    messages: list[dict[str, Any]]
    retry_key: str
    reply_token: str | None
    skip: bool = False  # nothing to send: the row was settled while claiming it (the user blocked the account)
    silent: bool = False  # LINE's notificationDisabled on the push


def _fresh_token(token: str | None, expires_at: datetime | None, now: datetime) -> str | None:
    """The reply token if LINE will still take it; either way it is used up by this attempt (single use)."""
    return token if token and expires_at and now < expires_at else None


def _take(row: Outbox, now: datetime) -> SendPlan:
    """Count the attempt and take the reply token if it is still fresh."""
    row.attempts += 1
    token = _fresh_token(row.reply_token, row.reply_token_expires_at, now)
    row.reply_token = None
    return SendPlan(row.id, row.kind, row.recipient, list(row.messages), row.retry_key, token, silent=row.silent)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** max(0, attempts - 1)))


class OutboxSender:
    def __init__(self, db: Database, line: LineClient, max_attempts: int, send_lease: float = 15.0) -> None:
        self.db = db
        self.line = line
        self.max_attempts = max_attempts
        # A row claimed in the transaction that stored it is sent by the same task right after the commit; if that
        # task dies first, this sender retries the row (by push, same retry key) once the lease has run out.
        self.send_lease = timedelta(seconds=send_lease)

    async def due_recipients(self) -> Iterable[str]:
        """Recipients whose oldest pending row is due; later rows of a recipient wait for it (order)."""
        now = utcnow()
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(Outbox.recipient, Outbox.next_attempt_at)
                    .where(Outbox.status == OutboxStatus.PENDING)
                    .order_by(Outbox.id)
                    .limit(500)
                )
            ).all()
        seen: dict[str, datetime] = {}
        for recipient, next_at in rows:
            seen.setdefault(recipient, next_at)
        return [r for r, next_at in seen.items() if next_at <= now]

    async def drain(self, recipient: str) -> None:
        """Send the recipient's rows in order. No transaction is held while LINE is called: on SQLite a
        write lock held across a slow HTTP call would stall every webhook insert behind it."""
        while True:
            plan = await self._claim(recipient)
            if plan is None:
                return
            results = await self._call(plan)
            if await self._record(plan, results) == OutboxStatus.PENDING:
                return  # backing off; later rows of this recipient wait, so order is kept

    async def enqueue_to_send(
        self,
        session: AsyncSession,
        *,
        recipient: str,
        messages: list[dict[str, Any]],
        conversation_id: int,
        at: datetime,
        sender: str,
        reply_token: str | None,
        older_pending: bool | None = None,
        channel: str = Channel.LINE,
    ) -> SendPlan | None:
        """Store the answer to a turn and, when it can go at once, store it already claimed: the caller sends it
        right after its commit (`deliver`).

        Why: it is the message the user is waiting for (the bot's answer, or a fixed reply such as the one to a
        sticker); handing it to the sender would cost a wake-up and a claim transaction. Only a single request with
        nothing older pending for the recipient goes this way (order); anything else goes to the sender. The row
        is inserted with its attempt counted and its lease running, so the claim costs no statement of its own.
        `older_pending`: whether the recipient has rows waiting, if the caller learnt it in this transaction.
        `channel`: the conversation's; the secure chat's turns are stored for its page, LINE gets a notice."""
        if channel == Channel.WEB:
            await to_web(session, recipient=recipient, messages=messages, conversation_id=conversation_id, at=at,
                         sender=sender)
            return None
        rows = outbox_rows(
            recipient=recipient, messages=messages, conversation_id=conversation_id, reply_token=reply_token,
            expires_from=at,
        )
        if older_pending is None:
            older_pending = await session.scalar(pending_for(recipient)) is not None
        if len(rows) != 1 or older_pending:
            await store_rows(session, rows, at=at, sender=sender, agent_id=None)
            wake_outbox(session, recipient)
            return None
        row = rows[0]
        taken, token = self.taken(row, utcnow())
        row.update(taken)
        (row_id,) = await store_rows(session, rows, at=at, sender=sender, agent_id=None)
        return SendPlan(row_id, row["kind"], recipient, row["messages"], row["retry_key"], token)

    def taken(self, row: dict[str, Any], now: datetime) -> tuple[dict[str, Any], str | None]:
        """The columns of a new row stored already claimed (its attempt counted and its lease running, as `_take`
        does), and the reply token that attempt may use."""
        token = _fresh_token(row["reply_token"], row["reply_token_expires_at"], now)
        return {"attempts": 1, "reply_token": None, "next_attempt_at": now + self.send_lease}, token

    async def deliver(self, plan: SendPlan) -> None:
        """Send a row claimed by `enqueue_to_send` (after its commit); failures back off like any other row.

        Never raises: the caller's own work is committed, and if this send or its record fails, the row is still
        claimed only until the lease runs out, after which the sender retries it (push, same retry key)."""
        try:
            results = await self._call(plan)
            await retry_on_disconnect(lambda: self._record(plan, results))
        except Exception as exc:  # by type only: an exception's text can quote the message
            log.warning("outbox %s: sending after the commit failed (%s); the sender retries after the lease", plan.id,
                        type(exc).__name__)

    async def _claim(self, recipient: str) -> SendPlan | None:
        async with self.db.session() as session:
            row = await session.scalar(
                select(Outbox)
                .where(Outbox.status == OutboxStatus.PENDING, Outbox.recipient == recipient)
                .order_by(Outbox.id)
                .limit(1)
            )
            now = utcnow()
            if row is None or row.next_attempt_at > now:
                return None
            if row.kind not in LEAVES and await self._blocked(session, row.recipient):
                await self._finish(session, row, OutboxStatus.UNDELIVERABLE, "blocked by the user (R17)", now)
                return SendPlan(row.id, row.kind, row.recipient, [], row.retry_key, None, skip=True)
            return _take(row, now)

    async def _call(self, plan: SendPlan) -> list[tuple[str, LineResult]]:
        if plan.skip:
            return []
        if plan.kind in LEAVES:
            return [("leave", await self.line.leave(LEAVES[plan.kind], plan.recipient))]
        results: list[tuple[str, LineResult]] = []
        # LINE's notificationDisabled: the secure chat's quiet notices, and a follow-up the person asked to come quietly
        quiet = {"silent": True} if plan.kind == OutboxKind.SILENT or plan.silent else {}
        if plan.reply_token:
            results.append(("reply", await self.line.reply(plan.reply_token, plan.messages, **quiet)))
            if results[-1][1].ok:
                return results
        results.append(("push", await self.line.push(plan.recipient, plan.messages, plan.retry_key, **quiet)))
        return results

    async def _record(self, plan: SendPlan, results: list[tuple[str, LineResult]]) -> str | None:
        """Store what LINE answered; the row's status after it (None: the row is gone)."""
        async with self.db.session() as session:
            row = await session.get(Outbox, plan.id)
            if row is None:
                return None
            if not results:
                return row.status
            now = utcnow()
            for method, result in results:
                await self._attempt(session, row, method, result)
            method, result = results[-1]
            if method == "reply":
                await self._finish(session, row, OutboxStatus.SENT, None, now, via="reply")
            else:
                await self._settle(session, row, result, method, now)
            return row.status

    async def _blocked(self, session: AsyncSession, recipient: str) -> bool:
        following = await session.scalar(select(Contact.following).where(Contact.line_user_id == recipient))
        return following is False

    async def _attempt(self, session: AsyncSession, row: Outbox, method: str, result: LineResult) -> None:
        session.add(
            DeliveryAttempt(
                outbox_id=row.id,
                method=method,
                status_code=result.status,
                request_id=result.request_id,
                error=result.error,
            )
        )
        log.info("line %s outbox=%s status=%s request_id=%s", method, row.id, result.status, result.request_id)

    async def _settle(self, session: AsyncSession, row: Outbox, result: LineResult, via: str, now: datetime) -> None:
        row.last_status = result.status
        row.last_error = result.error
        if result.ok or result.status == 409:
            await self._finish(session, row, OutboxStatus.SENT, None, now, via=via)
        elif result.status == 429 and QUOTA_MESSAGE in (result.error or "").lower():
            row.next_attempt_at = now + QUOTA_BACKOFF
            await raise_alert(session, "line_quota", conversation_id=row.conversation_id, at=now, dedupe=QUOTA_BACKOFF)
        elif (result.status in (0, 429) or result.status >= 500) and row.attempts < self.max_attempts:
            row.next_attempt_at = now + _backoff(row.attempts)
        else:
            await self._finish(session, row, OutboxStatus.FAILED, result.error or f"HTTP {result.status}", now)

    async def _finish(
        self, session: AsyncSession, row: Outbox, status: str, error: str | None, now: datetime, via: str | None = None
    ) -> None:
        row.status = status
        row.sent_via = via
        row.sent_at = now if status == OutboxStatus.SENT else None
        if error:
            row.last_error = error[:255]
        delivery = OutboxStatus(status)  # a turn's delivery is its row's final status
        await session.execute(
            update(Message)
            .where(Message.outbox_id == row.id)
            .values(delivery=delivery)
            .execution_options(synchronize_session=False)  # messages of a sent row are not loaded here
        )
        if row.conversation_id is not None:
            notify(session, events.delivery(row.conversation_id, delivery))
        if status != OutboxStatus.SENT:
            log.warning("outbox %s %s after %s attempt(s)", row.id, status, row.attempts)
