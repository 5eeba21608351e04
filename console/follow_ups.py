"""フォローアップ (issue 17 item 8): a counsellor schedules one check-in message for a person who agreed to it.

Who: supervisors for any conversation; a counsellor for one they hold now or whose record they wrote (the person
they talked with). Every schedule, cancel and view is audited with ids only, never the text.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sqlalchemy.ext.asyncio import AsyncSession

from console import reads
from console.api import api_errors, body_of, problem
from console.auth import Denied, NotFound, Principal, audit, guarded
from console.bounds import row_id_ok
from console.roles import STAFF, Role
from handoff.domain import follow_ups
from handoff.store.models import Conversation
from handoff.store.models_broadcasts import FollowUp
from handoff.store.types import utcnow

bp = Blueprint("console_follow_ups", url_prefix="/api")


async def _conversation(session: AsyncSession, principal: Principal, conversation_id: int) -> Conversation:
    if not row_id_ok(conversation_id):
        raise NotFound()
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound()
    if principal.role == Role.SUPERVISOR:
        return conversation
    if principal.user_id is not None and (conversation.assignee_id == principal.user_id
                                          or await reads.wrote_record(session, conversation_id, principal.user_id)):
        return conversation
    raise Denied("conversation", str(conversation_id), "follow-up: neither holder nor record author")


@bp.post("/conversations/<conversation_id:int>/follow-ups", name="schedule_follow_up")
@guarded(*STAFF)
@api_errors
async def schedule(request: Request, conversation_id: int) -> HTTPResponse:
    body = body_of(request)
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        conversation = await _conversation(session, principal, conversation_id)
        try:
            made = await follow_ups.schedule(session, conversation, body, author=principal.name,
                                             user_id=principal.user_id, now=utcnow())
        except follow_ups.BroadcastError as exc:
            audit(session, principal.name, "follow_up_schedule", "conversation", conversation_id, allowed=False,
                  detail=f"refused: {exc.field}")
            status = 409 if exc.field == "conversation" else 400
            return problem(status, "invalid" if status == 400 else "conflict", exc.message,
                           fields={exc.field: exc.message})
        audit(session, principal.name, "follow_up_schedule", "conversation", conversation_id,
              detail=f"follow_up={made.id}; silent={made.silent}")
        answer = follow_ups.follow_up_json(made)
    return json(answer, status=201, ensure_ascii=False)


@bp.get("/conversations/<conversation_id:int>/follow-ups", name="list_follow_ups")
@guarded(*STAFF)
@api_errors
async def listing(request: Request, conversation_id: int) -> HTTPResponse:
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        try:
            await _conversation(session, principal, conversation_id)
        except Denied:  # the chat page asks for every conversation it shows; not theirs: nothing, and no alarm
            return json({"items": [], "total": 0, "may_schedule": False})
        rows = await follow_ups.of_conversation(session, conversation_id)
        audit(session, principal.name, "view_follow_ups", "conversation", conversation_id)
        items = [follow_ups.follow_up_json(f) for f in rows]
    return json({"items": items, "total": len(items), "may_schedule": True}, ensure_ascii=False)


@bp.post("/follow-ups/<follow_up_id:int>/cancel", name="cancel_follow_up")
@guarded(*STAFF)
@api_errors
async def cancel(request: Request, follow_up_id: int) -> HTTPResponse:
    if not row_id_ok(follow_up_id):
        raise NotFound()
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        found = await session.get(FollowUp, follow_up_id)
        if found is None:
            raise NotFound()
        await _conversation(session, principal, found.conversation_id)
        if not follow_ups.cancel(found):
            return problem(409, "conflict", "このフォローアップはもう送られたか、取り消されています。")
        audit(session, principal.name, "follow_up_cancel", "conversation", found.conversation_id,
              detail=f"follow_up={found.id}")
        answer = follow_ups.follow_up_json(found)
    return json(answer, ensure_ascii=False)
