"""The secure chat's HTTP edge (issue 16): open a one-time link, the page, its messages and its live socket.

What the user writes here is stored as an inbox event marked `"channel": "web"`, so the worker handles it exactly
as a LINE message (safety screen first, the bot or the counsellor, queueing, records) and in order with the user's
LINE events. Replies reach the page live through the same hub as the consoles (ids only; the page fetches the text
with its cookie). Every write needs the session's CSRF token; nothing of the text is ever logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sanic.response import text as text_response
from sanic.server.websockets.impl import WebsocketImplProtocol
from sqlalchemy import Select, select

from handoff import events
from handoff.domain import contact_details, securechat
from handoff.http import securechat_pages as pages
from handoff.line.events import clean_text
from handoff.line.messages import MAX_TEXT
from handoff.pipeline.inbox import store_events, urgent_users
from handoff.store.db import notify
from handoff.store.models import Message
from handoff.store.types import utcnow
from handoff.store.values import Channel, Direction
from handoff.timeutil import to_tokyo

log = logging.getLogger(__name__)
bp = Blueprint("securechat", url_prefix=securechat.PATH)
MAX_BODY = 64 * 1024  # a message of MAX_TEXT characters in JSON, with room to spare
RECHECK_SECONDS = 10.0
SHOWN = {"user": "me", "agent": "counsellor", "bot": "bot", "system": "system"}


def _policy(request: Request) -> securechat.Policy:
    policy = getattr(request.app.ctx, "securechat", None)
    if policy is None:
        policy = request.app.ctx.securechat = securechat.Policy.of(request.app.ctx.settings)
    return policy


def _problem(status: int, error: str, message: str) -> HTTPResponse:
    return json_response({"error": error, "message": message}, status=status, ensure_ascii=False)


async def _visitor(request: Request, *, touch: bool = True) -> securechat.Visitor:
    async with request.app.ctx.db.session() as session:
        return await securechat.visitor(session, request.cookies.get(pages.COOKIE), _policy(request),
                                        user_agent=request.headers.get("user-agent", ""), at=utcnow(), touch=touch)


def _same_origin(request: Request) -> bool:
    """A browser sends Origin with every POST and WebSocket; it must be this host (CSRF, socket hijacking)."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


async def _writer(request: Request) -> tuple[securechat.Visitor, dict[str, Any]] | HTTPResponse:
    """The session behind a write and its JSON object, or the refusal: a valid cookie, the same origin, the
    session's CSRF token, and a body that is a JSON object of sane size."""
    try:
        who = await _visitor(request)
    except securechat.Refused as exc:
        return _problem(401, exc.reason, pages.REFUSALS[exc.reason][0])
    token = request.headers.get("x-csrf-token", "")
    if not _same_origin(request) or not secrets.compare_digest(token.encode(), who.csrf_token.encode()):
        return _problem(403, "csrf", "画面を開き直してから、もう一度送ってください。")
    body = _json_body(request)
    return body if isinstance(body, HTTPResponse) else (who, body)


def _json_body(request: Request) -> dict[str, Any] | HTTPResponse:
    if len(request.body or b"") > MAX_BODY:
        return _problem(413, "too_large", f"{MAX_TEXT}文字以内で送ってください。")
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _problem(400, "invalid", "送れませんでした。画面を開き直してください。")
    if not isinstance(body, dict):
        return _problem(400, "invalid", "送れませんでした。画面を開き直してください。")
    return body


@bp.on_response
async def headers(request: Request, response: HTTPResponse) -> None:
    response.headers.update(pages.security_headers(_policy(request).public_url))


