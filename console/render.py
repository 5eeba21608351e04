"""Jinja2 rendering for console pages, with the headers every page must carry.

Autoescape is on for all templates: message text comes from the public and must never become markup.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Request
from sanic.response import HTTPResponse, html

from console import roles
from handoff import events
from handoff.domain import profile
from handoff.line.messages import MAX_TEXT
from handoff.timeutil import to_tokyo

TEMPLATES = Path(__file__).resolve().parent / "templates"

STATUS_LABELS = {"bot": "ボット対応", "queued": "待機中", "open": "対応中", "resolved": "対応済み",
                 "blocked": "ブロック"}

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


def jst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Times are stored in UTC and always shown in Asia/Tokyo."""
    return to_tokyo(value).strftime(fmt) if value else ""


def catalogue() -> dict[str, Any]:
    """The names the console's JavaScript matches on, rendered into every page (base.html, `ycc-catalogue`) so
    that the scripts spell no event type, role or profile value of their own: live events (handoff.events), roles
    and who sees the live queue, and the labels of profile values (handoff/domain/profile.yml) and statuses."""
    return {
        "events": events.catalogue(),
        "labels": {**profile.labels(), "status": STATUS_LABELS},
        "roles": {role.name: role.value for role in roles.Role},
        "staff": [role.value for role in roles.STAFF],
    }


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]), trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["jst"] = jst
    env.globals["STATUS_LABELS"] = STATUS_LABELS
    env.globals["MAX_TEXT"] = MAX_TEXT
    env.globals["roles"] = roles
    env.globals["CATALOGUE"] = catalogue()
    return env


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> HTTPResponse:
    env: Environment = request.app.ctx.console_jinja
    principal = getattr(request.ctx, "principal", None)
    values = {"principal": principal, "csrf_token": principal.csrf_token if principal else "", "path": request.path}
    values.update(context or {})
    response = html(env.get_template(name).render(**values), status=status)
    response.headers.update(SECURITY_HEADERS)
    return response
