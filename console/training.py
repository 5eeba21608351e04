"""Trainers improve the bot from real turns without seeing who wrote them (R20, R24).

Allow-list, not block-list: only contacts who consented, only their text turns and the bot's; crisis turns,
counsellor turns and notes are left out. The bot's turns are shown as written (the bot's own words); the young
person's turns only through console/masking.py (names, places, schools, numbers in any script, e-mail, URLs, ids).
Conversations appear under a pseudonym that changes with the server key.
"""

from __future__ import annotations

import hashlib
import hmac

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sqlalchemy import select

from console.auth import audit, guarded
from console.masking import masker
from console.render import render
from handoff.store.models import Contact, Conversation, Message

bp = Blueprint("console_training", url_prefix="/console")
LIMIT = 300


def pseudonym(secret_key: str, conversation_id: int) -> str:
    return "会話-" + hmac.new(secret_key.encode(), str(conversation_id).encode(), hashlib.sha256).hexdigest()[:8]


@bp.get("/training", name="training_page")
@guarded("trainer", "supervisor")
async def training_page(request: Request) -> HTTPResponse:
    secret = request.app.ctx.settings.secret_key
    mask = masker(tuple(request.app.ctx.content.municipalities()))
    async with request.app.ctx.db.session() as session:
        rows = (await session.scalars(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Contact.consent.is_(True), Message.sender.in_(("user", "bot")), Message.internal.is_(False),
                   Message.crisis.is_(False), Message.kind.in_(("text", "postback")))
            .order_by(Message.id.desc()).limit(LIMIT)
        )).all()
        audit(session, request.ctx.principal.name, "view_training", "message", None, detail=f"rows={len(rows)}")
    groups: dict[str, list[dict[str, str]]] = {}
    for m in reversed(rows):
        bot = m.sender == "bot"
        groups.setdefault(pseudonym(secret, m.conversation_id), []).append(
            {"who": "ボット" if bot else "利用者", "text": (m.text or "") if bot else mask(m.text)})
    return render(request, "training.html", {"title": "ボット会話の振り返り（匿名）", "groups": groups})
