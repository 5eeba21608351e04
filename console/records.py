"""Consultation records for supervisors (R19, R30): list, view, CSV export, each view and export audited.

Record pages carry Cache-Control: no-store (set for every console page) so nothing stays in a shared browser.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from sqlalchemy.ext.asyncio import AsyncSession

from console import reads
from console.actions import CARE_RECIPIENTS, TOPICS
from console.auth import NotFound, audit, guarded
from console.cells import csv_row
from console.render import SECURITY_HEADERS, jst, render
from console.roles import Role
from handoff.store.models import Record, User

bp = Blueprint("console_records", url_prefix="/console")
PAGE = 50


def _labels(values: list[str], table: dict[str, str]) -> str:
    return "、".join(table.get(v, v) for v in values or [])


@bp.get("/records", name="records_page")
@guarded(Role.SUPERVISOR)
async def records_page(request: Request) -> HTTPResponse:
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    async with request.app.ctx.db.session() as session:
        total, rows = await reads.record_page(session, PAGE, (page - 1) * PAGE)
        audit(session, request.ctx.principal.name, "view_record_list", "record", None, detail=f"page={page}")
    items = [{"record": r, "author": name, "topics": _labels(r.topics, TOPICS),
              "care": _labels(r.care_recipients, CARE_RECIPIENTS)} for r, name in rows]
    return render(request, "records.html", {"title": "相談記録", "items": items, "page": page,
                                            "pages": max(1, (total + PAGE - 1) // PAGE), "total": total})


@bp.get("/records/<record_id:int>", name="record_page")
@guarded(Role.SUPERVISOR)
async def record_page(request: Request, record_id: int) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        record = await session.get(Record, record_id)
        if record is None:
            raise NotFound()
        author = await session.get(User, record.author_id) if record.author_id else None
        audit(session, request.ctx.principal.name, "view_record", "record", record_id)
    return render(request, "record.html", {
        "title": f"相談記録 #{record_id}", "record": record, "author": author,
        "topics": _labels(record.topics, TOPICS), "care": _labels(record.care_recipients, CARE_RECIPIENTS),
    })


@bp.get("/records.csv", name="records_csv")
@guarded(Role.SUPERVISOR)
async def records_csv(request: Request) -> HTTPResponse:
    """All records as CSV (UTF-8 with BOM so Excel opens the Japanese correctly)."""
    async with request.app.ctx.db.session() as session:
        rows = await export_rows(session)
        audit(session, request.ctx.principal.name, "export_records", "record", None, detail=f"rows={len(rows)}")
    return csv_response(csv_text(rows), "records.csv")


def csv_text(rows: list[list[Any]]) -> str:
    """The export as CSV text (UTF-8 BOM first); free text is never run as a formula by a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_HEADERS)
    writer.writerows(csv_row(row) for row in rows)
    return "\ufeff" + buffer.getvalue()


EXPORT_HEADERS = ["記録ID", "相談ID", "記録日時", "記録者", "相談内容", "ケアの相手", "つなぎ先", "フォローアップ",
                  "概要"]


async def export_rows(session: AsyncSession, since: datetime | None = None, until: datetime | None = None
                      ) -> list[list[Any]]:
    """Records as export rows (ids, labels, author's login name, summary; no LINE id), oldest first.

    Shared by the CSV and the monthly work log workbook (R21) so the prefecture sees one format.
    """
    return [[record.id, record.conversation_id, jst(record.created_at), author or "",
             _labels(record.topics, TOPICS), _labels(record.care_recipients, CARE_RECIPIENTS),
             record.referral or "", "要" if record.follow_up else "不要", record.summary]
            for record, author in await reads.records_between(session, since, until)]


def csv_response(text: str, filename: str) -> HTTPResponse:
    response = raw(text.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
