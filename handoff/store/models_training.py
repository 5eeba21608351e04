"""Trainers' labels on misread bot turns (issue 14, item 7), apart from handoff/store/models.py (same metadata).

One label per user turn: a trainer on the review page says which intent the turn should have been read as. The
text itself stays in `messages`; `ycc training export-nlu` joins the two and masks the text on the way out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models import Base
from handoff.store.types import UTCDateTime, utcnow


class NluLabel(Base):
    __tablename__ = "nlu_labels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    intent: Mapped[str] = mapped_column(String(64))  # an intent of bot/domain, checked when it is set
    predicted: Mapped[str | None] = mapped_column(String(64), nullable=True)  # what NLU said then, for the export
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
