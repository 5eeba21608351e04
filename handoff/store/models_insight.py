"""LINE's daily friend figures for the account (issue 17 item 3), kept as fetched by `ycc insight fetch`.

One row per JST day; a day LINE had not counted yet is stored `unready` and fetched again on the next run.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models import Base
from handoff.store.types import UTCDateTime


class FollowerInsight(Base):
    __tablename__ = "line_follower_insights"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # ready | unready | out_of_service
    followers: Mapped[int | None] = mapped_column(Integer, nullable=True)
    targeted_reaches: Mapped[int | None] = mapped_column(Integer, nullable=True)
    blocks: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
