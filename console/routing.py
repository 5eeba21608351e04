"""Who should take a conversation (R9): a suggestion shown in the queue, never an automatic assignment.

Career questions go best to a counsellor with qualification C (HR / career consultant); care questions to one who
is both A (support organisation) and B (own caring experience). "Free" means on duty and with room under their own
limit of simultaneous chats (the capacity rule: handoff/domain/capacity.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain import capacity

CAREER_WORDS = ("career", "job", "work", "進路", "就職", "仕事", "受験", "進学")
CAREER_SITUATIONS = {"job_seeking"}


@dataclass(frozen=True)
class Counsellor:
    id: int
    name: str
    display_name: str
    qualifications: str
    open_chats: int
    max_chats: int

    @property
    def free(self) -> bool:
        return capacity.has_room(self.open_chats, self.max_chats)


def topic_of(profile: dict[str, Any] | None, queue_reason: str | None) -> str:
    """`career` or `care`: from the consented profile's topic words, situation, or the queue reason."""
    profile = profile or {}
    words = " ".join(str(v) for v in (profile.get("topic"), profile.get("topics"), queue_reason) if v)
    if any(word in words for word in CAREER_WORDS) or profile.get("situation") in CAREER_SITUATIONS:
        return "career"
    return "care"


async def online_counsellors(session: AsyncSession, idle_seconds: int) -> list[Counsellor]:
    """Counsellors on duty (handoff.domain.capacity.on_duty), with how many chats they hold now."""
    held = await capacity.open_chats(session)
    return [Counsellor(u.id, u.name, u.display_name or u.name, u.qualifications or "", count, u.max_chats)
            for u, count in await capacity.on_duty(session, idle_seconds, held)]


def suggest(topic: str, counsellors: list[Counsellor]) -> Counsellor | None:
    """Best free counsellor for the topic, least busy first; any free counsellor if no qualified one is."""
    free = sorted((c for c in counsellors if c.free), key=lambda c: (c.open_chats, c.id))
    if topic == "career":
        preferred = [c for c in free if "C" in c.qualifications]
    else:
        preferred = [c for c in free if "A" in c.qualifications and "B" in c.qualifications]
    if preferred:
        return preferred[0]
    return free[0] if free else None
