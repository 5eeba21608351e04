"""The daily work log's figures (業務日誌, R21), computed from the stored conversation data for one month.

A day is an Asia/Tokyo calendar day (00:00–24:00 JST), whatever the server's zone: rows are fetched for the
month's UTC range and each is put on its JST date here in Python, so SQLite and PostgreSQL give the same answer
without date functions that differ between them. Only counts, durations and counsellors' display names come out:
never message text, never a LINE user id.

What the tables can honestly support, and what they cannot: follows and blocks are stored as `follow`/`unfollow`
messages, handoffs and take-overs as status changes, crises as escalations. There is no record of "a
conversation started" as such (one conversation per contact, reused), so the log counts the people who wrote
each day instead.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from console.duty_report import month_duty
from handoff.domain.hours import HoursPolicy
from handoff.store.models import Escalation, Message, Record, StatusChange, User
from handoff.store.models_worklog import WorklogNote
from handoff.store.types import utcnow
from handoff.store.values import Direction, Sender
from handoff.timeutil import TOKYO, to_tokyo

COLUMNS_FILE = Path(__file__).resolve().parent / "data" / "worklog.yml"
USER_KINDS_EXCLUDED = ("follow", "unfollow")  # stored as messages, but they are not something the user wrote
WAIT_STATES = ("queued", "open")  # a wait lasts while the conversation stays in these


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    help: str


def load_columns(path: Path = COLUMNS_FILE) -> list[Column]:
    """Headers and definitions live in a data file so the page and the workbook can never disagree."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    columns = [Column(str(c["key"]), str(c["label"]), str(c.get("help", ""))) for c in raw.get("columns") or []]
    unknown = {c.key for c in columns} - set(DayFigures.FIGURES)
    if unknown:
        raise ValueError(f"{path}: unknown column keys {sorted(unknown)}")
    return columns


class MonthError(ValueError):
    """A month given as text that is not YYYY-MM; the message shows a good one."""


def parse_month(text: str) -> date:
    """`2026-10` → date(2026, 10, 1)."""
    parts = text.strip().split("-")
    if len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2 or not all(p.isdigit() for p in parts):
        raise MonthError(f"month must look like 2026-10 (year-month), got {text!r}")
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or year < 2000:
        raise MonthError(f"no such month: {text!r}; expected e.g. 2026-10")
    return date(year, month, 1)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def month_of(at: datetime) -> date:
    """The JST month an aware moment falls in (at 08:30 on 1 Nov JST, UTC still says October)."""
    local = to_tokyo(at)
    return date(local.year, local.month, 1)


def month_range(first: date) -> tuple[datetime, datetime]:
    """[start, end) of a JST month as aware UTC datetimes."""
    start = datetime(first.year, first.month, 1, tzinfo=TOKYO)
    end_day = next_month(first)
    end = datetime(end_day.year, end_day.month, 1, tzinfo=TOKYO)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass
class DayFigures:
    """One row of the log. `writers` and the per-counsellor counts are per day; a month total sums them (延べ)."""

    day: date | None
    follows: int = 0
    unfollows: int = 0
    messages_in: int = 0
    off_hours: int = 0
    handoffs: int = 0
    crises: int = 0
    records: int = 0
    writer_ids: set[int] = field(default_factory=set)
    handled_ids: set[int] = field(default_factory=set)
    bot_ids: set[int] = field(default_factory=set)
    handed_ids: set[int] = field(default_factory=set)
    by_counsellor: Counter[str] = field(default_factory=Counter)
    on_duty: list[str] = field(default_factory=list)  # display names of who checked in that day
    staffing: list[str] = field(default_factory=list)  # what the staffing rule lacked during hours (duty_report)
    waits: list[float] = field(default_factory=list)  # seconds
    note: str = ""
    note_by: str = ""
    note_at: datetime | None = None
    totals: dict[str, int] = field(default_factory=dict)  # only on the month's total row

    FIGURES = ("follows", "unfollows", "writers", "messages_in", "off_hours", "handoffs", "handled", "handled_by",
               "bot_only", "crises", "wait_median", "wait_max", "records", "on_duty", "staffing")

    def value(self, key: str) -> Any:
        """A column's value for display: ints, minutes as float (None when there was no wait), names as text."""
        if key in self.totals:
            return self.totals[key]
        if key == "writers":
            return len(self.writer_ids)
        if key == "handled":
            return len(self.handled_ids)
        if key == "bot_only":
            return len((self.bot_ids & self.writer_ids) - self.handled_ids - self.handed_ids)  # not a mere greeting
        if key == "handled_by":
            return "、".join(f"{name} {n}" for name, n in sorted(self.by_counsellor.items(),
                                                                 key=lambda item: (-item[1], item[0])))
        if key == "on_duty":
            return "、".join(self.on_duty)
        if key == "staffing":
            return "・".join(self.staffing)
        if key == "wait_median":
            return round(statistics.median(self.waits) / 60, 1) if self.waits else None
        if key == "wait_max":
            return round(max(self.waits) / 60, 1) if self.waits else None
        return getattr(self, key)


@dataclass
class MonthLog:
    month: date
    days: list[DayFigures]
    total: DayFigures


def _total(days: list[DayFigures]) -> DayFigures:
    total = DayFigures(day=None)
    for key in ("writers", "handled", "bot_only"):
        total.totals[key] = sum(int(d.value(key)) for d in days)
    short = sum(1 for d in days if d.staffing)
    total.staffing = [f"{short}日"] if short else []
    for d in days:
        for name in ("follows", "unfollows", "messages_in", "off_hours", "handoffs", "crises", "records"):
            setattr(total, name, getattr(total, name) + getattr(d, name))
        total.by_counsellor.update(d.by_counsellor)
        total.waits.extend(d.waits)
    return total


