"""Referrals to municipal offices, 児童相談所 and support groups (issue 17 item 7, オ, 3-(7)③).

A row is made only with the person's consent, and says what may be shared (`shared`, ids of console/referrals.py's
SHAREABLE) and to whom (`recipient`, a name from data/services.yml, copied so a later edit of the file does not
rewrite history). `outcome` stays null while the referral is open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from handoff.store.models import Base
from handoff.store.types import JSONType, UTCDateTime


class Referral(Base):
    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # municipal | child_guidance | support_group | other
    service_kind: Mapped[str] = mapped_column(String(64))  # the services.yml kind, e.g. こども家庭センター
    recipient: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str | None] = mapped_column(String(32), nullable=True)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    shared: Mapped[list[str]] = mapped_column(JSONType, default=list)
    note: Mapped[str] = mapped_column(Text, default="")  # the counsellor's note for the receiving office
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
