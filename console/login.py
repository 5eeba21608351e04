"""Login in two steps (password, then TOTP or a recovery code), logout, and throttling (ASVS V2, V3).

The password step only creates a short-lived pending session; the full session is a new id issued after the
second factor (session rotation), so a fixed or stolen pre-login id is worth nothing. Wrong passwords slow their
source down (console/throttle.py) and never lock the account, so nobody can lock a colleague out by guessing; wrong
second factors, which only someone with the password can send, do lock it for LOCK_FOR.
"""

from __future__ import annotations

import math
import secrets
import time
from collections import deque
from datetime import timedelta
from functools import cache
from pathlib import Path

import yaml
from prometheus_client import Counter
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from console import reads, security, throttle
from console.auth import SESSION_COOKIE, audit, authenticate, client_ip, guarded
from console.render import render
from handoff.store.models import ConsoleSession, User
from handoff.store.models_console import TotpUse
from handoff.store.types import utcnow

bp = Blueprint("console_login", url_prefix="/console")
PRE_COOKIE = "ycc_pre"
PENDING_COOKIE = "ycc_login"
PENDING_LIFETIME = timedelta(minutes=5)
MAX_FAILED = 5
LOCK_FOR = timedelta(minutes=15)
IP_WINDOW_SECONDS = 600
IP_MAX_FAILURES = 30
TEXTS = Path(__file__).resolve().parent / "data" / "login.yml"
FAILED = Counter("ycc_console_logins_failed", "Console logins refused, by step (password, locked, second_factor)",
                 ["step"])


def say(key: str) -> str:
    """A line of the login screens, from console/data/login.yml (read once)."""
    return _texts()[key]


@cache
def _texts() -> dict[str, str]:
    return dict(yaml.safe_load(TEXTS.read_text(encoding="utf-8")))


def _secure(request: Request) -> bool:
    return request.app.ctx.settings.public_url.startswith("https://")


def _set_cookie(request: Request, response: HTTPResponse, name: str, value: str, max_age: int | None) -> None:
    response.add_cookie(name, value, path="/", httponly=True, samesite="Strict", secure=_secure(request),
                        max_age=max_age)


def _ip_blocked(request: Request) -> bool:
    table: dict[str, deque[float]] = request.app.ctx.console_ip_failures
    cutoff = time.monotonic() - IP_WINDOW_SECONDS
    if len(table) > 10_000:  # keep memory bounded under a distributed guessing attack
        for ip in [ip for ip, times in table.items() if not times or times[-1] < cutoff]:
            del table[ip]
    failures = table.setdefault(client_ip(request), deque())
    while failures and failures[0] < cutoff:
        failures.popleft()
    return len(failures) >= IP_MAX_FAILURES


def _ip_failed(request: Request) -> None:
    request.app.ctx.console_ip_failures.setdefault(client_ip(request), deque()).append(time.monotonic())


def _login_form(request: Request, error: str | None = None, status: int = 200) -> HTTPResponse:
    """Pre-login CSRF: a random cookie and its HMAC in the form (double submit, keyed by YCC_SECRET_KEY)."""
    nonce = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    token = security.sign(request.app.ctx.settings.secret_key, nonce)
    response = render(request, "login.html", {"form_token": token, "error": error}, status=status)
    _set_cookie(request, response, PRE_COOKIE, nonce, 3600)
    return response


def _pre_csrf_ok(request: Request) -> bool:
    nonce = request.cookies.get(PRE_COOKIE)
    expected = security.sign(request.app.ctx.settings.secret_key, nonce) if nonce else None
    return security.same(request.form.get("csrf_token"), expected)


@bp.get("/login", name="login_page")
async def login_page(request: Request) -> HTTPResponse:
    if await authenticate(request, touch=False):
        return redirect("/console/")
    return _login_form(request)


def _locked(user: User | None) -> bool:
    return bool(user and user.locked_until and user.locked_until > utcnow())


def _count_failure(user: User) -> None:
    """A wrong second factor (the password was right): five in a row lock the account for LOCK_FOR."""
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILED:
        user.locked_until = utcnow() + LOCK_FOR
        user.failed_logins = 0


def _too_soon(request: Request, seconds: float) -> HTTPResponse:
    """429 with Retry-After: the same answer whichever name was typed (console/throttle.py)."""
    wait = max(1, math.ceil(seconds))
    response = _login_form(request, say("throttled").format(seconds=wait), status=429)
    response.headers["Retry-After"] = str(wait)
    return response


@bp.post("/login", name="login_submit")
async def login_submit(request: Request) -> HTTPResponse:
    """The password step. Wrong passwords delay this source for this name; they never lock the account."""
    if not _pre_csrf_ok(request):
        return _login_form(request, say("form_expired"), status=403)
    if _ip_blocked(request):
        return _login_form(request, say("address_blocked"), status=429)
    name = (request.form.get("username") or "").strip()[:64]
    password = request.form.get("password") or ""
    source, now = client_ip(request), utcnow()
    async with request.app.ctx.db.session() as session:
        left = await throttle.wait_left(session, name, source, now)
        if left:
            audit(session, name or "-", "login_throttled", "user", None, allowed=False, detail=f"ip={source}")
            return _too_soon(request, left)
        user = await reads.user_named(session, name)
        ok = security.verify_password(user.password_hash if user else None, password)
        if user is None or user.disabled or not ok:
            await throttle.failed(session, name, source, now,
                                  timedelta(seconds=request.app.ctx.settings.login_delay_seconds))
            _ip_failed(request)
            audit(session, name or "-", "login_failed", "user", user.id if user else None, allowed=False,
                  detail=f"password ip={source}")
            FAILED.labels("password").inc()
            return _login_form(request, say("wrong_password"), status=401)
        await throttle.cleared(session, name, source)
        if _locked(user):  # only someone who knows the password learns of the second-factor lock
            audit(session, name, "login_failed", "user", user.id, allowed=False, detail=f"locked ip={source}")
            FAILED.labels("locked").inc()
            return _login_form(request, say("locked"), status=401)
        raw = secrets.token_urlsafe(32)
        session.add(ConsoleSession(id=security.token_hash(raw), user_id=user.id, created_at=utcnow(),
                                   last_seen_at=utcnow(), csrf_token=secrets.token_urlsafe(32),
                                   second_factor_done=False))
    response = redirect("/console/login/2fa")
    _set_cookie(request, response, PENDING_COOKIE, raw, int(PENDING_LIFETIME.total_seconds()))
    return response


