"""The post-consultation survey (issue 17 item 5): one row per survey sent after a counsellor resolved a talk.

The free comment is not copied here: `comment_message_id` points at the user's message, so an unsent (取り消し)
message or a purge removes the comment with it, and the text lives in one place only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models import Base
from handoff.store.types import JSONType, UTCDateTime


class Survey(Base):
    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # The question waiting for an answer (a key of data/survey.yml's questions, "comment"), or "done".
    step: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # question key → choice id
    comment_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)  # the counsellor chose to send it
    after_crisis: Mapped[bool] = mapped_column(Boolean, default=False)  # sent after a crisis, by that choice
