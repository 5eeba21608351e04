"""The inbox: LINE events stored before the 200, then handled in order per user by a worker.

An event is handled in at most two committed steps. Step one (the router) stores the user's turn and every
decision that needs no one else; if the bot must answer, the row is left in status `bot`. Step two asks Rasa and
stores its answer. A crash between or inside the steps resumes from the row's status: nothing is lost, and
nothing is done twice except, at worst, one repeated question to Rasa.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Insert, Select, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from handoff.domain.conversations import BESIDE_CONTACT
from handoff.domain.outgoing import raise_alert
from handoff.domain.safety import CRISIS, EMERGENCY_OTHER, SafetyScreen
from handoff.line.events import cleaned
from handoff.pipeline.router import Routed, Router
from handoff.store.db import Database, disconnected, retry_on_disconnect
from handoff.store.models import Contact, Conversation, InboxEvent
from handoff.store.types import utcnow
from handoff.store.values import UNFINISHED_INBOX, InboxStatus

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def source_key(event: dict[str, Any]) -> str:
    source = event.get("source") or {}
    return str(source.get("userId") or source.get("groupId") or source.get("roomId") or "unknown")


def urgent_users(safety: SafetyScreen, events: Iterable[dict[str, Any]]) -> list[str]:
    """The senders of texts the screen reads as a crisis or someone else in danger: their events skip the queue of
    routing work in the worker (InboxWorker). A hint only: the worker screens every text again as step one."""
    found = []
    for event in events:
        message = event.get("message")
        text = message.get("text") if isinstance(message, dict) and message.get("type") == "text" else None
        if isinstance(text, str) and safety.screen(text).level in (CRISIS, EMERGENCY_OTHER):
            found.append(source_key(event))
    return sorted(set(found))


def event_id(event: dict[str, Any]) -> str:
    """LINE's webhookEventId; an event without one (never seen from LINE) gets a stable hash of itself."""
    given = event.get("webhookEventId")
    if isinstance(given, str) and given:
        return given[:64]
    return "h-" + hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()[:40]


@cache
def _insert_statement(sqlite: bool) -> Insert:
    """Built once: executemany with bound rows lets SQLAlchemy reuse the compiled INSERT … ON CONFLICT DO NOTHING."""
    insert = sqlite_insert if sqlite else pg_insert
    return insert(InboxEvent).on_conflict_do_nothing(index_elements=["webhook_event_id"])


async def store_events(db: Database, events: list[dict[str, Any]]) -> int:
    """Insert events, ignoring ones already stored (LINE redelivers with the same id). Returns new rows.

    Each is stored `cleaned` (handoff/line/events.py): a NUL, a lone surrogate or an optional field of the wrong
    type would otherwise make the worker's statements fail on it, again on every retry."""
    if not events:
        return 0
    now = utcnow()
    events = [cleaned(e) for e in events]
    rows = [
        {
            "webhook_event_id": event_id(e),
            "source_key": source_key(e),
            "event_type": str(e.get("type", "unknown"))[:32],
            "body": e,
            "received_at": now,
            "status": InboxStatus.PENDING,
            "attempts": 0,
        }
        for e in events
    ]
    # On SQLite a write lock held by another process (the worker in `YCC_WORKER=process`, a `ycc` command) is
    # waited for by the driver without blocking the loop (handoff/store/sqlite_inline.py); past its patience this
    # raises, the webhook answers 500 and LINE redelivers.
    async def insert() -> int:
        async with db.begin() as conn:
            result = await conn.execute(_insert_statement(db.is_sqlite), rows)
        return int(result.rowcount or 0)

    return await retry_on_disconnect(insert)


# The user's oldest unfinished event, with the contact and conversation routing needs: one query per turn instead
# of three (they are absent for a new user, and for a group, whose key is not a contact). Built once with the key
# as a parameter: building and keying it again on every turn cost more than running it.
_NEXT_EVENT: Select[tuple[InboxEvent, Contact | None, Conversation | None]] = (
    select(InboxEvent, Contact, Conversation)
    .outerjoin(Contact, Contact.line_user_id == InboxEvent.source_key)
    .outerjoin(Conversation, Conversation.contact_id == Contact.id)
    .where(InboxEvent.source_key == bindparam("key"), InboxEvent.status.in_(UNFINISHED_INBOX))
    .order_by(InboxEvent.id)
    .limit(1)
    .options(*BESIDE_CONTACT)
)


