"""The 友だちの継続 page and `ycc insight fetch` (issue 17 item 3); the figures are console/retention.py's.

The page is for supervisors and admins (counts only, like the work log's figures). The command is run once a day
(e.g. by a systemd timer or cron at 10:00 JST, when LINE has counted the day before); it fetches the last `--days`
days LINE has not answered `ready` for yet, so a missed run is caught up by the next one.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from console.auth import NotFound, audit, guarded
from console.render import render
from console.retention import CHECKPOINTS, cohorts, days_to_fetch, month_days, store_count
from console.roles import WORKLOG_READERS
from console.worklog_report import MonthError, month_of, next_month, parse_month, previous_month
from handoff.store.types import utcnow
from handoff.timeutil import to_tokyo

bp = Blueprint("console_retention", url_prefix="/console")
COHORT_MONTHS = 6


@bp.get("/retention", name="retention_home")
@guarded(*WORKLOG_READERS)
async def retention_home(request: Request) -> HTTPResponse:
    return redirect(f"/console/retention/{month_of(utcnow()):%Y-%m}")


@bp.get("/retention/<month:str>", name="retention_page")
@guarded(*WORKLOG_READERS)
async def retention_page(request: Request, month: str) -> HTTPResponse:
    try:
        first = parse_month(month)
    except MonthError:
        raise NotFound() from None
    months = [first]
    while len(months) < COHORT_MONTHS:
        months.insert(0, previous_month(months[0]))
    async with request.app.ctx.db.session() as session:
        days = await month_days(session, first)
        groups = await cohorts(session, months, utcnow())
        audit(session, request.ctx.principal.name, "view_retention", "retention", f"{first:%Y-%m}")
    this_month = month_of(utcnow())
    return render(request, "retention.html", {
        "title": f"友だちの継続 {first.year}年{first.month}月", "month": first, "days": days, "cohorts": groups,
        "checkpoints": CHECKPOINTS, "previous": previous_month(first),
        "next": next_month(first) if first < this_month else None,
    })


async def fetch(days: int) -> tuple[int, int, list[str]]:
    """(days stored ready, days still unready, errors) for the last `days` days."""
    from console.cli import with_db
    from handoff.line.insight import InsightClient
    from handoff.settings import settings_or_exit

    settings = settings_or_exit()
    client = InsightClient(settings.effective_line_api_base_url, settings.effective_access_token)
    try:
        async def work(session: Any) -> tuple[int, int, list[str]]:
            ready = unready = 0
            errors = []
            for day in await days_to_fetch(session, to_tokyo(utcnow()).date(), days):
                count = await client.followers(day)
                await store_count(session, count, utcnow())
                if count.status == "error":
                    errors.append(f"{day}: LINE answered {count.http_status} {count.error or ''}".rstrip())
                elif count.status == "ready":
                    ready += 1
                else:
                    unready += 1
            audit(session, "cli", "fetch_insight", "retention", None, detail=f"ready={ready} unready={unready} "
                                                                             f"errors={len(errors)}")
            return ready, unready, errors

        return await with_db(work)  # type: ignore[no-any-return]
    finally:
        await client.close()


def fetch_command(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= 365:
        print("ycc insight fetch: --days must be 1 to 365", file=sys.stderr)
        return 2
    ready, unready, errors = asyncio.run(fetch(args.days))
    for error in errors:
        print(f"ycc insight fetch: {error}", file=sys.stderr)
    print(f"stored {ready} day(s); {unready} not counted by LINE yet")
    return 1 if errors else 0