async def _pending(request: Request) -> tuple[ConsoleSession, User] | None:
    raw = request.cookies.get(PENDING_COOKIE)
    if not raw:
        return None
    async with request.app.ctx.db.session() as session:
        row = await session.get(ConsoleSession, security.token_hash(raw))
        if row is None or row.revoked or row.second_factor_done or utcnow() - row.created_at > PENDING_LIFETIME:
            return None
        user = await session.get(User, row.user_id)
        if user is None or user.disabled:
            return None
        return row, user


async def _last_counter(session: AsyncSession, user_id: int) -> int | None:
    """The last TOTP step this user signed in with: a code is good once (a replayed code is refused)."""
    return await session.scalar(select(TotpUse.counter).where(TotpUse.user_id == user_id))


async def _claim_counter(session: AsyncSession, user_id: int, counter: int) -> bool:
    """Record the accepted time step; the conditional update makes a concurrent replay lose (ASVS 2.8.4)."""
    moved = await session.execute(update(TotpUse).where(TotpUse.user_id == user_id, TotpUse.counter < counter)
                                  .values(counter=counter, at=utcnow()))
    if moved.rowcount:
        return True
    if await session.scalar(select(TotpUse.user_id).where(TotpUse.user_id == user_id)) is not None:
        return False
    session.add(TotpUse(user_id=user_id, counter=counter, at=utcnow()))
    return True


@bp.get("/login/2fa", name="totp_page")
async def totp_page(request: Request) -> HTTPResponse:
    pending = await _pending(request)
    if pending is None:
        return redirect("/console/login")
    return render(request, "totp.html", {"form_token": pending[0].csrf_token})


@bp.post("/login/2fa", name="totp_submit")
async def totp_submit(request: Request) -> HTTPResponse:
    pending = await _pending(request)
    if pending is None:
        return redirect("/console/login")
    row, _ = pending
    if not security.same(request.form.get("csrf_token"), row.csrf_token):
        return render(request, "totp.html", {"form_token": row.csrf_token, "error": say("code_form_expired")},
                      status=403)
    if _ip_blocked(request):
        return render(request, "totp.html", {"form_token": row.csrf_token,
                                             "error": say("code_address_blocked")}, status=429)
    code = (request.form.get("code") or "").strip()
    recovery = (request.form.get("recovery_code") or "").strip()
    raw = secrets.token_urlsafe(32)
    async with request.app.ctx.db.session() as session:
        user = await session.get(User, row.user_id)
        pending_row = await session.get(ConsoleSession, row.id)
        assert user is not None and pending_row is not None
        ok = False
        how = "totp"
        if code and user.totp_secret and not _locked(user):
            last = await _last_counter(session, user.id)
            counter = security.totp_counter(user.totp_secret, code, last)
            ok = counter is not None and await _claim_counter(session, user.id, counter)
        elif recovery and not _locked(user):
            hashed = security.hash_code(recovery)
            if hashed in (user.recovery_codes or []):
                user.recovery_codes = [c for c in user.recovery_codes if c != hashed]  # one use only
                ok, how = True, "recovery_code"
        if not ok:
            _count_failure(user)
            _ip_failed(request)
            audit(session, user.name, "login_failed", "user", user.id, allowed=False,
                  detail=f"second factor ip={client_ip(request)}")
            FAILED.labels("second_factor").inc()
            locked = _locked(user)
            if locked:
                pending_row.revoked = True
            error = say("locked") if locked else say("wrong_code")
            return render(request, "totp.html", {"form_token": row.csrf_token, "error": error}, status=401)
        pending_row.revoked = True  # rotation: the pre-2FA id never becomes a full session
        user.failed_logins = 0
        user.locked_until = None
        user.totp_confirmed = True
        session.add(ConsoleSession(id=security.token_hash(raw), user_id=user.id, created_at=utcnow(),
                                   last_seen_at=utcnow(), csrf_token=secrets.token_urlsafe(32),
                                   second_factor_done=True))
        audit(session, user.name, "login", "user", user.id, detail=f"{how} ip={client_ip(request)}")
        left = len(user.recovery_codes or [])
    response = redirect("/console/" + ("?recovery_left=" + str(left) if how == "recovery_code" else ""))
    _set_cookie(request, response, SESSION_COOKIE, raw, None)
    response.delete_cookie(PENDING_COOKIE, path="/")
    return response


@bp.post("/logout", name="logout")
@guarded()
async def logout(request: Request) -> HTTPResponse:
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        row = await session.get(ConsoleSession, principal.session_id) if principal.session_id else None
        if row is not None:
            row.revoked = True
        audit(session, principal.name, "logout", "user", principal.user_id)
    response = redirect("/console/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
