"""Information deliveries to friends (issue 17 item 1, ウ): the delivery and its LINE requests, as rows.

The database is the queue: a delivery scheduled for later, or interrupted by a restart or LINE's 429, is found here
by the worker and carried on. Each batch is one multicast request (at most 500 ids) with its own retry key fixed
when the batch is made, so a batch sent again after a crash is a 409 at LINE, never a second message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
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