class OpenHours:
    """`is_open(at)` for many moments: the day's window looked up once per JST day."""

    def __init__(self, policy: HoursPolicy) -> None:
        self.policy = policy
        self.windows: dict[date, Any] = {}

    def is_open(self, at: datetime) -> bool:
        local = to_tokyo(at)
        day = local.date()
        if day not in self.windows:
            self.windows[day] = self.policy.window_on(day)
        window = self.windows[day]
        return window is not None and window.open <= local.time().replace(tzinfo=None) < window.close


async def month_log(session: AsyncSession, first: date, hours: HoursPolicy, *, lines: int = 1,
                    now: datetime | None = None) -> MonthLog:
    """Every day of the JST month starting at `first`, with figures, notes and a total row; `lines` (YCC_LINES) and
    `now` are for the staffing rule (console/duty_report.py)."""
    start, end = month_range(first)
    days: dict[date, DayFigures] = {}
    day = first
    while day < next_month(first):
        days[day] = DayFigures(day=day)
        day += timedelta(days=1)

    def on(at: datetime) -> DayFigures:
        return days[to_tokyo(at).date()]

    await _messages(session, start, end, on, OpenHours(hours))
    for change in (await session.scalars(select(StatusChange).where(
            StatusChange.at >= start, StatusChange.at < end, StatusChange.to_status == "queued",
            StatusChange.from_status != "open"))).all():
        on(change.at).handoffs += 1
        on(change.at).handed_ids.add(change.conversation_id)
    for opened_at in (await session.scalars(select(Escalation.opened_at).where(
            Escalation.opened_at >= start, Escalation.opened_at < end))).all():
        on(opened_at).crises += 1
    for created_at in (await session.scalars(select(Record.created_at).where(
            Record.created_at >= start, Record.created_at < end))).all():
        on(created_at).records += 1
    for taken_at, seconds in await _waits(session, start, end):
        on(taken_at).waits.append(seconds)
    await _notes(session, first, days)
    for day, (names, missing) in (await month_duty(session, list(days), hours, lines, now or utcnow())).items():
        days[day].on_duty, days[day].staffing = names, missing
    ordered = list(days.values())
    return MonthLog(first, ordered, _total(ordered))


async def _messages(session: AsyncSession, start: datetime, end: datetime, on: Any, hours: OpenHours) -> None:
    rows = (await session.execute(
        select(Message.conversation_id, Message.direction, Message.sender, Message.kind, Message.event_at,
               User.display_name, User.name)
        .outerjoin(User, User.id == Message.agent_id)
        .where(Message.event_at >= start, Message.event_at < end, Message.internal.is_(False),
               (Message.direction == Direction.IN) | Message.sender.in_((Sender.AGENT, Sender.BOT)))
    )).all()
    counted: set[tuple[date, int, str]] = set()
    for conversation_id, direction, sender, kind, at, display_name, name in rows:
        figures = on(at)
        if direction == Direction.IN:
            if kind == "follow":
                figures.follows += 1
            elif kind == "unfollow":
                figures.unfollows += 1
            else:
                figures.messages_in += 1
                figures.writer_ids.add(conversation_id)
                if not hours.is_open(at):
                    figures.off_hours += 1
        elif sender == Sender.BOT:
            figures.bot_ids.add(conversation_id)
        else:
            figures.handled_ids.add(conversation_id)
            who = display_name or name or "（削除された相談員）"
            if (figures.day, conversation_id, who) not in counted:
                counted.add((figures.day, conversation_id, who))
                figures.by_counsellor[who] += 1


async def _waits(session: AsyncSession, start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """(moment a counsellor first took over, seconds waited) for take-overs within [start, end).

    Mirrors `Conversation.waiting_since`: a wait starts at the first move into the queue and ends at the first
    take-over; a release back to the queue and a second take-over belong to the same wait and are not counted
    twice. The earlier history of those conversations is read too, because a wait may begin the month before.
    """
    taken = select(StatusChange.conversation_id).where(
        StatusChange.at >= start, StatusChange.at < end, StatusChange.to_status == "open")
    changes = (await session.scalars(select(StatusChange).where(
        StatusChange.conversation_id.in_(taken), StatusChange.at < end)
        .order_by(StatusChange.conversation_id, StatusChange.at, StatusChange.id))).all()
    by_conversation: dict[int, list[StatusChange]] = defaultdict(list)
    for change in changes:
        by_conversation[change.conversation_id].append(change)
    out: list[tuple[datetime, float]] = []
    for history in by_conversation.values():
        since: datetime | None = None
        done = False
        for change in history:
            if change.to_status not in WAIT_STATES:
                since, done = None, False
            elif change.to_status == "queued":
                since = since or change.at
            elif since is not None and not done:
                done = True
                if change.at >= start:
                    out.append((change.at, (change.at - since).total_seconds()))
    return out


async def _notes(session: AsyncSession, first: date, days: dict[date, DayFigures]) -> None:
    rows = (await session.execute(
        select(WorklogNote, User.display_name, User.name).outerjoin(User, User.id == WorklogNote.author_id)
        .where(WorklogNote.day >= first, WorklogNote.day < next_month(first))
    )).all()
    for note, display_name, name in rows:
        figures = days[note.day]
        figures.note, figures.note_by, figures.note_at = note.text, display_name or name or "", note.updated_at
