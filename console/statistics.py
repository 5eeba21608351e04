"""The prefecture's monthly statistics (カ, issue 17 item 6), computed from the stored data for one JST month.

Breakdowns the prefectures publish for SNS consultation: friends, accesses in and out of hours, requests for a
counsellor and those answered (応答率), waiting time, duration, the people by their consented profile, topics, new
and returning, outcomes, referrals, crises, the survey and deliveries. Like the work log (console/worklog_report.py)
rows are fetched for the month's UTC range and put on JST days and hours in Python, so SQLite and PostgreSQL give
the same figures. Only counts and minutes come out: never text, never a LINE id. Section titles and definitions are
in console/data/statistics.yml; small cells are hidden by the renderers (console/statistics_book.py), not here, so
tests can assert the exact numbers.
"""

from __future__ import annotations

import math
import statistics as stats
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from console.actions import TOPICS
from console.statistics_extra import deliveries_sent, line_month_end, referral_rows, survey_rows
from console.statistics_rows import Row
from console.worklog_report import WAIT_STATES, OpenHours, month_range, next_month
from handoff.domain import profile
from handoff.domain.hours import HoursPolicy
from handoff.domain.survey import SurveyTexts
from handoff.settings import DATA_DIR
from handoff.store.models import Contact, Conversation, Escalation, Message, Record, StatusChange
from handoff.store.values import Direction, Sender

SECTIONS_FILE = Path(__file__).resolve().parent / "data" / "statistics.yml"
NOT_ANSWERED = "未回答"
DURATION_BANDS = ((10, "10分未満"), (30, "10〜30分"), (60, "30〜60分"), (90, "60〜90分"), (None, "90分以上"))
PROFILE_SECTIONS = ("age_band", "gender", "municipality", "care_recipients", "role")
RISK_LABELS = {"crisis": "危機（本人）", "emergency_other": "他の人の緊急", "concern": "心配"}


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    help: str
    rows: list[Row]

    def value(self, label: str) -> int | float | None:
        return next(r.value for r in self.rows if r.label == label)


@dataclass(frozen=True)
class Definitions:
    suppress_below: int
    titles: dict[str, tuple[str, str]]  # key → (title, help), in the file's order


def load_definitions(path: Path = SECTIONS_FILE) -> Definitions:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    titles = {str(s["key"]): (str(s["title"]), str(s.get("help", ""))) for s in raw.get("sections") or []}
    missing = set(BUILDERS) - set(titles)
    if missing:
        raise ValueError(f"{path}: sections without a title {sorted(missing)}")
    return Definitions(int(raw.get("suppress_below", 3)), titles)


@dataclass
class MonthStatistics:
    month: date
    sections: list[Section]
    definitions: Definitions

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


@dataclass
class Episode:
    """One request for a counsellor: from the first move into the queue until it leaves the queue/open states."""

    queued_at: datetime
    taken_at: datetime | None = None
    resolved_at: datetime | None = None


@dataclass
class _Month:
    """What the reads found; each section builder turns a part of it into rows."""

    follows: int = 0
    unfollows: int = 0
    messages: Counter[bool] = field(default_factory=Counter)  # in hours? → count
    people: dict[bool, set[int]] = field(default_factory=lambda: {True: set(), False: set()})
    writers: set[int] = field(default_factory=set)
    helped: set[int] = field(default_factory=set)  # a counsellor wrote to them, or they were queued
    flagged: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    episodes: list[tuple[Episode, bool]] = field(default_factory=list)  # (episode, began in hours)
    profiles: dict[int, dict[str, Any]] = field(default_factory=dict)
    returning: set[int] = field(default_factory=set)
    records: list[Record] = field(default_factory=list)
    cases: Counter[str] = field(default_factory=Counter)
    extra: dict[str, list[Row]] = field(default_factory=dict)


def episodes(history: list[StatusChange]) -> list[Episode]:
    """Requests in one conversation's ordered history, as the work log counts waits (a release is no new one)."""
    out: list[Episode] = []
    current: Episode | None = None
    for change in history:
        if change.to_status not in WAIT_STATES:
            if current is not None and change.to_status == "resolved" and current.taken_at is not None:
                current.resolved_at = change.at
            current = None
        elif current is None:
            if change.to_status == "queued":
                current = Episode(change.at)
                out.append(current)
        elif change.to_status == "open" and current.taken_at is None:
            current.taken_at = change.at
    return out


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile: the smallest value with at least 90% of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


