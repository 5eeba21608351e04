"""Trainers improve the bot from real turns without seeing who wrote them (R20, R24; issue 14, item 7).

Allow-list, not block-list (console/nlu_labels.reviewable): only contacts who consented, only their text turns and
the bot's; crisis turns, counsellor turns and notes are left out. The bot's turns are shown as written (the bot's own
words); the young person's turns only through console/masking.py. Each user turn shows what the bot's NLU read it as;
a trainer marks a misread one with the right intent (a plain form post, so it works without scripts).
Conversations appear under a pseudonym that changes with the server key.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from console import nlu_labels, roles
from console.auth import audit, guarded
from console.intents import load_intents
from console.masking import masker
from console.render import render
from handoff.store.models import Message
from handoff.store.values import Sender

bp = Blueprint("console_training", url_prefix="/console")
LIMIT = 300
FILTERS = {"all": "すべて", "unsure": "読み取りに自信がないもの"}


def pseudonym(secret_key: str, conversation_id: int) -> str:
    return "会話-" + hmac.new(secret_key.encode(), str(conversation_id).encode(), hashlib.sha256).hexdigest()[:8]


def _intents(request: Request) -> dict[str, list[str]]:
    """Loaded once per app, on first use (the bot's domain files do not change while it runs)."""
    ctx = request.app.ctx
    if getattr(ctx, "bot_intents", None) is None:
        ctx.bot_intents = load_intents()
    return ctx.bot_intents


def _turn(m: Message, mask: Any, labels: dict[int, str]) -> dict[str, Any]:
    if m.sender == Sender.BOT:
        return {"who": "ボット", "text": m.text or "", "bot": True}
    return {"who": "利用者", "text": mask(m.text), "bot": False, "id": m.id, "kind": m.kind,
            "intent": m.nlu_intent, "confidence": m.nlu_confidence, "label": labels.get(m.id),
            "unsure": nlu_labels.unsure(m)}


@bp.get("/training", name="training_page")
@guarded(*roles.TRAINING)
async def training_page(request: Request) -> HTTPResponse:
    shown = request.args.get("show", "all")
    shown = shown if shown in FILTERS else "all"
    mask = masker(tuple(request.app.ctx.content.municipalities()))
    async with request.app.ctx.db.session() as session:
        rows = (await session.scalars(nlu_labels.reviewable().order_by(Message.id.desc()).limit(LIMIT))).all()
        labels = await nlu_labels.labels_for(session, [m.id for m in rows if m.sender == Sender.USER])
        audit(session, request.ctx.principal.name, "view_training", "message", None, detail=f"rows={len(rows)}")
    groups: dict[str, list[dict[str, Any]]] = {}
    for m in reversed(rows):
        groups.setdefault(pseudonym(request.app.ctx.settings.secret_key, m.conversation_id), []).append(
            _turn(m, mask, labels))
    if shown == "unsure":
        groups = {name: turns for name, turns in groups.items()
                  if any(not t["bot"] and (t["unsure"] or t["label"]) for t in turns)}
    return render(request, "training.html", {
        "title": "ボット会話の振り返り（匿名）", "groups": groups, "intents": _intents(request),
        "filters": FILTERS, "shown": shown, "error": request.args.get("error"),
        "labelled": sum(1 for turns in groups.values() for t in turns if t.get("label")),
    })


@bp.post("/training/labels", name="training_label")
@guarded(*roles.TRAINING)
async def training_label(request: Request) -> HTTPResponse:
    """Post/redirect/get: back to the same turn on the page, with the reason if nothing was saved."""
    form = request.form or {}
    back = "unsure" if form.get("show") == "unsure" else "all"
    try:
        message_id = int(form.get("message_id") or "")
    except ValueError:
        return redirect(f"/console/training?show={back}&error=bad", status=303)
    try:
        async with request.app.ctx.db.session() as session:
            await nlu_labels.set_label(session, request.ctx.principal, message_id,
                                       (form.get("intent") or "").strip(), _intents(request))
    except nlu_labels.LabelError:
        return redirect(f"/console/training?show={back}&error=refused#turn-{message_id}", status=303)
    return redirect(f"/console/training?show={back}#turn-{message_id}", status=303)
