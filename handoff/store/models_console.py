"""Console-only tables, kept apart from handoff/store/models.py (same Base, same metadata).

`TotpUse` remembers the last TOTP time step accepted per user, in the database rather than in process memory, so
a code cannot be replayed within its validity window even when several gateway workers serve the console
(ASVS 2.8.4).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models import Base
from handoff.store.types import UTCDateTime, utcnow


class TotpUse(Base):
    __tablename__ = "console_totp_uses"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    counter: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
