"""Checking in and out of duty in the console (issue 17 item 9): what the staffing rule in the work log reads.

Counsellors and supervisors (the people who answer) say when their shift starts and ends; everyone on duty now is
listed with their qualifications, so a supervisor sees at a glance whether A∧B and C are covered. Each check-in
and check-out is an action here (one writer of `duty_shifts`) and audited.
"""

from __future__ import annotations

from datetime import datetime

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from console.actions import Conflict
from console.auth import Principal, audit, guarded
from console.render import render
from console.roles import STAFF
from handoff.store.models import User
from handoff.store.models_duty import DutyShift
from handoff.store.types import utcnow

bp = Blueprint("console_duty", url_prefix="/console")


async def open_shift(session: AsyncSession, user_id: int | None) -> DutyShift | None:
    if user_id is None:
        return None
    return await session.scalar(select(DutyShift).where(DutyShift.user_id == user_id, DutyShift.ended_at.is_(None))
                                .order_by(DutyShift.id.desc()).limit(1))


async def check_in(session: AsyncSession, principal: Principal, now: datetime) -> DutyShift:
    if principal.user_id is None:
        raise Conflict("no_person", "この操作は個人のアカウントでのみできます。")
    if await open_shift(session, principal.user_id) is not None:
        raise Conflict("on_duty", "すでに勤務中です。")
    shift = DutyShift(user_id=principal.user_id, started_at=now)
    session.add(shift)
    await session.flush()
    audit(session, principal.name, "duty_check_in", "duty", shift.id)
    return shift


async def check_out(session: AsyncSession, principal: Principal, now: datetime) -> DutyShift:
    shift = await open_shift(session, principal.user_id)
    if shift is None:
        raise Conflict("off_duty", "勤務中ではありません。")
    shift.ended_at = now
    audit(session, principal.name, "duty_check_out", "duty", shift.id)
    return shift


async def on_duty_now(session: AsyncSession) -> list[tuple[DutyShift, User]]:
    return [(shift, user) for shift, user in (await session.execute(
        select(DutyShift, User).join(User, User.id == DutyShift.user_id)
        .where(DutyShift.ended_at.is_(None)).order_by(DutyShift.started_at))).all()]


async def _page(request: Request, *, error: str | None = None, status: int = 200) -> HTTPResponse:
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        mine = await open_shift(session, principal.user_id)
        everyone = await on_duty_now(session)
    return render(request, "duty.html", {"title": "勤務", "mine": mine, "everyone": everyone, "error": error},
                  status=status)


@bp.get("/duty", name="duty_page")
@guarded(*STAFF)
async def duty_page(request: Request) -> HTTPResponse:
    return await _page(request)


@bp.post("/duty/<action:str>", name="duty_action")
@guarded(*STAFF)
async def duty_action(request: Request, action: str) -> HTTPResponse:
    steps = {"check-in": check_in, "check-out": check_out}
    if action not in steps:
        return await _page(request, error="その操作はありません。", status=404)
    try:
        async with request.app.ctx.db.session() as session:
            await steps[action](session, request.ctx.principal, utcnow())
    except Conflict as exc:
        return await _page(request, error=exc.message, status=409)
    return redirect("/console/duty")
