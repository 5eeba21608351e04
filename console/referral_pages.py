"""Referral pages (issue 17 item 7): record one from a consultation, supervisors' list of open ones, a referral's
page with its outcome, and the printable handover summary for the receiving office, which never holds chat text.

Forms are plain HTML posts (CSRF-checked by `guarded`); every view and print is audited (R24, R30).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy.ext.asyncio import AsyncSession

from console import reads
from console import referrals as ref
from console.actions import TOPICS, Conflict, Invalid, load
from console.auth import Denied, NotFound, audit, guarded
from console.render import render
from console.roles import STAFF, Role
from handoff.domain import profile
from handoff.domain.eligibility import MUNICIPALITIES
from handoff.store.models import Conversation, Record
from handoff.store.models_referral import Referral
from handoff.store.types import utcnow

bp = Blueprint("console_referrals", url_prefix="/console")


def _conversation_id(request: Request) -> int:
    raw = request.args.get("conversation", "")
    if not raw.isdigit():
        raise NotFound()
    return int(raw)


def _municipality(request: Request, conversation: Conversation) -> str:
    """The one the counsellor picked, else the person's consented one, else the first (the list can be changed)."""
    chosen = (request.form.get("municipality") if request.method == "POST" and request.form else None) \
        or request.args.get("municipality")
    stored = (conversation.contact.profile or {}).get("municipality") if conversation.contact.consent else None
    for candidate in (chosen, stored):
        if candidate in MUNICIPALITIES:
            return str(candidate)
    return str(MUNICIPALITIES[0])


async def _new_page(request: Request, session: AsyncSession, conversation: Conversation, *,
                    errors: dict[str, str] | None = None, status: int = 200) -> HTTPResponse:
    municipality = _municipality(request, conversation)
    options = ref.choices(request.app.ctx.content, request.app.ctx.support_groups, municipality)
    return render(request, "referral_new.html", {
        "title": "関係機関へつなぐ", "conversation_id": conversation.id, "municipality": municipality,
        "municipalities": MUNICIPALITIES, "options": options, "kinds": ref.KINDS, "shareable": ref.SHAREABLE,
        "errors": errors or {}, "form": request.form if request.form else {},
        "shared": request.form.getlist("shared") or [] if request.form else [],
    }, status=status)


@bp.get("/referrals/new", name="referral_new")
@guarded(*STAFF)
async def referral_new(request: Request) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        conversation = await load(session, request.ctx.principal, _conversation_id(request))
        return await _new_page(request, session, conversation)


@bp.post("/referrals/new", name="referral_create")
@guarded(*STAFF)
async def referral_create(request: Request) -> HTTPResponse:
    form = request.form
    body: dict[str, Any] = {"recipient": form.get("recipient"), "shared": form.getlist("shared") or [],
                            "consent": form.get("consent") == "yes", "note": form.get("note") or ""}
    async with request.app.ctx.db.session() as session:
        conversation = await load(session, request.ctx.principal, _conversation_id(request))
        municipality = _municipality(request, conversation)
        options = ref.choices(request.app.ctx.content, request.app.ctx.support_groups, municipality)
        try:
            referral = await ref.create(session, request.ctx.principal, conversation.id, body, options,
                                        municipality, utcnow())
        except Invalid as exc:
            return await _new_page(request, session, conversation, errors=exc.fields, status=400)
        referral_id = referral.id
    return redirect(f"/console/referrals/{referral_id}")


@bp.get("/referrals", name="referrals_page")
@guarded(Role.SUPERVISOR)
async def referrals_page(request: Request) -> HTTPResponse:
    everything = request.args.get("all") == "1"
    async with request.app.ctx.db.session() as session:
        rows = await ref.listing(session, everything, 500)
        audit(session, request.ctx.principal.name, "view_referral_list", "referral", None,
              detail="all" if everything else "open")
    return render(request, "referrals.html", {"title": "関係機関へのつなぎ", "rows": rows, "all": everything,
                                              "kinds": ref.KINDS, "outcomes": ref.OUTCOMES})


async def _visible(request: Request, session: AsyncSession, referral_id: int) -> Referral:
    referral = await session.get(Referral, referral_id)
    if referral is None:
        raise NotFound()
    if not ref.may_see(request.ctx.principal, referral):
        raise Denied("referral", referral_id, "only the author or a supervisor")
    return referral


@bp.get("/referrals/<referral_id:int>", name="referral_page")
@guarded(*STAFF)
async def referral_page(request: Request, referral_id: int) -> HTTPResponse:
    return await _show(request, referral_id)


async def _show(request: Request, referral_id: int, error: str | None = None, status: int = 200) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        referral = await _visible(request, session, referral_id)
        audit(session, request.ctx.principal.name, "view_referral", "referral", referral_id)
    return render(request, "referral.html", {
        "title": f"つなぎ #{referral_id}", "r": referral, "kinds": ref.KINDS, "outcomes": ref.OUTCOMES,
        "shareable": ref.SHAREABLE, "error": error}, status=status)


@bp.post("/referrals/<referral_id:int>/outcome", name="referral_outcome")
@guarded(*STAFF)
async def referral_outcome(request: Request, referral_id: int) -> HTTPResponse:
    body = {"outcome": request.form.get("outcome"), "outcome_note": request.form.get("outcome_note") or ""}
    try:
        async with request.app.ctx.db.session() as session:
            referral = await _visible(request, session, referral_id)
            await ref.record_outcome(session, request.ctx.principal, referral, body, utcnow())
    except Invalid as exc:
        return await _show(request, referral_id, next(iter(exc.fields.values())), 400)
    except Conflict as exc:
        return await _show(request, referral_id, exc.message, 409)
    return redirect(f"/console/referrals/{referral_id}")


@bp.get("/referrals/<referral_id:int>/summary", name="referral_summary")
@guarded(*STAFF)
async def referral_summary(request: Request, referral_id: int) -> HTTPResponse:
    """What the receiving office may read: only the items the person agreed to share, and no chat text."""
    async with request.app.ctx.db.session() as session:
        referral = await _visible(request, session, referral_id)
        conversation = await session.get(Conversation, referral.conversation_id)
        assert conversation is not None
        record = await reads.latest_record(session, referral.conversation_id)
        audit(session, request.ctx.principal.name, "print_referral", "referral", referral_id,
              detail="shared=" + ",".join(referral.shared))
    return render(request, "referral_summary.html", {
        "title": f"引き継ぎ用の要約 #{referral_id}", "r": referral, "items": shared_items(referral, conversation,
                                                                                        record),
        "kinds": ref.KINDS})


def shared_items(referral: Referral, conversation: Conversation, record: Record | None) -> list[tuple[str, str]]:
    """(label, value) for each shared item, from the consented profile and the latest record; never messages."""
    values = dict(conversation.contact.profile or {}) if conversation.contact.consent else {}
    labels = profile.labels()
    out = []
    for key in referral.shared:
        if key == "topics":
            value = "、".join(TOPICS.get(t, t) for t in (record.topics if record else []))
        elif key == "summary":
            value = record.summary if record else ""
        else:
            raw = values.get(key)
            items = raw if isinstance(raw, list) else [raw] if raw else []
            value = "、".join(labels.get(key, {}).get(str(v), str(v)) for v in items)
        out.append((ref.SHAREABLE[key], value or "（記録なし）"))
    return out
