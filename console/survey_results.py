"""The survey's results (issue 17 item 5) for one JST month: counts per answer, and the free comments.

Read by the console's アンケート page (supervisors: the comments are what young people wrote, so every view is
audited like a record) and, counts only, by the monthly statistics (console/statistics_extra.py). A comment is read
from its message, so a message the person took back (取り消し) is shown as taken back, never resurrected.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from console.auth import NotFound, audit, guarded
from console.render import render
from console.roles import Role
from console.worklog_report import MonthError, month_of, month_range, next_month, parse_month, previous_month
from handoff.domain.survey import SurveyTexts
from handoff.store.models import Message
from handoff.store.models_survey import Survey
from handoff.store.types import utcnow

bp = Blueprint("console_survey", url_prefix="/console")


@dataclass
class SurveyMonth:
    sent: int = 0
    answered: int = 0  # at least one answer
    after_crisis: int = 0
    commented: int = 0
    answers: dict[str, Counter[str]] = field(default_factory=dict)  # question key → choice id → count
    comments: list[tuple[datetime, str | None]] = field(default_factory=list)  # (when, text; None = taken back)


async def survey_month(session: AsyncSession, start: datetime, end: datetime, *, comments: bool = False
                       ) -> SurveyMonth:
    """Surveys sent in [start, end), with their answers; the comments' text only when asked for."""
    out = SurveyMonth()
    rows = (await session.scalars(select(Survey).where(Survey.sent_at >= start, Survey.sent_at < end)
                                  .order_by(Survey.id))).all()
    comment_ids: list[int] = []
    for row in rows:
        out.sent += 1
        out.after_crisis += row.after_crisis
        out.answered += bool(row.answers) or row.comment_message_id is not None
        for key, choice in (row.answers or {}).items():
            out.answers.setdefault(key, Counter())[choice] += 1
        if row.comment_message_id is not None:
            comment_ids.append(row.comment_message_id)
    out.commented = len(comment_ids)
    if comments and comment_ids:
        out.comments = [(at, text) for at, text in (await session.execute(
            select(Message.event_at, Message.text).where(Message.id.in_(comment_ids))
            .order_by(Message.event_at))).all()]
    return out


def answer_rows(month: SurveyMonth, texts: SurveyTexts) -> list[tuple[str, int]]:
    """(label, count) in the order of data/survey.yml, for the page and the statistics."""
    rows = [("送ったアンケート", month.sent), ("答えがあったアンケート", month.answered)]
    for question in texts.questions:
        counts = month.answers.get(question.key, Counter())
        rows += [(f"{question.label}：{label}", counts[choice]) for choice, label in question.choices.items()]
    rows.append(("ひとことあり", month.commented))
    return rows


def _month(text: str) -> date:
    try:
        return parse_month(text)
    except MonthError:
        raise NotFound() from None


@bp.get("/survey", name="survey_home")
@guarded(Role.SUPERVISOR)
async def survey_home(request: Request) -> HTTPResponse:
    return redirect(f"/console/survey/{month_of(utcnow()):%Y-%m}")


@bp.get("/survey/<month:str>", name="survey_page")
@guarded(Role.SUPERVISOR)
async def survey_page(request: Request, month: str) -> HTTPResponse:
    first = _month(month)
    start, end = month_range(first)
    async with request.app.ctx.db.session() as session:
        results = await survey_month(session, start, end, comments=True)
        audit(session, request.ctx.principal.name, "view_survey", "survey", f"{first:%Y-%m}",
              detail=f"comments={results.commented}")
    this_month = month_of(utcnow())
    return render(request, "survey.html", {
        "title": f"相談後アンケート {first.year}年{first.month}月", "month": first, "results": results,
        "rows": answer_rows(results, request.app.ctx.content.survey), "previous": previous_month(first),
        "next": next_month(first) if first < this_month else None,
    })