@bp.get("/open", name="open")
async def open_link(request: Request) -> HTTPResponse:
    """Spend the link and set the device's cookie. Refusals say why in plain Japanese and set nothing."""
    throttle = getattr(request.app.ctx, "securechat_throttle", None)
    if throttle is None:
        throttle = request.app.ctx.securechat_throttle = pages.Throttle()
    address = request.remote_addr or request.ip or "?"
    if throttle.blocked(address):
        response = pages.refused("throttled", status=429)
        response.headers["Retry-After"] = str(int(throttle.window))
        return response
    token = request.args.get("t", "")
    policy = _policy(request)
    try:
        if not token or len(token) > 128:
            raise securechat.Refused("unknown")
        async with request.app.ctx.db.session() as session:
            secret, _, _ = await securechat.open_link(session, token, user_agent=request.headers.get("user-agent", ""),
                                                      at=utcnow())
    except securechat.Refused as exc:
        throttle.failed(address)
        log.info("secure link refused: %s", exc.reason)
        return pages.refused(exc.reason)
    response = pages.opened()
    response.add_cookie(pages.COOKIE, secret, path=securechat.PATH, httponly=True, samesite="Strict",
                        secure=policy.public_url.startswith("https://"), max_age=policy.max_seconds)
    return response


@bp.get("/", name="page")
async def page(request: Request) -> HTTPResponse:
    try:
        who = await _visitor(request)
    except securechat.Refused as exc:
        return pages.refused(exc.reason, status=401)
    return pages.chat(who.csrf_token, silent=who.silent, only=_policy(request).only)


@bp.get("/static/<name>", name="static")
async def static(request: Request, name: str) -> HTTPResponse:
    found = pages.asset(name)
    if found is None:
        return text_response("not found", status=404)
    return text_response(found[0], content_type=found[1])


def _newest_turns(conversation_id: int, limit: int) -> Select[tuple[Message]]:
    """The page's turns, newest first: the secure chat's own, never internal notes, never what was said on LINE."""
    return (select(Message).where(Message.conversation_id == conversation_id, Message.channel == Channel.WEB,
                                  Message.internal.is_(False))
            .order_by(Message.event_at.desc(), Message.id.desc()).limit(limit))


@bp.get("/api/messages", name="messages")
async def messages(request: Request) -> HTTPResponse:
    """The secure chat's turns (never internal notes, never what was said on LINE)."""
    try:
        who = await _visitor(request)
    except securechat.Refused as exc:
        return _problem(401, exc.reason, pages.REFUSALS[exc.reason][0])
    async with request.app.ctx.db.session() as session:
        rows = (await session.scalars(_newest_turns(who.conversation_id, 200))).all()
        asked = await contact_details.pending(session, who.conversation_id)
    items = [{"id": m.id, "client_id": m.line_message_id if m.direction == Direction.IN else None,
              "from": SHOWN.get(m.sender, "system"), "text": m.text or "",
              "at": to_tokyo(m.event_at).strftime("%H:%M"), "read": m.read_at is not None} for m in reversed(rows)]
    offered = _offered(rows[0]) if rows else {}
    return json_response({"items": items, "on_web": who.on_web, "quick_replies": list(offered),
                          "contact_form": contact_details.form_fields() if asked else None}, ensure_ascii=False)


def _offered(last: Message) -> dict[str, str]:
    """The buttons of the newest turn when it is an answer to the user (title → payload), as LINE shows quick
    replies: gone once anything newer is said."""
    if last.direction != Direction.OUT or not last.quick_replies:
        return {}
    return {str(q.get("title", "")): str(q.get("payload", "")) for q in last.quick_replies if q.get("title")}


async def _tapped(request: Request, who: securechat.Visitor, title: str) -> str | None:
    """The payload of a button the page offers now; None for any other title (no payload is taken from the
    browser, so the page can send nothing a LINE user could not tap)."""
    async with request.app.ctx.db.session() as session:
        last = await session.scalar(_newest_turns(who.conversation_id, 1))
    return _offered(last).get(title) if last is not None else None


