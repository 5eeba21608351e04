"""Outgoing messages: stored first, then sent by reply token or push, retried until LINE has them.

Reply tokens are free but single-use and short-lived, so they are tried first; push with a stable
`X-Line-Retry-Key` covers everything else, and LINE's 409 for a repeated key means it already has the message.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.alerts import raise_alert
from handoff.line.client import LineClient, LineResult
from handoff.line.messages import chunks, plain_text, quick_reply_titles
from handoff.store.db import Database, notify
from handoff.store.models import Contact, DeliveryAttempt, Message, Outbox
from handoff.store.types import utcnow

log = logging.getLogger(__name__)

REPLY_TOKEN_LIFETIME = timedelta(seconds=50)  # LINE allows about a minute; leave room for clock skew
QUOTA_MESSAGE = "monthly limit"
QUOTA_BACKOFF = timedelta(minutes=30)


async def enqueue(
    session: AsyncSession,
    *,
    recipient: str,
    messages: list[dict[str, Any]],
    conversation_id: int | None,
    at: datetime,
    sender: str = "bot",
    agent_id: int | None = None,
    reply_token: str | None = None,
    event_at: datetime | None = None,
) -> list[Outbox]:
    """Store messages for sending and as turns of the conversation, in the caller's transaction."""
    rows: list[Outbox] = []
    for index, batch in enumerate(chunks(messages)):
        token = reply_token if index == 0 else None
        row = Outbox(
            conversation_id=conversation_id,
            recipient=recipient,
            messages=batch,
            reply_token=token,
            reply_token_expires_at=(event_at or at) + REPLY_TOKEN_LIFETIME if token else None,
            retry_key=str(uuid.uuid4()),
            created_at=at,
            next_attempt_at=at,
        )
        session.add(row)
        await session.flush()
        rows.append(row)
        if conversation_id is None:
            continue
        for message in batch:
            session.add(
                Message(
                    conversation_id=conversation_id,
                    direction="out",
                    sender=sender,
                    agent_id=agent_id,
                    kind="text" if message.get("type") == "text" else str(message.get("type")),
                    text=plain_text(message),
                    quick_replies=quick_reply_titles(message),
                    event_at=at,
                    created_at=at,
                    outbox_id=row.id,
                    delivery="pending",
                )
            )
    return rows


async def enqueue_leave(session: AsyncSession, kind: str, chat_id: str, at: datetime) -> None:
    session.add(
        Outbox(
            kind=f"leave_{kind}",
            recipient=chat_id,
            messages=[],
            retry_key=str(uuid.uuid4()),
            created_at=at,
            next_attempt_at=at,
        )
    )


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** max(0, attempts - 1)))


class OutboxSender:
    def __init__(self, db: Database, line: LineClient, max_attempts: int) -> None:
        self.db = db
        self.line = line
        self.max_attempts = max_attempts

    async def due_recipients(self) -> Iterable[str]:
        """Recipients whose oldest pending row is due; later rows of a recipient wait for it (order)."""
        now = utcnow()
        async with self.db.session() as session:
            rows = (
                await session.execute(
                    select(Outbox.recipient, Outbox.next_attempt_at)
                    .where(Outbox.status == "pending")
                    .order_by(Outbox.id)
                    .limit(500)
                )
            ).all()
        seen: dict[str, datetime] = {}
        for recipient, next_at in rows:
            seen.setdefault(recipient, next_at)
        return [r for r, next_at in seen.items() if next_at <= now]

    async def drain(self, recipient: str) -> None:
        while True:
            async with self.db.session() as session:
                row = await session.scalar(
                    select(Outbox)
                    .where(Outbox.status == "pending", Outbox.recipient == recipient)
                    .order_by(Outbox.id)
                    .limit(1)
                )
                if row is None or row.next_attempt_at > utcnow():
                    return
                await self._send(session, row)
                if row.status == "pending":
                    return  # backing off; keep the recipient's order

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

    async def _send(self, session: AsyncSession, row: Outbox) -> None:
        now = utcnow()
        row.attempts += 1
        if row.kind.startswith("leave_"):
            result = await self.line.leave(row.kind.removeprefix("leave_"), row.recipient)
            await self._attempt(session, row, "leave", result)
            await self._settle(session, row, result, "leave", now)
            return
        if await self._blocked(session, row.recipient):
            await self._finish(session, row, "undeliverable", "blocked by the user (R17)", now)
            return
        if row.reply_token and row.reply_token_expires_at and now < row.reply_token_expires_at:
            token, row.reply_token = row.reply_token, None  # single use, whatever the outcome
            result = await self.line.reply(token, row.messages)
            await self._attempt(session, row, "reply", result)
            if result.ok:
                await self._finish(session, row, "sent", None, now, via="reply")
                return
        row.reply_token = None
        result = await self.line.push(row.recipient, row.messages, row.retry_key)
        await self._attempt(session, row, "push", result)
        await self._settle(session, row, result, "push", now)

    async def _settle(self, session: AsyncSession, row: Outbox, result: LineResult, via: str, now: datetime) -> None:
        row.last_status = result.status
        row.last_error = result.error
        if result.ok or result.status == 409:
            await self._finish(session, row, "sent", None, now, via=via)
        elif result.status == 429 and QUOTA_MESSAGE in (result.error or "").lower():
            row.next_attempt_at = now + QUOTA_BACKOFF
            await raise_alert(session, "line_quota", conversation_id=row.conversation_id, at=now, dedupe=QUOTA_BACKOFF)
        elif (result.status in (0, 429) or result.status >= 500) and row.attempts < self.max_attempts:
            row.next_attempt_at = now + _backoff(row.attempts)
        else:
            await self._finish(session, row, "failed", result.error or f"HTTP {result.status}", now)

    async def _finish(
        self, session: AsyncSession, row: Outbox, status: str, error: str | None, now: datetime, via: str | None = None
    ) -> None:
        row.status = status
        row.sent_via = via
        row.sent_at = now if status == "sent" else None
        if error:
            row.last_error = error[:255]
        delivery = {"sent": "sent", "failed": "failed", "undeliverable": "undeliverable"}[status]
        await session.execute(update(Message).where(Message.outbox_id == row.id).values(delivery=delivery))
        if row.conversation_id is not None:
            notify(session, {"type": "delivery", "conversation_id": row.conversation_id, "status": delivery})
        if status != "sent":
            log.warning("outbox %s %s after %s attempt(s)", row.id, status, row.attempts)
