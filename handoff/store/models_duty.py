"""Duty check-ins (issue 17 item 9, R9's staffing rule 3-(7)②): who was on duty when, as they said in the console.

A shift is open while `ended_at` is null; one person has at most one open shift (console/duty.py checks it). Being
signed in is not being on duty: a supervisor reading records at night is not staffing the window.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models import Base
from handoff.store.types import UTCDateTime


class DutyShift(Base):
    __tablename__ = "duty_shifts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
