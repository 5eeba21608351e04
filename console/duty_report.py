"""Who was on duty each day, and the days the staffing rule was not met (issue 17 item 9; R9, 3-(7)②).

The rule, checked at every moment of the day's consultation window (data/hours.yml): on duty there was at least
one counsellor with qualifications A and B, and at least one other person with C; and the lines staffed — the sum
of the on-duty people's `max_chats`, as in the capacity rule (handoff/domain/capacity.py) — were at least
`YCC_LINES`. A shift not yet checked out lasts until `now`. Today is judged up to `now`, days to come not at all,
and neither are days before the first check-in ever recorded (duty was not recorded then, so nothing can be said).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain.hours import HoursPolicy
from handoff.store.models import User
from handoff.store.models_duty import DutyShift
from handoff.timeutil import TOKYO, to_tokyo

NO_AB = "A・Bの相談員なし"
NO_C = "Cの相談員なし"
FEW_LINES = "回線数不足"


@dataclass(frozen=True)
class Shift:
    user_id: int
    name: str
    qualifications: frozenset[str]
    max_chats: int
    start: datetime
    end: datetime  # `now` for an open shift


def shortfalls(on: list[Shift], lines: int) -> list[str]:
    """What the people on duty at one moment lack, in a fixed order ([] = the rule is met)."""
    found = []
    ab = {s.user_id for s in on if {"A", "B"} <= s.qualifications}
    c = {s.user_id for s in on if "C" in s.qualifications}
    if not ab:
        found.append(NO_AB)
    if not c or (ab and not any(x != y for x in ab for y in c)):  # one A∧B∧C person alone is not two people
        found.append(NO_C)
    if sum(s.max_chats for s in on) < lines:
        found.append(FEW_LINES)
    return found


def day_shortfalls(shifts: list[Shift], start: datetime, end: datetime, lines: int) -> list[str]:
    """Every shortfall at any moment of [start, end): the moments where who is on duty changes are all checked."""
    cuts = sorted({start, end, *(s.start for s in shifts if start < s.start < end),
                   *(s.end for s in shifts if start < s.end < end)})
    found: list[str] = []
    for left, right in pairwise(cuts):
        on = [s for s in shifts if s.start <= left and s.end >= right]
        found += [f for f in shortfalls(on, lines) if f not in found]
    return [f for f in (NO_AB, NO_C, FEW_LINES) if f in found]


async def month_duty(session: AsyncSession, days: list[date], hours: HoursPolicy, lines: int, now: datetime
                     ) -> dict[date, tuple[list[str], list[str]]]:
    """Day → (names of who was on duty that JST day, shortfalls during its hours)."""
    first, last = days[0], days[-1]
    start = datetime(first.year, first.month, first.day, tzinfo=TOKYO)
    end = datetime(last.year, last.month, last.day, tzinfo=TOKYO) + timedelta(days=1)
    rows = (await session.execute(
        select(DutyShift, User.display_name, User.name, User.qualifications, User.max_chats)
        .join(User, User.id == DutyShift.user_id)
        .where(DutyShift.started_at < end, (DutyShift.ended_at.is_(None)) | (DutyShift.ended_at > start))
        .order_by(DutyShift.started_at, DutyShift.id))).all()
    shifts = [Shift(shift.user_id, display or name, frozenset((q or "").replace(",", "").replace(" ", "")),
                    max_chats, shift.started_at, min(shift.ended_at or now, now))
              for shift, display, name, q, max_chats in rows]
    recorded_from = await session.scalar(select(func.min(DutyShift.started_at)))
    out: dict[date, tuple[list[str], list[str]]] = {}
    for day in days:
        day_start = datetime(day.year, day.month, day.day, tzinfo=TOKYO)
        day_end = day_start + timedelta(days=1)
        names = list(dict.fromkeys(s.name for s in shifts if s.start < day_end and s.end > day_start))
        window = hours.window_on(day)
        missing: list[str] = []
        if window is not None and recorded_from is not None and to_tokyo(recorded_from).date() <= day:
            open_at = datetime.combine(day, window.open, tzinfo=TOKYO)
            close_at = min(datetime.combine(day, window.close, tzinfo=TOKYO), now)
            if open_at < close_at:
                missing = day_shortfalls([s for s in shifts if s.start < close_at and s.end > open_at],
                                         open_at, close_at, lines)
        out[day] = (names, missing)
    return out