class InboxWorker:
    """Step one of an event holds one of `route_width` slots, step two (Rasa, the slow part) one of `bot_width`;
    a user waiting for either holds neither. Why: with one limit around a user's whole drain, a burst of chatty
    users held every slot through their Rasa turns and a new user's crisis waited behind them for a minute
    (bench/bench_prod.py, crisis → alert under 50 messages/s). The screen, the reply with 110/119 and the alert
    are all decided in step one, so a crisis waits for nobody's Rasa turn. The runner that calls `drain` must
    therefore not limit how many users drain at once."""

    def __init__(self, db: Database, router: Router, route_width: int = 16, bot_width: int = 4) -> None:
        self.db = db
        self.router = router
        self._route_slots = asyncio.Semaphore(route_width)
        self._bot_slots = asyncio.Semaphore(bot_width)
        self._urgent: set[str] = set()

    def prioritise(self, keys: Iterable[str]) -> None:
        """These users' step ones take no routing slot until their drain ends (urgent_users chose them)."""
        self._urgent.update(keys)

    def _route_slot(self, key: str) -> contextlib.AbstractAsyncContextManager[Any]:
        return contextlib.nullcontext() if key in self._urgent else self._route_slots

    async def due_users(self) -> Iterable[str]:
        async with self.db.session() as session:
            keys = await session.scalars(
                select(InboxEvent.source_key)
                .where(InboxEvent.status.in_(UNFINISHED_INBOX))
                .order_by(InboxEvent.id)
                .limit(1000)
            )
            return list(dict.fromkeys(keys))

    async def drain(self, key: str) -> None:
        """Handle one user's events oldest first; stop at one that fails so order is kept for the retry.

        Step one runs in the same unit of work that picks the row: one transaction fewer per turn."""
        try:
            await self._drain(key)
        finally:
            self._urgent.discard(key)

    async def _drain(self, key: str) -> None:
        while True:
            row_id: int | None = None
            try:
                async with self._route_slot(key), self.db.session() as session:
                    found = (await session.execute(_NEXT_EVENT, {"key": key})).first()
                    if found is None:
                        return
                    row, contact, conversation = found
                    row_id, status = row.id, row.status
                    routed = Routed()
                    if status == InboxStatus.PENDING:
                        routed = await self.router.route(session, row, contact, conversation)
                if routed.send is not None:
                    await self.router.outbox.deliver(routed.send)
                if routed.bot is not None or status == InboxStatus.BOT:
                    async with self._bot_slots:
                        await self.router.bot.answer(row_id, routed.bot)
            except Exception as exc:
                if row_id is None:
                    raise  # could not even read the inbox: the runner logs it and retries after a pause
                await self._failed(row_id, exc)
                return

    async def _failed(self, row_id: int, exc: Exception) -> None:
        """Logged by id and exception type only, never with the exception's text or traceback: both can hold what
        the user wrote (a DataError quoting a value, a UnicodeEncodeError the characters around a bad one)."""
        if disconnected(exc):
            log.warning("inbox event %s: the database connection was lost; retrying", row_id)
            return  # not the event's fault: it stays as it was and is retried at the next poll
        async with self.db.session() as session:
            fresh = await session.get(InboxEvent, row_id)
            if fresh is None:
                return
            fresh.attempts += 1
            fresh.error = type(exc).__name__
            if fresh.attempts < MAX_ATTEMPTS:
                log.warning("inbox event %s failed (%s), attempt %d; retrying", row_id, fresh.error, fresh.attempts)
                return
            fresh.status = InboxStatus.FAILED  # the user may have had no answer: staff are told, with ids only (R14)
            conversation_id = await session.scalar(
                select(Conversation.id).join(Contact, Contact.id == Conversation.contact_id)
                .where(Contact.line_user_id == fresh.source_key)
            )
            await raise_alert(session, "inbox_failed", conversation_id=conversation_id, at=utcnow())
        log.error("inbox event %s failed %d times (%s); staff alerted", row_id, MAX_ATTEMPTS, type(exc).__name__)
