"""A small but complete consultation history for the export and purge tests (R25): one row or more in every table,
Japanese text with emoji, and a credential in every column that must never leave the building.

Users and the roster go through console.users.create_user (the path `ycc user add` and the admin page take); the
rest is written with the ORM, as the gateway would, because driving each table through LINE would cost a running
stack per test (test_lifecycle_cli.py does that once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text

from console import security
from console.users import create_user
from handoff.lifecycle import trackers
from handoff.lifecycle.tables import model_tables
from handoff.settings import Settings, normalise_database_url
from handoff.store.db import Database
from handoff.store.migrate import upgrade_async
from handoff.store.models import (
    Alert,
    ApiToken,
    AuditLog,
    ConsentEvent,
    ConsoleSession,
    Contact,
    Conversation,
    DeliveryAttempt,
    Escalation,
    InboxEvent,
    Message,
    Outbox,
    Record,
    StatusChange,
    User,
)
from handoff.store.models_console import TotpUse
from tests.support.servers import free_port

MARK = "ycc-distinctive-7f3a9c"
TEXT = f"お母さんの介護で眠れない🌙 夜なら話せます {MARK}"
SUMMARY = "母の介護と受験の両立に悩む。市の家庭児童相談員につないだ👍"
AT = datetime(2026, 11, 24, 1, 2, 3, tzinfo=UTC)  # 10:02:03 in Tokyo
AT_JST = "2026-11-24T10:02:03+09:00"
LINE_USER = "U" + "0123456789abcdef" * 2
PASSWORD = "長いパスフレーズです12345"


@dataclass
class Seeded:
    secrets: list[str]  # credentials that are in the database and must appear in no exported byte
    user_id: int
    conversation_id: int


def async_url(url: str) -> str:
    return normalise_database_url(url)


def settings_for(url: str, tmp_path: Path) -> Settings:
    """Settings as `ycc` would build them, on a port and run directory no other test or gateway uses."""
    return Settings.from_mapping({
        "YCC_DATABASE_URL": url, "YCC_PORT": str(free_port()), "YCC_RUN_DIR": str(tmp_path / "run"),
    })


async def seed(url: str) -> Seeded:
    model_tables()  # every models* module imported, so their tables are written below too
    from handoff.store.models_worklog import WorklogNote

    await upgrade_async(async_url(url))
    db = Database(async_url(url))
    token = security.new_token("ycc_")
    try:
        async with db.session() as session:
            enrolment = await create_user(session, name="yamada", role="counsellor", password=PASSWORD,
                                          qualifications="A,B", display_name="山田 花子", actor="cli")
            user = enrolment.user
            contact = Contact(key="c-7f3a", line_user_id=LINE_USER, created_at=AT, consent=True, consent_at=AT,
                              profile={"age": "16", "family": "母・弟", "municipality": "金沢市"})
            session.add(contact)
            await session.flush()
            session.add(ConsentEvent(contact_id=contact.id, granted=True, at=AT, source="bot"))
            conversation = Conversation(contact_id=contact.id, status="resolved", assignee_id=user.id,
                                        created_at=AT, updated_at=AT, last_message_at=AT)
            session.add(conversation)
            await session.flush()
            session.add(StatusChange(conversation_id=conversation.id, from_status="bot", to_status="queued",
                                     actor="bot", reason="handoff", at=AT))
            outbox = Outbox(conversation_id=conversation.id, recipient=LINE_USER, retry_key="6d1c-retry",
                            messages=[{"type": "text", "text": "ありがとう、聞かせてね"}],
                            reply_token="REPLYTOKEN-outbox-secret", status="sent", attempts=1, created_at=AT,
                            next_attempt_at=AT, sent_at=AT, sent_via="reply")
            session.add(outbox)
            await session.flush()
            session.add(DeliveryAttempt(outbox_id=outbox.id, at=AT, method="reply", status_code=200,
                                        request_id="req-0f0f0f"))
            session.add(Message(conversation_id=conversation.id, direction="in", sender="user", kind="text",
                                text=TEXT, line_message_id="5551234", mark_as_read_token="MARKREAD-secret-token",
                                event_at=AT, created_at=AT))
            session.add(Message(conversation_id=conversation.id, direction="out", sender="agent",
                                agent_id=user.id, kind="text", text="ありがとう、聞かせてね", event_at=AT,
                                created_at=AT, outbox_id=outbox.id, delivery="sent"))
            session.add(InboxEvent(webhook_event_id="01JWEBHOOK", source_key=LINE_USER, event_type="message",
                                   body={"type": "message", "replyToken": "REPLYTOKEN-inbox-secret",
                                         "message": {"type": "text", "text": TEXT,
                                                     "markAsReadToken": "MARKREAD-inbox-secret"}},
                                   received_at=AT, status="done", processed_at=AT))
            session.add(Escalation(conversation_id=conversation.id, opened_at=AT, source="lexicon",
                                   category="self_harm", checklist={"police": True}, status="closed",
                                   outcome="県警・県に連絡済み", closed_at=AT, closed_by=user.id))
            session.add(Alert(type="crisis", conversation_id=conversation.id, at=AT, status="sent",
                              next_attempt_at=AT))
            session.add(Record(conversation_id=conversation.id, author_id=user.id, created_at=AT,
                               topics=["care_burden", "school"], care_recipients=["parent"],
                               referral="金沢市 家庭児童相談室", follow_up=True, summary=SUMMARY))
            session.add(AuditLog(at=AT, actor="yamada", action="view_record", object_type="record", object_id="1"))
            session.add(ApiToken(name="report-bot", token_hash=security.token_hash(token), created_at=AT))
            session_id = security.new_token()
            session.add(ConsoleSession(id=session_id, user_id=user.id, csrf_token="CSRF-secret-token",
                                       created_at=AT, last_seen_at=AT))
            session.add(TotpUse(user_id=user.id, counter=12345678, at=AT))
            session.add(WorklogNote(day=date(2026, 11, 24), text="特記事項なし📝", author_id=user.id, updated_at=AT))
        async with db.session() as session:
            stored = await session.scalar(select(User).where(User.name == "yamada"))
            assert stored is not None
            secrets = [stored.password_hash, stored.totp_secret or "", *stored.recovery_codes,
                       security.token_hash(token), session_id, "CSRF-secret-token", "REPLYTOKEN-outbox-secret",
                       "MARKREAD-secret-token", "REPLYTOKEN-inbox-secret", "MARKREAD-inbox-secret"]
        return Seeded([s for s in secrets if s], user.id, conversation.id)
    finally:
        await db.close()


async def add_message(url: str, conversation_id: int, text: str) -> None:
    db = Database(async_url(url))
    try:
        async with db.session() as session:
            session.add(Message(conversation_id=conversation_id, direction="in", sender="user", kind="text",
                                text=text, event_at=AT, created_at=AT))
    finally:
        await db.close()


def write_tracker_events(settings: Settings, events_of: list[dict[str, Any]]) -> trackers.Store:
    """Rows in Rasa 3.6's tracker table (SQLTrackerStore.SQLEvent), the schema created as Rasa's start does."""
    store = trackers.locate(settings)
    assert store is not None
    engine = create_engine(store.url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg2"))
    try:
        with engine.begin() as conn:
            if store.schema:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{store.schema}"'))
            table = store.events()
            table.metadata.create_all(conn)
            for row in events_of:
                conn.execute(insert(table).values(**row))
    finally:
        engine.dispose()
    return store
