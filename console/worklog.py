"""業務日誌 (R21): the month's daily figures with the supervisor's note per day, and the monthly file for the
prefecture, protected by a password the supervisor types.

Who: supervisors read, write notes and download; admins may read the figures and notes (they carry counts and
counsellors' names, not consultations) but not download, because the file holds the consultation records, which
only supervisors may read (console/records.py). Every view, note and download is audited (R24, R30); the password
never is, and it is not kept anywhere: the supervisor tells the prefecture by another channel (phone, in person).

Why a typed password rather than one the server makes up: the prefecture and the operator agree on it in
advance, so a monthly file can be opened without a second message that could go astray with it.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw, redirect

from console import security
from console.auth import NotFound, audit, guarded
from console.render import SECURITY_HEADERS, render
from console.roles import WORKLOG_READERS, Role
from console.worklog_book import ascii_filename, encrypted_file, filename, month_contents
from console.worklog_report import (
    MonthError,
    month_log,
    month_of,
    next_month,
    parse_month,
    previous_month,
)
from handoff.domain.hours import WEEKDAY_JA
from handoff.store.models_worklog import WorklogNote
from handoff.store.types import utcnow

bp = Blueprint("console_worklog", url_prefix="/console")
NOTE_LIMIT = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month(text: str) -> date:
    try:
        return parse_month(text)
    except MonthError:
        raise NotFound() from None


async def _page(request: Request, month: date, *, error: str | None = None, saved: str | None = None,
                status: int = 200) -> HTTPResponse:
    columns = request.app.ctx.worklog_columns
    async with request.app.ctx.db.session() as session:
        log = await month_log(session, month, request.app.ctx.hours, lines=request.app.ctx.settings.lines)
        audit(session, request.ctx.principal.name, "view_worklog", "worklog", f"{month:%Y-%m}")
    this_month = month_of(utcnow())
    hours = request.app.ctx.hours
    return render(request, "worklog.html", {
        "title": f"業務日誌 {month.year}年{month.month}月", "month": month, "log": log, "columns": columns,
        "previous": previous_month(month), "next": next_month(month) if month < this_month else None,
        "this_month": this_month, "error": error, "saved": saved, "note_limit": NOTE_LIMIT,
        "can_write": request.ctx.principal.role == Role.SUPERVISOR, "min_password": security.MIN_PASSWORD_LENGTH,
        "open_days": {d.day for d in log.days if hours.window_on(d.day)}, "weekdays": WEEKDAY_JA,
    }, status=status)


@bp.get("/worklog", name="worklog_home")
@guarded(*WORKLOG_READERS)
async def worklog_home(request: Request) -> HTTPResponse:
    return redirect(f"/console/worklog/{month_of(utcnow()):%Y-%m}")


@bp.get("/worklog/<month:str>", name="worklog_page")
@guarded(*WORKLOG_READERS)
async def worklog_page(request: Request, month: str) -> HTTPResponse:
    saved = request.args.get("saved")
    return await _page(request, _month(month), saved=saved if saved and len(saved) == 10 else None)


@bp.post("/worklog/<month:str>/notes/<day:str>", name="worklog_note")
@guarded(Role.SUPERVISOR)
async def save_note(request: Request, month: str, day: str) -> HTTPResponse:
    """Empty text removes the note; who saved it and when is kept with the note and in the audit log."""
    first = _month(month)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise NotFound() from None
    if (when.year, when.month) != (first.year, first.month):
        raise NotFound()
    text = (request.form.get("text") or "").strip()
    if len(text) > NOTE_LIMIT:
        return await _page(request, first, error=f"特記事項は{NOTE_LIMIT}文字以内にしてください。", status=400)
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        note = await session.get(WorklogNote, when)
        if not text:
            if note is not None:
                await session.delete(note)
        elif note is None:
            session.add(WorklogNote(day=when, text=text, author_id=principal.user_id, updated_at=utcnow()))
        else:
            note.text, note.author_id, note.updated_at = text, principal.user_id, utcnow()
        audit(session, principal.name, "worklog_note", "worklog", when.isoformat(),
              detail="deleted" if not text else f"chars={len(text)}")
    return redirect(f"/console/worklog/{first:%Y-%m}?saved={when.isoformat()}#d-{when.isoformat()}")


@bp.post("/worklog/<month:str>/download", name="worklog_download")
@guarded(Role.SUPERVISOR)
async def download(request: Request, month: str) -> HTTPResponse:
    first = _month(month)
    password = request.form.get("password") or ""
    error = None
    if password != (request.form.get("password_again") or ""):
        error = "パスワードが一致しません。"
    else:
        try:
            security.check_password_policy(password)
        except security.PasswordPolicyError as exc:
            error = f"{exc}。"
    principal = request.ctx.principal
    if error:
        async with request.app.ctx.db.session() as session:
            audit(session, principal.name, "export_worklog", "worklog", f"{first:%Y-%m}", allowed=False,
                  detail="password refused")
        return await _page(request, first, error=error, status=400)
    hours = request.app.ctx.hours
    async with request.app.ctx.db.session() as session:
        log, records, statistics = await month_contents(session, first, hours, request.app.ctx.content.survey,
                                                        lines=request.app.ctx.settings.lines)
        audit(session, principal.name, "export_worklog", "worklog", f"{first:%Y-%m}",
              detail=f"encrypted xlsx; records={len(records)}")
    data = await encrypted_file(log, records, request.app.ctx.worklog_columns, hours, password, statistics)
    return xlsx_response(data, first)


def xlsx_response(data: bytes, month: date) -> HTTPResponse:
    """Attachment with the Japanese name (RFC 5987 `filename*`) and an ASCII one for older clients."""
    response = raw(data, content_type=XLSX)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_filename(month)}\"; filename*=UTF-8''{quote(filename(month))}"
    )
    return response

