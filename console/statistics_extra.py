"""Statistics sections read from the tables of other features: LINE's figures, referrals, the survey and deliveries.

Deliveries belong to the broadcasts feature (issue 17 item 1), which may or may not be in this build: the count is
read from its `broadcasts` table only when the table exists, as rows whose `status` is `sent` (or `done`) with a
finish time (`finished_at`, else `sent_at`) in the month; without the table the figure is 0, as documented on the
definitions sheet.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy import String, column, func, inspect, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from console.referrals import KINDS, OUTCOMES
from console.statistics_rows import Row
from console.survey_results import answer_rows, survey_month
from handoff.domain.survey import SurveyTexts
from handoff.store.models_insight import FollowerInsight
from handoff.store.models_referral import Referral
from handoff.store.types import UTCDateTime

DELIVERIES_TABLE = "broadcasts"
DELIVERY_DONE = ("sent", "done")
DELIVERY_TIME_COLUMNS = ("finished_at", "sent_at")


async def deliveries_sent(session: AsyncSession, start: datetime, end: datetime) -> int:
    def count(sync: Session) -> int:
        connection = sync.connection()
        inspector = inspect(connection)
        if not inspector.has_table(DELIVERIES_TABLE):
            return 0
        names = {c["name"] for c in inspector.get_columns(DELIVERIES_TABLE)}
        at = next((name for name in DELIVERY_TIME_COLUMNS if name in names), None)
        if at is None or "status" not in names:
            return 0
        rows = table(DELIVERIES_TABLE, column("status", String()), column(at, UTCDateTime()))
        return int(connection.execute(select(func.count()).select_from(rows).where(
            rows.c.status.in_(DELIVERY_DONE), rows.c[at] >= start, rows.c[at] < end)).scalar_one())

    return await session.run_sync(count)


async def line_month_end(session: AsyncSession, first: date, end_day: date) -> list[Row]:
    """LINE's own figures on the month's last counted day (`ycc insight fetch`); empty cells if none was fetched."""
    row = await session.scalar(select(FollowerInsight).where(
        FollowerInsight.day >= first, FollowerInsight.day < end_day, FollowerInsight.status == "ready")
        .order_by(FollowerInsight.day.desc()).limit(1))
    values = (row.followers, row.targeted_reaches, row.blocks) if row else (None, None, None)
    labels = ("LINEの友だち追加の累計（月末）", "LINEのターゲットリーチ（月末）", "LINEのブロック（月末）")
    return [Row(label, value, "total") for label, value in zip(labels, values, strict=True)]


async def referral_rows(session: AsyncSession, start: datetime, end: datetime) -> list[Row]:
    """Referrals recorded in the month, by kind and by their outcome as it stands now (まだ = none yet)."""
    rows = (await session.execute(select(Referral.kind, Referral.outcome).where(
        Referral.created_at >= start, Referral.created_at < end))).all()
    kinds = Counter(kind for kind, _ in rows)
    outcomes = Counter(outcome or "open" for _, outcome in rows)
    return [Row("つなぎ（合計）", len(rows)), *(Row(f"種類：{label}", kinds[key]) for key, label in KINDS.items()),
            *(Row(f"結果：{label}", outcomes[key]) for key, label in {**OUTCOMES, "open": "まだ"}.items())]


async def survey_rows(session: AsyncSession, start: datetime, end: datetime, texts: SurveyTexts) -> list[Row]:
    """Counts only: the comments' text never reaches the statistics."""
    month = await survey_month(session, start, end)
    return [Row(label, count) for label, count in answer_rows(month, texts)]