async def month_statistics(session: AsyncSession, first: date, hours: HoursPolicy,
                           definitions: Definitions | None = None, survey: SurveyTexts | None = None
                           ) -> MonthStatistics:
    """`survey`: the survey's questions (Content.survey); by default those of the project's data/survey.yml."""
    definitions = definitions or load_definitions()
    survey = survey or SurveyTexts.load(DATA_DIR / "survey.yml")
    start, end = month_range(first)
    data = _Month()
    open_hours = OpenHours(hours)
    await _messages(session, start, end, open_hours, data)
    await _episodes(session, start, end, open_hours, data)
    await _people(session, start, data)
    data.records = list((await session.scalars(select(Record).where(
        Record.created_at >= start, Record.created_at < end).order_by(Record.id))).all())
    for level in (await session.scalars(select(Escalation.level).where(
            Escalation.opened_at >= start, Escalation.opened_at < end))).all():
        data.cases[level] += 1
    data.extra = {"line": await line_month_end(session, first, next_month(first)),
                  "referrals": await referral_rows(session, start, end),
                  "survey": await survey_rows(session, start, end, survey),
                  "deliveries": [Row("配信数", await deliveries_sent(session, start, end))]}
    sections = [Section(key, title, text, BUILDERS[key](data)) for key, (title, text) in definitions.titles.items()
                if key in BUILDERS]
    return MonthStatistics(first, sections, definitions)


async def _messages(session: AsyncSession, start: datetime, end: datetime, hours: OpenHours, data: _Month) -> None:
    rows = (await session.execute(
        select(Message.conversation_id, Message.direction, Message.sender, Message.kind, Message.event_at,
               Message.risk_level)
        .where(Message.event_at >= start, Message.event_at < end, Message.internal.is_(False),
               (Message.direction == Direction.IN) | (Message.sender == Sender.AGENT)))).all()
    for conversation_id, direction, _sender, kind, at, risk_level in rows:
        if direction != Direction.IN:
            data.helped.add(conversation_id)
        elif kind == "follow":
            data.follows += 1
        elif kind == "unfollow":
            data.unfollows += 1
        else:
            in_hours = hours.is_open(at)
            data.messages[in_hours] += 1
            data.people[in_hours].add(conversation_id)
            data.writers.add(conversation_id)
            if risk_level:
                data.flagged[risk_level].add(conversation_id)


async def _episodes(session: AsyncSession, start: datetime, end: datetime, hours: OpenHours, data: _Month) -> None:
    """Requests that began in the month, with their whole history (an answer may come the next month)."""
    began = select(StatusChange.conversation_id).where(
        StatusChange.at >= start, StatusChange.at < end, StatusChange.to_status == "queued")
    changes = (await session.scalars(select(StatusChange).where(StatusChange.conversation_id.in_(began))
                                     .order_by(StatusChange.conversation_id, StatusChange.at, StatusChange.id))).all()
    history: dict[int, list[StatusChange]] = defaultdict(list)
    for change in changes:
        history[change.conversation_id].append(change)
    for conversation_id, moves in history.items():
        for episode in episodes(moves):
            if start <= episode.queued_at < end:
                data.episodes.append((episode, hours.is_open(episode.queued_at)))
                data.helped.add(conversation_id)


async def _people(session: AsyncSession, start: datetime, data: _Month) -> None:
    if not data.writers:
        return
    writers = list(data.writers)
    for conversation_id, values, consent in (await session.execute(
            select(Conversation.id, Contact.profile, Contact.consent)
            .join(Contact, Contact.id == Conversation.contact_id).where(Conversation.id.in_(writers)))).all():
        data.profiles[conversation_id] = dict(values or {}) if consent else {}
    data.returning = set((await session.scalars(
        select(Message.conversation_id).distinct().where(
            Message.conversation_id.in_(writers), Message.direction == Direction.IN,
            Message.kind.not_in(("follow", "unfollow")), Message.event_at < start))).all())


def _friends(data: _Month) -> list[Row]:
    return [Row("友だち追加", data.follows), Row("ブロック", data.unfollows), *data.extra["line"]]


