"""The JSON API for conversations (docs/console.md, console/openapi.py): bearer token or console session + CSRF.

The console's own pages call these routes, so the API is exercised all day and stays the one source of truth.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from console import actions, reads
from console.actions import Conflict, Invalid
from console.auth import audit, guarded, holds
from console.bounds import row_id_ok
from console.roles import STAFF, Role
from console.routing import online_counsellors
from console.serialize import conversation_json, conversations_json, message_json, record_json
from handoff.domain import capacity
from handoff.domain import conversations as conv
from handoff.store.models import Conversation

log = logging.getLogger(__name__)
bp = Blueprint("console_api", url_prefix="/api")
MAX_LIMIT = 1000
TYPING_EVERY = 10.0  # seconds between LINE loading indicators per conversation


def problem(status: int, error: str, message: str, **extra: Any) -> HTTPResponse:
    return json({"error": error, "message": message, **extra}, status=status, ensure_ascii=False)


def api_errors(handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable[..., Awaitable[HTTPResponse]]:
    """Domain errors → 400/409 with a Japanese message the console shows as is."""

    @functools.wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, *args, **kwargs)
        except Invalid as exc:
            return problem(400, "invalid", "入力内容を確認してください。", fields=exc.fields)
        except Conflict as exc:
            return problem(409, exc.code, exc.message)

    return wrapper


def body_of(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except Exception:
        raise Invalid({"body": "JSONで送ってください。"}) from None
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise Invalid({"body": "JSONオブジェクトで送ってください。"})
    return body


def _int_arg(request: Request, name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid({name: "整数で指定してください。"}) from None
    if value < 0:
        raise Invalid({name: "0以上で指定してください。"})
    return value


@bp.get("/conversations", name="list_conversations")
@guarded(*STAFF)
@api_errors
async def list_conversations(request: Request) -> HTTPResponse:
    limit = _int_arg(request, "limit", 50)
    offset = _int_arg(request, "offset", 0)
    if limit > MAX_LIMIT or limit == 0:
        return problem(400, "invalid", f"limit は1〜{MAX_LIMIT}で指定してください。", fields={"limit": "range"})
    statuses = [s for s in (request.args.get("status") or "").split(",") if s]
    unknown = [s for s in statuses if s not in conv.STATUSES]
    if unknown:
        return problem(400, "invalid", "status が正しくありません。", fields={"status": ", ".join(conv.STATUSES)})
    principal = request.ctx.principal
    where = []
    if statuses:
        where.append(Conversation.status.in_(statuses))
    if principal.role == Role.COUNSELLOR:
        where.append((Conversation.status == conv.QUEUED) | holds(principal))
    async with request.app.ctx.db.session() as session:
        total, rows = await reads.conversation_page(session, where, limit, offset)
        items = await conversations_json(session, rows, request.app.ctx.settings.session_idle_seconds)
    return json({"items": items, "total": total, "limit": limit, "offset": offset}, ensure_ascii=False)


async def _one(request: Request, conversation_id: int) -> dict[str, Any]:
    async with request.app.ctx.db.session() as session:
        conversation = await actions.load(session, request.ctx.principal, conversation_id)
        return (await conversations_json(session, [conversation], request.app.ctx.settings.session_idle_seconds))[0]


@bp.get("/conversations/<conversation_id:int>", name="get_conversation")
@guarded(*STAFF)
@api_errors
async def get_conversation(request: Request, conversation_id: int) -> HTTPResponse:
    return json(await _one(request, conversation_id), ensure_ascii=False)


@bp.get("/conversations/<conversation_id:int>/messages", name="list_messages")
@guarded(*STAFF)
@api_errors
async def list_messages(request: Request, conversation_id: int) -> HTTPResponse:
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        conversation = await actions.load(session, principal, conversation_id)
        rows = await reads.messages_of(session, conversation.id)
        agents = await reads.users_by_id(session, (m.agent_id for m in rows if m.agent_id))
        audit(session, principal.name, "view_messages", "conversation", conversation.id)
        items = [message_json(m, agents) for m in rows]
    return json({"items": items, "total": len(items)}, ensure_ascii=False)


@bp.post("/conversations/<conversation_id:int>/assign", name="assign")
@guarded(*STAFF)
@api_errors
async def assign(request: Request, conversation_id: int) -> HTTPResponse:
    body = body_of(request)
    user_id = body.get("user_id")
    if isinstance(user_id, float) and user_id.is_integer():
        user_id = int(user_id)  # JSON has one number type: 17.0 names the same user as 17
    if user_id is not None and not row_id_ok(user_id):
        raise Invalid({"user_id": "整数で指定してください。"})  # a huge number failed in the driver as a 500
    async with request.app.ctx.db.session() as session:
        conversation = await actions.assign(session, request.ctx.principal, conversation_id, user_id)
        result = conversation_json(conversation)
    return json(result, ensure_ascii=False)


@bp.post("/conversations/<conversation_id:int>/release", name="release")
@guarded(*STAFF)
@api_errors
async def release(request: Request, conversation_id: int) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        conversation = await actions.release(session, request.ctx.principal, conversation_id)
        result = conversation_json(conversation)
    return json(result, ensure_ascii=False)


@bp.post("/conversations/<conversation_id:int>/messages", name="send_message")
@guarded(*STAFF)
@api_errors
async def send_message(request: Request, conversation_id: int) -> HTTPResponse:
    body = body_of(request)
    async with request.app.ctx.db.session() as session:
        rows = await actions.send(session, request.ctx.principal, conversation_id, body)
        agents = {request.ctx.principal.user_id: request.ctx.principal.user} if request.ctx.principal.user else {}
        items = [message_json(m, agents) for m in rows]
    return json({"items": items}, status=201, ensure_ascii=False)


@bp.post("/conversations/<conversation_id:int>/notes", name="add_note")
@guarded(*STAFF)
@api_errors
async def add_note(request: Request, conversation_id: int) -> HTTPResponse:
    body = body_of(request)
    async with request.app.ctx.db.session() as session:
        note = await actions.add_note(session, request.ctx.principal, conversation_id, body)
        agents = {request.ctx.principal.user_id: request.ctx.principal.user} if request.ctx.principal.user else {}
        result = message_json(note, agents)
    return json(result, status=201, ensure_ascii=False)


@bp.post("/conversations/<conversation_id:int>/read", name="mark_read")
@guarded(*STAFF)
@api_errors
async def mark_read(request: Request, conversation_id: int) -> HTTPResponse:
    """Called by the chat page only while it is visible: LINE shows 既読 when a person has read it."""
    async with request.app.ctx.db.session() as session:
        tokens = await actions.unread_tokens(session, request.ctx.principal, conversation_id)
    for token in tokens:
        result = await request.app.ctx.line.mark_as_read(token)
        if not result.ok:
            log.info("mark_as_read failed conversation=%s status=%s", conversation_id, result.status)
    return json({"marked": len(tokens)})


@bp.post("/conversations/<conversation_id:int>/typing", name="typing")
@guarded(*STAFF)
@api_errors
async def typing(request: Request, conversation_id: int) -> HTTPResponse:
    """The counsellor is typing: show LINE's loading dots to the user (at most every 10 s)."""
    async with request.app.ctx.db.session() as session:
        conversation = await actions.load(session, request.ctx.principal, conversation_id)
        actions._require_holder(request.ctx.principal, conversation)
        user_id = conversation.contact.line_user_id
    last: dict[int, float] = request.app.ctx.console_typing
    now = time.monotonic()
    if now - last.get(conversation_id, 0.0) < TYPING_EVERY:
        return json({"shown": False})
    last[conversation_id] = now
    task = asyncio.create_task(request.app.ctx.line.show_loading(user_id, 20))
    request.app.ctx.console_tasks.add(task)
    task.add_done_callback(request.app.ctx.console_tasks.discard)
    return json({"shown": True})


