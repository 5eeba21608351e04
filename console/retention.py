"""Keeping friends (エ, issue 17 item 3): LINE's daily figures beside our own follow and unfollow counts, and how many
new friends are still friends 30 and 90 days later.

LINE's figures (followers, targeted reaches, blocks) are fetched day by day by `ycc insight fetch` and stored, since
LINE answers only for dates it has counted and keeps them for a limited time. Our own counts come from the
follow/unfollow events stored as messages. A "new friend" of a month is a person whose first follow event falls
in it (a re-follow after a block is not new); they are "still a friend" after N days when their last follow or
unfollow event at that moment is a follow. Each person counts at N days only once N days have passed since they
joined; the page says how many that is, so a young cohort is not mistaken for a loyal one.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from console.worklog_report import month_range, next_month
from handoff.line.insight import FollowerCount
from handoff.store.models import Message
from handoff.store.models_insight import FollowerInsight
from handoff.store.values import Direction
from handoff.timeutil import to_tokyo

CHECKPOINTS = (30, 90)


@dataclass(frozen=True)
class Day:
    day: date
    line: FollowerInsight | None
    follows: int
    unfollows: int


@dataclass(frozen=True)
class Cohort:
    month: date
    new_friends: int
    judged: dict[int, int]  # days → how many have had that long
    still: dict[int, int]  # days → of those, how many are still friends

    def rate(self, days: int) -> float | None:
        return round(100 * self.still[days] / self.judged[days], 1) if self.judged[days] else None


async def store_count(session: AsyncSession, count: FollowerCount, now: datetime) -> FollowerInsight | None:
    """The one writer of `line_follower_insights`: a day's answer replaces an earlier one; errors store nothing."""
    if count.status == "error":
        return None
    row = await session.get(FollowerInsight, count.day)
    if row is None:
        row = FollowerInsight(day=count.day)
        session.add(row)
    row.status, row.followers, row.targeted_reaches, row.blocks = (count.status, count.followers,
                                                                   count.targeted_reaches, count.blocks)
    row.fetched_at = now
    return row


async def days_to_fetch(session: AsyncSession, today: date, days: int) -> list[date]:
    """The last `days` JST days before today not yet stored as ready (today is never ready at LINE)."""
    wanted = [today - timedelta(days=n) for n in range(days, 0, -1)]
    ready = set((await session.scalars(select(FollowerInsight.day).where(
        FollowerInsight.day.in_(wanted), FollowerInsight.status == "ready"))).all())
    return [d for d in wanted if d not in ready]


async def month_days(session: AsyncSession, first: date) -> list[Day]:
    start, end = month_range(first)
    ours: dict[date, Counter[str]] = defaultdict(Counter)
    for kind, at in (await session.execute(select(Message.kind, Message.event_at).where(
            Message.direction == Direction.IN, Message.kind.in_(("follow", "unfollow")),
            Message.event_at >= start, Message.event_at < end))).all():
        ours[to_tokyo(at).date()][kind] += 1
    stored = {row.day: row for row in (await session.scalars(select(FollowerInsight).where(
        FollowerInsight.day >= first, FollowerInsight.day < next_month(first)))).all()}
    out, day = [], first
    while day < next_month(first):
        out.append(Day(day, stored.get(day), ours[day]["follow"], ours[day]["unfollow"]))
        day += timedelta(days=1)
    return out


async def cohorts(session: AsyncSession, months: list[date], now: datetime) -> list[Cohort]:
    """One cohort per month, from the whole follow/unfollow history of the people first following in them."""
    history: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for conversation_id, kind, at in (await session.execute(
            select(Message.conversation_id, Message.kind, Message.event_at).where(
                Message.direction == Direction.IN, Message.kind.in_(("follow", "unfollow")))
            .order_by(Message.conversation_id, Message.event_at, Message.id))).all():
        history[conversation_id].append((at, kind))
    out = []
    for first in months:
        start, end = month_range(first)
        judged, still = Counter[int](), Counter[int]()
        members = 0
        for events in history.values():
            joined = next((at for at, kind in events if kind == "follow"), None)
            if joined is None or not start <= joined < end:
                continue
            members += 1
            for days in CHECKPOINTS:
                moment = joined + timedelta(days=days)
                if moment > now:
                    continue
                judged[days] += 1
                last = [kind for at, kind in events if at <= moment][-1]
                still[days] += last == "follow"
        out.append(Cohort(first, members, {d: judged[d] for d in CHECKPOINTS}, {d: still[d] for d in CHECKPOINTS}))
    return out
