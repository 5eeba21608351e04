"""Messages the office sends first (issue 17): information deliveries to friends (item 1, ウ) with their LINE
requests, and counsellors' follow-up check-ins (item 8), as rows.

The database is the queue: a delivery scheduled for later, or interrupted by a restart or LINE's 429, is found here
by the worker and carried on. Each batch is one multicast request (at most 500 ids) with its own retry key fixed
when the batch is made, so a batch sent again after a crash is a 409 at LINE, never a second message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models import Base
from handoff.store.types import JSONType, UTCDateTime, utcnow


class Broadcast(Base):
    """One delivery: what is sent, to which segment, when, and how far it has got."""

    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    segment: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    silent: Mapped[bool] = mapped_column(Boolean, default=False)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # a values.BroadcastStatus
    recipients: Mapped[int] = mapped_column(Integer, default=0)  # counted when made; fixed again when sending starts
    sent: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # blocked the account before their batch went
    failed: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)  # LINE's status and message, no text
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_broadcasts_due", "status", "next_attempt_at"),)


class BroadcastBatch(Base):
    """One multicast request of a delivery: its recipients (LINE ids) and retry key never change once stored."""

    __tablename__ = "broadcast_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    recipients: Mapped[list[str]] = mapped_column(JSONType, default=list)
    retry_key: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending sent failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class FollowUp(Base):
    """One check-in message a counsellor schedules for a person who agreed to it (issue 17 item 8).

    Sent through the outbox (a push with its retry key, silently if chosen); the person's next message after it
    puts the conversation in the queue marked `follow_up`. One scheduled follow-up per conversation at a time.
    """

    __tablename__ = "follow_ups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    text: Mapped[str] = mapped_column(Text)
    silent: Mapped[bool] = mapped_column(Boolean, default=False)
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # a values.FollowUpStatus
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_follow_ups_conversation", "conversation_id", "status"),
                      Index("ix_follow_ups_due", "status", "send_at"))


class BroadcastImage(Base):
    """The one image a delivery may carry (issue 17 item 1), re-encoded without metadata, and its preview.

    Kept in the database so both web processes serve it; reached by an unguessable token under /about/media/
    (LINE fetches it from the public name, with no login). The URLs are fixed when the delivery is made.
    """

    __tablename__ = "broadcast_images"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(16))  # image/jpeg or image/png
    data: Mapped[bytes] = mapped_column(LargeBinary)
    preview: Mapped[bytes] = mapped_column(LargeBinary)  # always a JPEG
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    original_url: Mapped[str] = mapped_column(String(2000))
    preview_url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
