"""The secure chat's credentials (issue 16), apart from handoff/store/models.py (same metadata).

A link token and a session secret are stored only as SHA-256 hashes: a copy of the database opens no one's chat.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models import Base
from handoff.store.types import UTCDateTime, utcnow


class SecureLink(Base):
    """A one-time link sent on LINE: spent on first open, revoked by a newer one, dead after `expires_at`."""

    __tablename__ = "secure_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))  # user, bot, system or a counsellor's name


class SecureSession(Base):
    """A browser that opened a link: the cookie's hash, the device it was opened on, its CSRF token, its lifetimes."""

    __tablename__ = "secure_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("secure_links.id"))
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    device_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of the opening browser's User-Agent
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)  # left, new_link, back_to_line
