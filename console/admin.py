"""Administration: accounts (with 2FA enrolment), roster exports (R10), settings, hours and templates at a glance.

Account changes go through console.users so the roster history is complete; exports are audited (R30).
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from console import reads
from console.auth import NotFound, audit, guarded
from console.records import csv_response
from console.render import render
from console.roles import ROSTER_READERS, Role
from console.security import QUALIFICATIONS
from console.users import (
    UserError,
    create_user,
    random_password,
    reset_second_factor,
    roster_csv,
    roster_history_csv,
    update_user,
)
from handoff.domain import capacity
from handoff.store.models import User

bp = Blueprint("console_admin", url_prefix="/console/admin")


async def _users_page(request: Request, *, error: str | None = None, enrolment: object = None,
                      password: str | None = None, status: int = 200) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        users = await reads.all_users(session)
        open_counts = await capacity.open_chats(session)
    settings = request.app.ctx.settings
    return render(request, "admin.html", {
        "title": "管理", "users": users, "qualifications": QUALIFICATIONS, "error": error,
        "enrolment": enrolment, "password": password, "open_counts": open_counts,
        "settings": {"lines": settings.lines, "idle": settings.session_idle_seconds,
                     "mode": "シミュレーター" if settings.simulator else "LINE"},
        "hours": request.app.ctx.hours, "templates": request.app.ctx.console_templates,
    }, status=status)


@bp.get("/", name="admin_page")
@guarded(Role.ADMIN)
async def admin_page(request: Request) -> HTTPResponse:
    return await _users_page(request)


@bp.post("/users", name="admin_add_user")
@guarded(Role.ADMIN)
async def add_user(request: Request) -> HTTPResponse:
    form = request.form
    password = random_password()
    try:
        async with request.app.ctx.db.session() as session:
            enrolment = await create_user(
                session, name=form.get("name") or "", role=form.get("role") or "",
                password=password, qualifications=",".join(form.getlist("qualifications") or []),
                display_name=form.get("display_name") or "", max_chats=int(form.get("max_chats") or 3),
                actor=request.ctx.principal.name,
            )
            audit(session, request.ctx.principal.name, "user_add", "user", enrolment.user.id)
    except (UserError, ValueError) as exc:
        return await _users_page(request, error=str(exc), status=400)
    # The initial password, TOTP secret and recovery codes are shown once, to hand over in person.
    return await _users_page(request, enrolment=enrolment, password=password)


@bp.post("/users/<user_id:int>", name="admin_update_user")
@guarded(Role.ADMIN)
async def update(request: Request, user_id: int) -> HTTPResponse:
    form = request.form
    action = form.get("action") or "save"
    enrolment = None
    try:
        async with request.app.ctx.db.session() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound()
            if action == "disable":
                changes: dict[str, object] = {"disabled": True}
            elif action == "enable":
                changes = {"disabled": False}
            elif action == "reset_2fa":
                enrolment = await reset_second_factor(session, user, request.ctx.principal.name)
                changes = {}
            else:
                changes = {"qualifications": ",".join(form.getlist("qualifications") or []),
                           "max_chats": form.get("max_chats") or user.max_chats,
                           "display_name": form.get("display_name") or user.display_name}
            changed = await update_user(session, user, changes, request.ctx.principal.name)
            audit(session, request.ctx.principal.name, f"user_{action}", "user", user_id, detail=",".join(changed))
    except (UserError, ValueError) as exc:
        return await _users_page(request, error=str(exc), status=400)
    if enrolment is not None:
        return await _users_page(request, enrolment=enrolment)
    return redirect("/console/admin/")


@bp.get("/roster.csv", name="roster_csv")
@guarded(*ROSTER_READERS)
async def roster(request: Request) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        text = await roster_csv(session)
        audit(session, request.ctx.principal.name, "export_roster", "user", None)
    return csv_response(text, "roster.csv")


@bp.get("/roster_history.csv", name="roster_history_csv")
@guarded(*ROSTER_READERS)
async def roster_history(request: Request) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        text = await roster_history_csv(session)
        audit(session, request.ctx.principal.name, "export_roster_history", "roster_change", None)
    return csv_response(text, "roster_history.csv")
