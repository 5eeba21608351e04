"""Console-only tables, kept apart from handoff/store/models.py (same Base, same metadata).

`TotpUse` remembers the last TOTP time step accepted per user, in the database rather than in process memory, so
a code cannot be replayed within its validity window even when several gateway workers serve the console
(ASVS 2.8.4). `LoginThrottle` is in the database for the same reason: a guesser whose requests land on different
workers still waits as long.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models import Base
from handoff.store.types import UTCDateTime, utcnow


class TotpUse(Base):
    __tablename__ = "console_totp_uses"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    counter: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LoginThrottle(Base):
    """Wrong passwords per (login name as typed, source address): the delay before that source may try again.

    Keyed by the typed name whether or not such a user exists, so throttling looks the same for every name.
    """

    __tablename__ = "console_login_throttle"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    retry_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