@bp.post("/api/messages", name="send")
async def send(request: Request) -> HTTPResponse:
    """Store what the user wrote as an inbox event for the worker: 202, then it shows as sent."""
    written = await _writer(request)
    if isinstance(written, HTTPResponse):
        return written
    who, body = written
    client_id = "w" + secrets.token_hex(12)
    event: dict[str, Any] = {
        "type": "message", "mode": "active", "channel": Channel.WEB, "webhookEventId": f"web-{client_id}",
        "timestamp": int(time.time() * 1000), "source": {"type": "user", "userId": who.line_user_id},
    }
    if isinstance(body.get("reply"), str):  # a quick-reply button, sent on as LINE sends a tap: a postback
        payload = await _tapped(request, who, body["reply"])
        if payload is None:
            return _problem(409, "stale", "このボタンはもう使えません。文字で送ってください。")
        event.update(type="postback", postback={"data": payload, "displayText": body["reply"]})
    else:
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return _problem(400, "empty", "メッセージを入力してください。")
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
            return _problem(413, "too_long", f"{MAX_TEXT}文字以内で送ってください。")
        event["message"] = {"type": "text", "id": client_id, "text": clean_text(text.strip())}
    await store_events(request.app.ctx.db, [event])
    request.app.ctx.wake("inbox", [who.line_user_id], urgent_users(request.app.ctx.resources.safety, [event]))
    return json_response({"client_id": client_id if "message" in event else None}, status=202)


@bp.post("/api/contact-details", name="contact_details")
async def send_contact_details(request: Request) -> HTTPResponse:
    """The answers to the counsellor's contact form, sealed before they are stored (handoff/domain/contact_details)."""
    written = await _writer(request)
    if isinstance(written, HTTPResponse):
        return written
    who, body = written
    keys = request.app.ctx.settings.contact_keys
    if not keys:
        return _problem(409, "not_configured", "いまはフォームを使えません。メッセージで相談員に伝えてください。")
    try:
        async with request.app.ctx.db.session() as session:
            await contact_details.submit(session, contact_details.Sealer(keys), who.conversation_id, body)
            notify(session, events.message(who.conversation_id))
    except contact_details.DetailsInvalid as exc:
        return json_response({"error": "invalid", "message": "入力を確かめてください。", "fields": exc.fields},
                             status=400, ensure_ascii=False)
    except LookupError:
        return _problem(409, "not_asked", "このフォームはもう閉じています。")
    return json_response({"sent": True}, status=201)


@bp.post("/api/leave", name="leave")
async def leave(request: Request) -> HTTPResponse:
    written = await _writer(request)
    if isinstance(written, HTTPResponse):
        return written
    async with request.app.ctx.db.session() as session:
        await securechat.leave(session, written[0], _policy(request), at=utcnow())
    response = json_response({"left": True})
    response.delete_cookie(pages.COOKIE, path=securechat.PATH)
    return response


@bp.post("/api/settings", name="settings")
async def settings(request: Request) -> HTTPResponse:
    written = await _writer(request)
    if isinstance(written, HTTPResponse):
        return written
    who, body = written
    if not isinstance(body.get("silent"), bool):
        return _problem(400, "invalid", "設定を変えられませんでした。")
    async with request.app.ctx.db.session() as session:
        await securechat.set_silent(session, who, body["silent"])
    return json_response({"silent": body["silent"]})


@bp.websocket("/live", name="live")
async def live(request: Request, ws: WebsocketImplProtocol) -> None:
    """Ids and kinds of this conversation's changes only; the session is re-checked every few seconds."""
    try:
        who = await _visitor(request, touch=False)
    except securechat.Refused:
        who = None
    if who is None or not _same_origin(request):
        await ws.close(code=4401, reason="unauthorized")
        return
    checked = time.monotonic()
    async with request.app.ctx.hub.subscribe() as queue:
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), timeout=RECHECK_SECONDS)
            except TimeoutError:
                event = events.ping()
            if time.monotonic() - checked >= RECHECK_SECONDS or event.get("conversation_id") == who.conversation_id:
                checked = time.monotonic()
                try:
                    await _visitor(request, touch=False)
                except securechat.Refused:
                    with contextlib.suppress(Exception):
                        await ws.close(code=4401, reason="session ended")
                    return
            if event.get("type") == events.EventType.PING or event.get("conversation_id") == who.conversation_id:
                await ws.send(json.dumps({"type": event.get("type")}))
