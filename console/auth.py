"""Who is asking: server-side sessions or bearer tokens, role checks, CSRF, and the audit trail (R15, R24, R30).

Every console route is wrapped by `guarded`, which authenticates, checks the role, checks CSRF on state-changing
session requests, turns a `Denied` raised anywhere in the handler (object-level checks) into a 403, and writes an
AuditLog row for every refusal. Handlers therefore never forget the check: the default is no access.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse, json, redirect
from sqlalchemy import ColumnElement, false, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from console import security
from handoff.store.models import ApiToken, AuditLog, ConsoleSession, Conversation, User
from handoff.store.types import utcnow

log = logging.getLogger(__name__)
SESSION_COOKIE = "ycc_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SEEN_WRITE_INTERVAL = timedelta(seconds=15)  # refresh last_seen_at at most this often

Handler = Callable[..., Awaitable[HTTPResponse]]


@dataclass
class Principal:
    """The authenticated caller: a person (session, or a token made for them) or a legacy personless token.

    A token made by `ycc token create NAME` belongs to user NAME and acts as that person: their role, their scope,
    their name in the audit log. Tokens made before tokens had owners carry only a role (`user` is None); they see
    nothing that is scoped to a person (see `holds`).
    """

    name: str
    role: str
    via: str  # session | token
    user: User | None = None
    session_id: str | None = None
    csrf_token: str | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None


class Denied(Exception):
    """Raised by handlers for object-level refusals; `guarded` audits it and answers 403."""

    def __init__(self, object_type: str, object_id: object = None, detail: str = "forbidden") -> None:
        super().__init__(detail)
        self.object_type = object_type
        self.object_id = None if object_id is None else str(object_id)
        self.detail = detail


class NotFound(Exception):
    """Raised for missing objects; answered 404 without an audit row."""


def audit(
    session: AsyncSession, actor: str, action: str, object_type: str, object_id: object = None, *,
    allowed: bool = True, detail: str | None = None,
) -> None:
    """Add an audit row in the caller's unit of work (ids and kinds only, never message text)."""
    session.add(
        AuditLog(
            at=utcnow(), actor=actor[:64], action=action[:32], object_type=object_type[:32],
            object_id=None if object_id is None else str(object_id)[:64], allowed=allowed,
            detail=None if detail is None else detail[:255],
        )
    )


def client_ip(request: Request) -> str:
    return request.remote_addr or request.ip or "?"


def wants_json(request: Request) -> bool:
    return request.path.startswith("/api/") or "application/json" in (request.headers.get("accept") or "")


def holds(principal: Principal) -> ColumnElement[bool]:
    """SQL condition "assigned to this caller"; false for a caller without a person (never `assignee_id IS NULL`)."""
    if principal.user_id is None:
        return false()
    return Conversation.assignee_id == principal.user_id


async def _from_token(request: Request, raw: str) -> Principal | None:
    async with request.app.ctx.db.session() as session:
        token = await session.scalar(select(ApiToken).where(ApiToken.token_hash == security.token_hash(raw)))
        if token is None or token.revoked or (token.expires_at is not None and token.expires_at <= utcnow()):
            return None
        if token.user_id is None:
            return Principal(name=f"token:{token.name}", role=token.role, via="token")
        user = await session.get(User, token.user_id)
        if user is None or user.disabled:
            return None  # a disabled person's tokens stop with their sessions
        return Principal(name=user.name, role=user.role, via="token", user=user)


async def _from_session(request: Request, raw: str, *, touch: bool = True) -> Principal | None:
    settings = request.app.ctx.settings
    now = utcnow()
    async with request.app.ctx.db.session() as session:
        row = await session.get(ConsoleSession, security.token_hash(raw))
        if row is None or row.revoked or not row.second_factor_done:
            return None
        if (now - row.last_seen_at > timedelta(seconds=settings.session_idle_seconds)
                or now - row.created_at > timedelta(seconds=settings.session_max_seconds)):
            row.revoked = True  # idle timeout and absolute lifetime, enforced on the server whatever the cookie says
            return None
        user = await session.get(User, row.user_id)
        if user is None or user.disabled:
            row.revoked = True
            return None
        if touch and now - row.last_seen_at > SEEN_WRITE_INTERVAL:
            row.last_seen_at = now
        return Principal(
            name=user.name, role=user.role, via="session", user=user, session_id=row.id, csrf_token=row.csrf_token,
        )


async def authenticate(request: Request, *, touch: bool = True) -> Principal | None:
    header = request.headers.get("authorization") or ""
    if header.lower().startswith("bearer "):
        return await _from_token(request, header[7:].strip())
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        return await _from_session(request, raw, touch=touch)
    return None


def csrf_ok(request: Request, principal: Principal) -> bool:
    if principal.via != "session" or request.method in SAFE_METHODS:
        return True
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.form:
        sent = request.form.get("csrf_token")
    return security.same(sent, principal.csrf_token)


def forbidden_response(request: Request, message: str = "この操作を行う権限がありません。") -> HTTPResponse:
    if wants_json(request):
        return json({"error": "forbidden", "message": message}, status=403, ensure_ascii=False)
    from console.render import render

    return render(request, "error.html", {"title": "権限がありません", "message": message}, status=403)


async def _refuse(request: Request, principal: Principal | None, object_type: str, object_id: str | None,
                  detail: str) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        audit(session, principal.name if principal else f"anonymous@{client_ip(request)}",
              f"{request.method} {request.route.name.split('.')[-1] if request.route else request.path}",
              object_type, object_id, allowed=False, detail=detail)
    log.warning("forbidden: actor=%s path=%s detail=%s", principal.name if principal else "-", request.path, detail)
    return forbidden_response(request)


def guarded(*roles: str, csrf: bool = True) -> Callable[[Handler], Handler]:
    """Require a logged-in caller with one of `roles` (any role if none given)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            principal = await authenticate(request)
            if principal is None:
                if wants_json(request):
                    return json({"error": "unauthorized", "message": "ログインしてください。"}, status=401,
                                ensure_ascii=False)
                return redirect("/console/login")
            if roles and principal.role not in roles:
                return await _refuse(request, principal, "route", request.path, f"role {principal.role}")
            if csrf and not csrf_ok(request, principal):
                return await _refuse(request, principal, "route", request.path, "csrf token missing or wrong")
            request.ctx.principal = principal
            try:
                return await handler(request, *args, **kwargs)
            except Denied as denied:
                return await _refuse(request, principal, denied.object_type, denied.object_id, denied.detail)
            except NotFound:
                if wants_json(request):
                    return json({"error": "not_found"}, status=404)
                from console.render import render

                return render(request, "error.html", {"title": "見つかりません",
                                                      "message": "指定されたページは見つかりません。"}, status=404)

        return wrapper

    return decorate


async def revoke_user_sessions(session: AsyncSession, user_id: int) -> None:
    """Logout everywhere: used when a user is disabled or their password or 2FA is reset."""
    await session.execute(
        update(ConsoleSession).where(ConsoleSession.user_id == user_id, ConsoleSession.revoked.is_(False))
        .values(revoked=True)
    )
