"""Tables of the gateway, in Chatwoot's vocabulary (Contact, Conversation, Message).

The inbox and outbox tables make the pipeline durable: an event is stored before LINE gets its 200, and an
outgoing message is stored before it is sent, so a crash at any point loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from handoff.store.types import JSONType, UTCDateTime, utcnow


class Base(DeclarativeBase):
    pass


class Contact(Base):
    """A LINE user. `key` is the opaque id Rasa and the console use, so the LINE id stays in one place."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    line_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    consent: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    eligibility: Mapped[str] = mapped_column(String(16), default="unknown")
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ConsentEvent(Base):
    """Every grant and withdrawal with its time (R20): the current value alone cannot prove what was agreed."""

    __tablename__ = "consent_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(32), default="bot")


class User(Base):
    """A console account: counsellor, supervisor, admin or trainer."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(16))
    qualifications: Mapped[str] = mapped_column(String(8), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    recovery_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    max_chats: Mapped[int] = mapped_column(Integer, default=3)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Conversation(Base):
    """One per contact; its status moves only through `handoff.domain.conversations.transition`."""

    __tablename__ = "conversations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="bot")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    crisis: Mapped[bool] = mapped_column(Boolean, default=False)  # kept equal to risk == "crisis"
    # Risk level (crisis | concern | None) and its category id, set only by handoff.domain.conversations.raise_risk.
    risk: Mapped[str | None] = mapped_column(String(16), nullable=True)
    risk_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    queue_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    unread: Mapped[int] = mapped_column(Integer, default=0)
    # Where counsellor and bot replies go (issue 16): "line", or "web" while the user is in the secure chat
    # (handoff/domain/securechat.py moves it, recorded in the audit log); LINE then gets only a content-free notice.
    channel: Mapped[str] = mapped_column(String(8), default="line", server_default="line")
    notice_silent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # notices without sound
    notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # the last notice sent to LINE

    contact: Mapped[Contact] = relationship(lazy="joined")
    assignee: Mapped[User | None] = relationship(lazy="joined")

    __table_args__ = (Index("ix_conversations_queue", "status", "priority", "waiting_since"),)


class StatusChange(Base):
    """Who moved a conversation, when and why: the audit trail of the transition table."""

    __tablename__ = "status_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Message(Base):
    """A turn: user, bot, counsellor or system; `text` is null for content we refuse to receive (R12)."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    sender: Mapped[str] = mapped_column(String(8))  # user | bot | agent | system
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # text sticker image video audio file location postback note …
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    quick_replies: Mapped[list[dict[str, str]] | None] = mapped_column(JSONType, nullable=True)
    line_message_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    mark_as_read_token: Mapped[str | None] = mapped_column(String(255), nullable=True)
    event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), nullable=True)
    delivery: Mapped[str | None] = mapped_column(String(16), nullable=True)
    unsent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    crisis: Mapped[bool] = mapped_column(Boolean, default=False)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the safety screen (or the bot's crisis intent) flagged on this user message: the flag counsellors review.
    risk_level: Mapped[str | None] = mapped_column(String(16), nullable=True)  # crisis | emergency_other | concern
    risk_category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # What the bot's NLU read this user turn as (bot/channels/gateway.py's header), for the trainer page.
    nlu_intent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    nlu_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The channel the turn travelled on: "line" or "web" (the secure chat, issue 16).
    channel: Mapped[str] = mapped_column(String(8), default="line", server_default="line")


class InboxEvent(Base):
    """A LINE webhook event as received; `webhook_event_id` is unique so LINE's redeliveries are no-ops."""

    __tablename__ = "inbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    source_key: Mapped[str] = mapped_column(String(80), index=True)
    event_type: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending bot done ignored failed
    rasa_event: Mapped[str | None] = mapped_column(String(16), nullable=True)  # set when stage 2 must ask Rasa
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(String(255), nullable=True)

    __table_args__ = (Index("ix_inbox_pending", "status", "id"),)


class Outbox(Base):
    """A message (or LINE call) waiting to be sent; retried until LINE accepts it or it cannot be delivered."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="message")  # message | leave_group | leave_room
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), nullable=True)
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    reply_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reply_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    retry_key: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending sent failed undeliverable
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_via: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # LINE's notificationDisabled for the push (a follow-up on a phone the family may see; issue 17.8)
    silent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (Index("ix_outbox_pending", "status", "id"),)


class DeliveryAttempt(Base):
    """One call to LINE with LINE's `x-line-request-id`, so a support inquiry to LINE can cite it."""

    __tablename__ = "delivery_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    method: Mapped[str] = mapped_column(String(8))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(String(255), nullable=True)


class Escalation(Base):
    """A crisis case (R13): opened at once, closed only with its checklist done or a recorded reason."""

    __tablename__ = "escalations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(16))  # lexicon | nlu | counsellor
    level: Mapped[str] = mapped_column(String(16), default="crisis", server_default="crisis")  # or emergency_other
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)  # what raised it
    in_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    checklist: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    close_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class SafetyFeedback(Base):
    """A counsellor's verdict on a flag (issue 13): a false alarm or another level, with a reason. Trainers export
    these as labelled examples (`ycc safety export-feedback`); the message text is read from `messages` then."""

    __tablename__ = "safety_feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), nullable=True)
    flagged_level: Mapped[str] = mapped_column(String(16))
    flagged_category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    level: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the counsellor's level; None = false alarm
    reason: Mapped[str] = mapped_column(String(32))  # an id from console.safety_feedback.REASONS
    note: Mapped[str] = mapped_column(String(255), default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Alert(Base):
    """A staff alert to YCC_ALERT_WEBHOOK_URL; stored so a down alert endpoint delays but never drops it."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    in_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending sent failed skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)


class Record(Base):
    """The consultation record written when a counsellor resolves a conversation (R19, R20)."""

    __tablename__ = "records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    topics: Mapped[list[str]] = mapped_column(JSONType, default=list)
    care_recipients: Mapped[list[str]] = mapped_column(JSONType, default=list)
    referral: Mapped[str | None] = mapped_column(Text, nullable=True)
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[str] = mapped_column(Text, default="")


class ConsoleSession(Base):
    """Server-side console session, so logout and disabling a user end it at once."""

    __tablename__ = "console_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    csrf_token: Mapped[str] = mapped_column(String(64))
    second_factor_done: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(Base):
    """Bearer token for the JSON API, acting as the user it belongs to; only a hash is stored.

    `user_id` is None only for tokens made before tokens had owners: they keep `role` but see nothing scoped to a
    person (console/auth.py).
    """

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="supervisor")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditLog(Base):
    """Who read or changed which record, and every forbidden attempt (R24, R30)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    detail: Mapped[str | None] = mapped_column(String(255), nullable=True)


class RosterChange(Base):
    """Roster history for the prefecture (R10): every account created, changed or disabled."""

    __tablename__ = "roster_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    change: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    actor: Mapped[str] = mapped_column(String(64))
