"""The daily work log's one stored part (R21): the supervisor's note per day (特記事項).

The day's figures are not stored: they are computed from the conversation tables whenever the log is shown or
exported, so a late correction (a record written the next morning) is never out of step with the log.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models import Base
from handoff.store.types import UTCDateTime, utcnow


class WorklogNote(Base):
    """One note per Asia/Tokyo calendar day; the last writer and time are kept, each save is also audited."""

    __tablename__ = "worklog_notes"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
