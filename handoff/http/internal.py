"""The internal API the action server calls (docs/internal-api.md): the bot asks, the gateway decides.

Guarded by YCC_INTERNAL_TOKEN and meant for 127.0.0.1 only; every answer is JSON, every error has a code.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import events
from handoff.domain import conversations as conv
from handoff.domain import securechat
from handoff.domain.capacity import Lines
from handoff.domain.contacts import (
    ProfileError,
    contact_by_key,
    conversation_of,
    set_consent,
    set_profile_field,
    with_returning,
)
from handoff.domain.eligibility import OUTSIDE, normalise_municipality
from handoff.domain.handoff import closed_text, request_handoff
from handoff.domain.hours import format_next_open
from handoff.domain.referral import HINT_VALUES, decide_referral, with_hints
from handoff.domain.safety import CONCERN
from handoff.pipeline.escalation import NLU_CRISIS_INTENT, escalate, last_user_text
from handoff.store.db import notify
from handoff.store.models import Contact
from handoff.store.values import Channel
from handoff.timeutil import parse_iso, to_tokyo

bp = Blueprint("internal", url_prefix="/internal")


class BadRequest(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _error(code: str, message: str, status: int = 400) -> HTTPResponse:
    return json({"error": code, "message": message}, status=status)


@bp.on_request
async def authorise(request: Request) -> HTTPResponse | None:
    expected = f"Bearer {request.app.ctx.settings.internal_token}"
    if not hmac.compare_digest(request.headers.get("authorization", ""), expected):
        return _error("unauthorised", "internal API token missing or wrong", 401)
    return None


@bp.exception(BadRequest)
async def bad_request(request: Request, exc: BadRequest) -> HTTPResponse:
    return _error(exc.code, str(exc), exc.status)


def _at(value: Any) -> datetime:
    if not isinstance(value, str) or not value:
        raise BadRequest("invalid_at", "`at` must be an ISO 8601 timestamp with an offset")
    try:
        return parse_iso(value)
    except ValueError as exc:
        raise BadRequest("invalid_at", str(exc)) from None


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except Exception:
        raise BadRequest("invalid_json", "the body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("invalid_body", "the body must be a JSON object")
    return body


def _unknown(key: str) -> BadRequest:
    return BadRequest("unknown_contact", f"no contact {key}", 404)


async def _contact(session: Any, key: str) -> Contact:
    contact = await contact_by_key(session, key)
    if contact is None:
        raise _unknown(key)
    return contact


def _eligibility(request: Request, contact: Contact) -> dict[str, Any]:
    """The referral decision (handoff.domain.referral) as the bot reads it."""
    return decide_referral(contact.profile).to_json(request.app.ctx.content)


@bp.get("/hours")
async def hours(request: Request) -> HTTPResponse:
    at = _at(request.args.get("at"))
    ctx = request.app.ctx
    decision = ctx.hours.decide(at)
    closed_now = ctx.content.waiting.closed_now_text(decision, at)
    schedule = ctx.hours.schedule_text()
    return json(
        {
            **decision.to_json(),
            "next_open_text": format_next_open(to_tokyo(decision.next_open)) if decision.next_open else None,
            "service_active": not decision.reason.startswith("service_"),
            # The greeting shows this line: while closed it also says so and when it opens (「月曜の11時から」).
            "schedule_text": f"{schedule}\n{closed_now}" if closed_now else schedule,
            "regular_schedule_text": schedule,
            "closed_now_text": closed_now,
            "text": closed_text(request.app.ctx.content, request.app.ctx.hours, at),
        },
        ensure_ascii=False,
    )


@bp.get("/contacts/<key>")
async def contact(request: Request, key: str) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        row = await with_returning(session, key)
        if row is None:
            raise _unknown(key)
        found, returning = row
        return json(
            {
                "key": found.key,
                "consent": found.consent,
                "profile": found.profile or {},
                "eligibility": _eligibility(request, found),
                "returning": bool(returning),
            },
            ensure_ascii=False,
        )


@bp.post("/contacts/<key>/consent")
async def consent(request: Request, key: str) -> HTTPResponse:
    body = _body(request)
    granted = body.get("granted")
    if not isinstance(granted, bool):
        raise BadRequest("invalid_granted", "`granted` must be true or false")
    at = _at(body.get("at"))
    async with request.app.ctx.db.session() as session:
        found = await _contact(session, key)
        await set_consent(session, found, granted, at, source="bot")
        if granted and request.app.ctx.settings.secure_chat_only:
            await _guideline_mode(session, found, securechat.Policy.of(request.app.ctx.settings), at)
        return json({"consent": found.consent})


async def _guideline_mode(session: AsyncSession, found: Contact, policy: securechat.Policy, at: datetime) -> None:
    """YCC_SECURE_CHAT_ONLY: after the greeting and consent the consultation moves to the secure chat; the bot's
    next words already go there (LINE gets the link, then only notices)."""
    conversation = await conversation_of(session, found.id)
    if conversation is None or conversation.channel == Channel.WEB:
        return
    await securechat.move(session, conversation, Channel.WEB, actor="system", reason="guideline_mode", at=at)
    await securechat.send_link(session, conversation, found, policy, at=at, actor="system", text="guideline")


@bp.post("/contacts/<key>/profile")
async def profile(request: Request, key: str) -> HTTPResponse:
    body = _body(request)
    at = _at(body.get("at"))
    async with request.app.ctx.db.session() as session:
        found = await _contact(session, key)
        if found.consent is not True:
            raise BadRequest("consent_required", "the profile is collected only with consent (R20)", 409)
        field, value = str(body.get("field")), body.get("value")
        if field == "municipality" and value is not None:
            # Typed loosely (「ののいち」「金沢」「富山」): one normaliser for the bot's answers and everyone else's.
            value = normalise_municipality(value) or value
        try:
            set_profile_field(found, field, value, request.app.ctx.content.municipalities())
        except ProfileError as exc:
            raise BadRequest("invalid_profile", str(exc)) from None
        found.last_seen_at = at
        conversation = await conv.conversation_for(session, found, at)
        notify(session, events.profile(conversation.id))
        return json({"profile": found.profile, "eligibility": _eligibility(request, found)}, ensure_ascii=False)


@bp.post("/contacts/<key>/handoff")
async def handoff_request(request: Request, key: str) -> HTTPResponse:
    body = _body(request)
    at = _at(body.get("at"))
    reason = str(body.get("reason") or "user_request")[:32]
    ctx = request.app.ctx
    async with ctx.db.session() as session:
        found = await _contact(session, key)
        conversation = await conv.conversation_for(session, found, at)
        try:
            result = await request_handoff(
                session,
                conversation,
                content=ctx.content,
                hours=ctx.hours,
                lines=Lines(ctx.settings.lines, ctx.settings.session_idle_seconds),
                reason=reason,
                at=at,
                profile=found.profile or {},
            )
        except conv.InvalidTransition as exc:
            raise BadRequest("invalid_state", str(exc), 409) from None
        return json(result.to_json(), ensure_ascii=False)


@bp.post("/contacts/<key>/crisis")
async def crisis(request: Request, key: str) -> HTTPResponse:
    """The bot's crisis intent. It never raises `crisis` on its own: had the gateway's screen found danger in the
    message, Rasa would not have heard it. The intent alone is a `concern` for a counsellor to read (issue 13:
    the intent scored 0.91–0.98 on plain care talk), and only from YCC_NLU_CONCERN_MIN_CONFIDENCE on; below it
    nothing is flagged and the bot gets a warm answer to say instead of silence. The answer's `text`, if any, is
    for the bot to say."""
    body = _body(request)
    at = _at(body.get("at"))
    ctx = request.app.ctx
    confidence = body.get("confidence")
    if isinstance(confidence, int | float) and confidence < ctx.settings.nlu_concern_min_confidence:
        return json({"level": None, "escalation_id": None, "text": ctx.content.reply("nlu_crisis_unsure")})
    async with ctx.db.session() as session:
        found = await _contact(session, key)
        conversation = await conv.conversation_for(session, found, at)
        flagged = await escalate(
            session,
            conversation=conversation,
            contact=found,
            content=ctx.content,
            hours=ctx.hours,
            source=str(body.get("source") or "nlu")[:16],
            level=CONCERN,
            category=NLU_CRISIS_INTENT,
            at=at,
            message=await last_user_text(session, conversation.id),
            deliver=False,
        )
        escalation_id = flagged.escalation.id if flagged.escalation is not None else None
    return json({"level": flagged.level, "escalation_id": escalation_id, "text": flagged.text}, ensure_ascii=False)


@bp.get("/municipality")
async def municipality(request: Request) -> HTTPResponse:
    """A loosely typed place (「野々市」「かなざわ」「富山」) → one of the 20 values, or null."""
    return json({"municipality": normalise_municipality(request.args.get("text"))}, ensure_ascii=False)


@bp.get("/services")
async def services(request: Request) -> HTTPResponse:
    """The services that fit the person (at most 3, the first one to try first), for a place typed loosely;
    with `contact`, chosen by that contact's profile too, and by what the bot read from the person's words
    (`age_band`, `role`, `care_recipients`, `care_needs`: referral.with_hints). `all_items` is the whole list."""
    content = request.app.ctx.content
    typed = request.args.get("municipality")
    place = normalise_municipality(typed) if typed else None
    if typed and place is None:
        raise BadRequest("unknown_municipality", "not a municipality this service knows", 404)
    profile: dict[str, Any] = {}
    key = request.args.get("contact")
    if key:
        async with request.app.ctx.db.session() as session:
            profile = (await _contact(session, key)).profile or {}
    hints = {field: request.args.get(field) for field in HINT_VALUES if request.args.get(field) is not None}
    try:
        profile = with_hints(profile, hints)
    except ValueError as exc:
        raise BadRequest("invalid_hint", str(exc)) from None
    place = place or profile.get("municipality") or OUTSIDE
    return json(
        {
            "municipality": place,
            "items": [asdict(s) for s in content.referral(profile, place)],
            "text": content.referral_text(profile, place),
            "all_items": [asdict(s) for s in content.services(place)],
        },
        ensure_ascii=False,
    )


@bp.get("/hotlines")
async def hotlines(request: Request) -> HTTPResponse:
    content = request.app.ctx.content
    return json(
        {"items": [asdict(h) for h in content.hotlines(only_24h=False)], "text": content.hotlines_text(only_24h=False)},
        ensure_ascii=False,
    )
