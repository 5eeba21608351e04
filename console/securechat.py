"""The console's side of the secure chat (issue 16): 「安全な画面に案内」 sends the user a one-time link on LINE.

`POST /api/conversations/{id}/secure-link` → 201 {"url", "expires_at"}: the counsellor holding the conversation or
a supervisor; the link goes to the user on LINE at once (handoff/domain/securechat.py), audited with the actor.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from console import actions
from console.actions import Conflict
from console.api import api_errors
from console.auth import Denied, guarded
from console.roles import STAFF, Role
from handoff.domain import conversations as conv
from handoff.domain import securechat
from handoff.store.types import utcnow
from handoff.timeutil import to_tokyo

bp = Blueprint("console_securechat", url_prefix="/api")


@bp.post("/conversations/<conversation_id:int>/secure-link", name="secure_link")
@guarded(*STAFF)
@api_errors
async def secure_link(request: Request, conversation_id: int) -> HTTPResponse:
    principal = request.ctx.principal
    policy = securechat.Policy.of(request.app.ctx.settings)
    async with request.app.ctx.db.session() as session:
        conversation = await actions.load(session, principal, conversation_id, lock=True)
        holder = conversation.status == conv.OPEN and conversation.assignee_id == principal.user_id
        if principal.role != Role.SUPERVISOR and not holder:
            raise Denied("conversation", conversation_id, "only the holder or a supervisor sends a secure link")
        if not conversation.contact.following:
            raise Conflict("blocked", "この利用者にはLINEでリンクを送れません（ブロックされています）。")
        issued = await securechat.send_link(session, conversation, conversation.contact, policy, at=utcnow(),
                                            actor=principal.name)
    return json({"url": issued.url, "expires_at": to_tokyo(issued.expires_at).isoformat()}, status=201)
