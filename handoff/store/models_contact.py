"""Contact details asked for in a crisis (issue 16.4), sealed at rest (handoff/domain/contact_details.py).

One row per request a counsellor makes; the young person's answers are one Fernet token in `sealed`, never
columns of their own, so no query, index, export or log can show them by accident.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models import Base
from handoff.store.types import UTCDateTime, utcnow


class ContactDetails(Base):
    __tablename__ = "contact_details"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="requested")  # requested | submitted
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
