"""Own account: change password (ASVS V2.1). Other sessions of the user end, this one stays."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sqlalchemy import update

from console import security
from console.auth import audit, guarded
from console.render import render
from console.roles import ALL
from handoff.store.models import ConsoleSession, User

bp = Blueprint("console_account", url_prefix="/console")


@bp.get("/account", name="account_page")
@guarded(*ALL)
async def account_page(request: Request) -> HTTPResponse:
    return render(request, "account.html", {"title": "アカウント"})


@bp.post("/account/password", name="change_password")
@guarded(*ALL)
async def change_password(request: Request) -> HTTPResponse:
    principal = request.ctx.principal
    current = request.form.get("current_password") or ""
    new = request.form.get("new_password") or ""
    again = request.form.get("new_password_again") or ""
    error = None
    async with request.app.ctx.db.session() as session:
        user = await session.get(User, principal.user_id)
        if user is None or not security.verify_password(user.password_hash, current):
            error = "現在のパスワードが正しくありません。"
        elif new != again:
            error = "新しいパスワードが一致しません。"
        elif new == current:
            error = "今と違うパスワードにしてください。"
        else:
            try:
                user.password_hash = security.hash_password(new)
            except security.PasswordPolicyError as exc:
                error = str(exc)
        if error is None:
            await session.execute(update(ConsoleSession).where(
                ConsoleSession.user_id == principal.user_id, ConsoleSession.id != principal.session_id,
            ).values(revoked=True))
        audit(session, principal.name, "password_change", "user", principal.user_id, allowed=error is None,
              detail=None if error is None else "refused")
    if error:
        return render(request, "account.html", {"title": "アカウント", "error": error}, status=400)
    return render(request, "account.html", {"title": "アカウント", "done": True})