def _access(data: _Month) -> list[Row]:
    return [Row("受信メッセージ（時間内）", data.messages[True]), Row("受信メッセージ（時間外）", data.messages[False]),
            Row("書いた人（時間内）", len(data.people[True])), Row("書いた人（時間外）", len(data.people[False])),
            Row("書いた人（合計）", len(data.writers))]


def _response(data: _Month) -> list[Row]:
    in_hours = [e for e, during in data.episodes if during]
    answered = sum(1 for e in in_hours if e.taken_at is not None)
    off = [e for e, during in data.episodes if not during]
    rate = round(100 * answered / len(in_hours), 1) if in_hours else None
    return [Row("相談員への相談（時間内）", len(in_hours)), Row("うち応答", answered), Row("応答率（%）", rate, "rate"),
            Row("相談員への相談（時間外）", len(off)),
            Row("うち応答（時間外）", sum(1 for e in off if e.taken_at is not None))]


def _waiting(data: _Month) -> list[Row]:
    waits = [(e.taken_at - e.queued_at).total_seconds() / 60 for e, during in data.episodes
             if during and e.taken_at is not None]
    return [Row("対象の相談", len(waits)),
            Row("中央値（分）", round(stats.median(waits), 1) if waits else None, "minutes"),
            Row("90パーセンタイル（分）", round(p90(waits), 1) if waits else None, "minutes")]


def _duration(data: _Month) -> list[Row]:
    bands: Counter[str] = Counter()
    for episode, _ in data.episodes:
        if episode.taken_at is None or episode.resolved_at is None:
            continue
        minutes = (episode.resolved_at - episode.taken_at).total_seconds() / 60
        bands[next(label for limit, label in DURATION_BANDS if limit is None or minutes < limit)] += 1
    return [Row(label, bands[label]) for _, label in DURATION_BANDS]


def _profile_rows(field_name: str) -> Any:
    def build(data: _Month) -> list[Row]:
        counts: Counter[str] = Counter()
        for values in data.profiles.values():
            value = values.get(field_name)
            chosen = value if isinstance(value, list) else [value] if value else []
            counts.update(chosen or [NOT_ANSWERED])
        vocabulary = profile.FIELDS[field_name]
        order = list(vocabulary) if vocabulary else sorted(k for k in counts if k != NOT_ANSWERED)
        labels = dict(vocabulary or {})
        rows = [Row(labels.get(k, k), counts[k]) for k in order]
        rows += [Row(k, counts[k]) for k in sorted(counts) if k not in order and k != NOT_ANSWERED]
        return [*rows, Row(NOT_ANSWERED, counts[NOT_ANSWERED])]
    return build


def _topics(data: _Month) -> list[Row]:
    counts = Counter(t for r in data.records for t in dict.fromkeys(r.topics or []))
    return [Row(label, counts[key]) for key, label in TOPICS.items()]


def _returning(data: _Month) -> list[Row]:
    return [Row("新規", len(data.writers - data.returning)), Row("継続", len(data.writers & data.returning))]


def _outcomes(data: _Month) -> list[Row]:
    return [Row("相談記録", len(data.records)), Row("うちつなぎ先あり", sum(1 for r in data.records if r.referral)),
            Row("うちフォローアップ要", sum(1 for r in data.records if r.follow_up)),
            Row("ボットのみで対応（人）", len(data.writers - data.helped))]


def _risk(data: _Month) -> list[Row]:
    return [Row("危機対応ケース（本人の危険）", data.cases["crisis"]),
            Row("危機対応ケース（他の人の緊急）", data.cases["emergency_other"]),
            *(Row(f"{label}と判断された人", len(data.flagged[level])) for level, label in RISK_LABELS.items())]


def _extra(key: str) -> Any:
    return lambda data: data.extra[key]


BUILDERS: dict[str, Any] = {
    "friends": _friends, "access": _access, "response": _response, "waiting": _waiting, "duration": _duration,
    **{name: _profile_rows(name) for name in PROFILE_SECTIONS},
    "topics": _topics, "returning": _returning, "outcomes": _outcomes, "referrals": _extra("referrals"),
    "risk": _risk, "survey": _extra("survey"), "deliveries": _extra("deliveries"),
}