@bp.post("/conversations/<conversation_id:int>/resolve", name="resolve")
@guarded(*STAFF)
@api_errors
async def resolve(request: Request, conversation_id: int) -> HTTPResponse:
    body = body_of(request)
    text = request.app.ctx.content.reply("resolved")
    async with request.app.ctx.db.session() as session:
        record = await actions.resolve(session, request.ctx.principal, conversation_id, body, text,
                                       request.app.ctx.content.survey)
        result = record_json(record)
    return json({"record": result, "status": conv.RESOLVED}, status=201, ensure_ascii=False)


@bp.get("/conversations/<conversation_id:int>/records", name="conversation_records")
@guarded(Role.SUPERVISOR)
@api_errors
async def conversation_records(request: Request, conversation_id: int) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        rows = await reads.records_of(session, conversation_id)
        audit(session, request.ctx.principal.name, "view_records", "conversation", conversation_id)
        items = [record_json(r) for r in rows]
    return json({"items": items, "total": len(items)}, ensure_ascii=False)


@bp.get("/staff", name="list_staff")
@guarded(Role.SUPERVISOR)
async def list_staff(request: Request) -> HTTPResponse:
    """Counsellors and supervisors with qualifications, load and presence, for the assign menu."""
    async with request.app.ctx.db.session() as session:
        online = {c.id for c in await online_counsellors(session, request.app.ctx.settings.session_idle_seconds)}
        users = await reads.active_staff(session)
        counts = await capacity.open_chats(session)
    items = [{"id": u.id, "name": u.name, "display_name": u.display_name or u.name, "role": u.role,
              "qualifications": u.qualifications or "", "max_chats": u.max_chats,
              "open_chats": int(counts.get(u.id, 0)), "online": u.id in online} for u in users]
    return json({"items": items, "total": len(items)}, ensure_ascii=False)
