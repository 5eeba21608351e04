"""情報配信 (issue 17 item 1, ウ): supervisors and admins compose a delivery to friends, see how many it reaches,
send it now or at a set time, and follow its progress. The worker sends it (handoff/pipeline/broadcasts.py).

Every creation, cancellation, resumption and view is audited with ids and counts, never the text. The page is
`/console/broadcasts`; the API is `/api/broadcasts` (the page calls it, so the API is the one way in).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.exceptions import PayloadTooLarge
from sanic.response import HTTPResponse, json
from sqlalchemy.ext.asyncio import AsyncSession

from console.api import api_errors, body_of, problem
from console.auth import NotFound, audit, guarded
from console.bounds import row_id_ok
from console.render import render
from console.roles import BROADCASTERS
from handoff.domain import broadcast_images, broadcasts, profile
from handoff.domain.eligibility import MUNICIPALITIES, OUTSIDE
from handoff.line.messages import MAX_TEXT
from handoff.store.models_broadcasts import Broadcast
from handoff.store.types import utcnow

bp = Blueprint("console_broadcasts", url_prefix="/api")
page_bp = Blueprint("console_broadcasts_page", url_prefix="/console")
LIST_LIMIT = 50
MAX_CREATE_BODY = (broadcast_images.MAX_BYTES * 4) // 3 + 256 * 1024  # the image in base64 and the rest


def _refused(exc: broadcasts.BroadcastError) -> HTTPResponse:
    error = "empty_segment" if isinstance(exc, broadcasts.EmptySegment) else "invalid"
    return problem(400, error, exc.message, fields={exc.field: exc.message})


async def _progress(session: AsyncSession, broadcast: Broadcast) -> dict[str, Any]:
    statuses = await broadcasts.batch_statuses(session, broadcast.id)
    return broadcasts.progress(broadcast, statuses, await broadcast_images.urls_of(session, broadcast.id))


@bp.post("/broadcasts/count", name="count_broadcast")
@guarded(*BROADCASTERS)
@api_errors
async def count(request: Request) -> HTTPResponse:
    """How many friends a segment reaches now (the form shows it before anything is sent)."""
    body = body_of(request)
    if "segment" not in body:
        return problem(400, "invalid", "配信先（segment）を指定してください。友だち全員なら {} です。",
                       fields={"segment": "必須です。"})
    try:
        segment = broadcasts.parse_segment(body["segment"])
    except broadcasts.BroadcastError as exc:
        return _refused(exc)
    async with request.app.ctx.db.session() as session:
        recipients = len(await broadcasts.audience(session, segment))
    return json({"recipients": recipients})


def _image(request: Request, body: dict) -> tuple[broadcast_images.PreparedImage, str, tuple[str, str]] | None:
    """The delivery's image, re-encoded, with its token and public URLs; checked before anything is stored."""
    image = broadcast_images.prepare(body.get("image"))
    if image is None:
        return None
    settings = request.app.ctx.settings
    token = broadcast_images.new_token()
    return image, token, broadcast_images.urls(settings.secure_chat_url, token, image.extension,
                                               real_line=not settings.simulator)


@bp.post("/broadcasts", name="create_broadcast", stream=True)
@guarded(*BROADCASTERS)
@api_errors
async def create(request: Request) -> HTTPResponse:
    """Streamed so that this one route may take a body the size of a 10 MB image in base64 (the app's limit is 5 MB)."""
    request.stream.request_max_size = MAX_CREATE_BODY  # type: ignore[union-attr]
    try:
        await request.receive_body()
    except PayloadTooLarge:
        return problem(400, "invalid", broadcast_images.TOO_BIG, fields={"image": broadcast_images.TOO_BIG})
    body = body_of(request)
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        try:
            image = _image(request, body)
            broadcast = await broadcasts.create(session, body, author=principal.name, user_id=principal.user_id,
                                                now=utcnow())
            if image is not None:
                await broadcast_images.attach(session, broadcast, *image)
        except broadcasts.BroadcastError as exc:
            audit(session, principal.name, "broadcast_create", "broadcast", None, allowed=False,
                  detail=f"refused: {exc.field}")
            return _refused(exc)
        audit(session, principal.name, "broadcast_create", "broadcast", broadcast.id,
              detail=f"recipients={broadcast.recipients}; silent={broadcast.silent}; "
                     f"segment={','.join(broadcast.segment) or 'all'}")
        answer = {"id": broadcast.id, "recipients": broadcast.recipients}
    return json(answer, status=201)


@bp.get("/broadcasts", name="list_broadcasts")
@guarded(*BROADCASTERS)
@api_errors
async def list_all(request: Request) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        total, rows = await broadcasts.newest(session, LIST_LIMIT)
        items = [await _progress(session, b) for b in rows]
        audit(session, request.ctx.principal.name, "view_broadcasts", "broadcast", None)
    return json({"items": items, "total": total}, ensure_ascii=False)


async def _one(request: Request, broadcast_id: int, action: str) -> HTTPResponse:
    if not row_id_ok(broadcast_id):
        raise NotFound()
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise NotFound()
        now = utcnow()
        changed = {"cancel": broadcasts.cancel, "resume": broadcasts.resume}.get(action)
        if changed is not None and not changed(broadcast, now):
            audit(session, principal.name, f"broadcast_{action}", "broadcast", broadcast_id, allowed=False,
                  detail=f"status {broadcast.status}")
            word = "止められません" if action == "cancel" else "再開できるのは一時停止中の配信だけです"
            return problem(409, "conflict", f"この配信は{word}。", state=broadcast.status)
        audit(session, principal.name, "view_broadcast" if changed is None else f"broadcast_{action}", "broadcast",
              broadcast_id)
        data = await _progress(session, broadcast)
    return json(data, ensure_ascii=False)


@bp.get("/broadcasts/<broadcast_id:int>", name="get_broadcast")
@guarded(*BROADCASTERS)
@api_errors
async def get_one(request: Request, broadcast_id: int) -> HTTPResponse:
    return await _one(request, broadcast_id, "view")


@bp.post("/broadcasts/<broadcast_id:int>/cancel", name="cancel_broadcast")
@guarded(*BROADCASTERS)
@api_errors
async def cancel(request: Request, broadcast_id: int) -> HTTPResponse:
    return await _one(request, broadcast_id, "cancel")


@bp.post("/broadcasts/<broadcast_id:int>/resume", name="resume_broadcast")
@guarded(*BROADCASTERS)
@api_errors
async def resume(request: Request, broadcast_id: int) -> HTTPResponse:
    return await _one(request, broadcast_id, "resume")


@page_bp.get("/broadcasts", name="broadcasts_page")
@guarded(*BROADCASTERS)
async def page(request: Request) -> HTTPResponse:
    labels = profile.labels()
    choices = {
        "age_band": labels["age_band"],
        "care_recipients": labels["care_recipients"],
        "role": labels["role"],
        "municipality": {m: m for m in MUNICIPALITIES if m != OUTSIDE},
    }
    return render(request, "broadcasts.html", {"title": "情報配信", "choices": choices, "max_text": MAX_TEXT})
