"""Trainers improve the bot from real turns without seeing who wrote them (R20, R24).

Only user and bot turns are shown, under a pseudonym that changes with the server key; crisis turns, counsellor
turns and notes are left out; digits, e-mail addresses and URLs in the text are masked.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sqlalchemy import select

from console.auth import audit, guarded
from console.render import render
from handoff.store.models import Message

bp = Blueprint("console_training", url_prefix="/console")
LIMIT = 300
_MASKS = (
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "［メール］"),
    (re.compile(r"https?://\S+"), "［URL］"),
    (re.compile(r"[0-9０-９][0-9０-９\-ー－‐ ]{1,}[0-9０-９]|[0-9０-９]"), "＊"),
)


def mask(text: str | None) -> str:
    """Strip what could identify someone; names cannot be found reliably, so trainers also sign a pledge (ops)."""
    out = text or ""
    for pattern, replacement in _MASKS:
        out = pattern.sub(replacement, out)
    return out


def pseudonym(secret_key: str, conversation_id: int) -> str:
    return "会話-" + hmac.new(secret_key.encode(), str(conversation_id).encode(), hashlib.sha256).hexdigest()[:8]


@bp.get("/training", name="training_page")
@guarded("trainer", "supervisor")
async def training_page(request: Request) -> HTTPResponse:
    secret = request.app.ctx.settings.secret_key
    async with request.app.ctx.db.session() as session:
        rows = (await session.scalars(
            select(Message).where(Message.sender.in_(("user", "bot")), Message.internal.is_(False),
                                  Message.crisis.is_(False), Message.kind.in_(("text", "postback")))
            .order_by(Message.id.desc()).limit(LIMIT)
        )).all()
        audit(session, request.ctx.principal.name, "view_training", "message", None, detail=f"rows={len(rows)}")
    groups: dict[str, list[dict[str, str]]] = {}
    for m in reversed(rows):
        groups.setdefault(pseudonym(secret, m.conversation_id), []).append(
            {"who": "利用者" if m.sender == "user" else "ボット", "text": mask(m.text)})
    return render(request, "training.html", {"title": "ボット会話の振り返り（匿名）", "groups": groups})
