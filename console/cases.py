"""Crisis cases (R13): the checklist, its timestamps, and the rule that nothing closes half-done without a reason.

The gateway opens the case (handoff/pipeline/escalation.py); here staff record each step. A step is stored as
`{"done": true, "at": ISO, "by": name, "note": …}`. Contact details and the situation are confirmed off LINE
(phone, or the secure form a later issue adds) and never typed into LINE messages (R14).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sqlalchemy.ext.asyncio import AsyncSession

from console import actions, reads, safety_feedback
from console.actions import Conflict, Invalid
from console.api import api_errors, body_of
from console.auth import Denied, NotFound, Principal, audit, guarded, holds
from console.roles import STAFF, Role
from console.serialize import escalation_json, iso
from handoff import events
from handoff.domain import conversations as conv
from handoff.domain.outgoing import raise_alert
from handoff.store.db import notify
from handoff.store.models import Conversation, Escalation
from handoff.store.types import utcnow
from handoff.store.values import EscalationStatus

bp = Blueprint("console_cases", url_prefix="/api")
STEPS: dict[str, str] = {
    "contact_confirmed": "連絡先を確認した（電話・安全なWebフォームで。LINEでは聞かない）",
    "situation_confirmed": "状況を確認した（いる場所・けが・危険の有無）",
    "provider_notified": "対応体制の受託事業者（責任者）に連絡した",
    "police_notified": "石川県警察に通報した",
    "prefecture_notified": "石川県（担当課）に報告した",
}


def may_see_case(principal: Principal, conversation: Conversation) -> bool:
    """Supervisors see every case; a counsellor the cases of conversations they hold."""
    if principal.role == Role.SUPERVISOR:
        return True
    return principal.role == Role.COUNSELLOR and principal.user_id is not None and (
        conversation.assignee_id == principal.user_id)


async def load_case(session: Any, principal: Principal, escalation_id: int) -> Escalation:
    escalation = await session.get(Escalation, escalation_id, populate_existing=True)
    if escalation is None:
        raise NotFound()
    conversation = await session.get(Conversation, escalation.conversation_id)
    if conversation is None or not may_see_case(principal, conversation):
        raise Denied("escalation", escalation_id, f"{principal.role} may not access this case")
    return escalation


def missing_steps(escalation: Escalation) -> list[str]:
    checklist = escalation.checklist or {}
    return [key for key in STEPS if not (checklist.get(key) or {}).get("done")]


def case_json(escalation: Escalation) -> dict[str, Any]:
    data = escalation_json(escalation)
    data["steps"] = [{"key": k, "label": v, **((escalation.checklist or {}).get(k) or {"done": False})}
                     for k, v in STEPS.items()]
    data["missing"] = missing_steps(escalation)
    return data


@bp.get("/escalations", name="list_escalations")
@guarded(*STAFF)
@api_errors
async def list_escalations(request: Request) -> HTTPResponse:
    status = request.args.get("status") or "open"
    if status not in (*EscalationStatus, "all"):
        raise Invalid({"status": "open, closed, all のいずれかです。"})
    principal = request.ctx.principal
    where = [] if status == "all" else [Escalation.status == status]
    if principal.role != Role.SUPERVISOR:
        where.append(holds(principal))
    async with request.app.ctx.db.session() as session:
        rows = await reads.escalations(session, where, 500)
        items = [case_json(e) for e in rows]
    return json({"items": items, "total": len(items)}, ensure_ascii=False)


@bp.get("/escalations/<escalation_id:int>", name="get_escalation")
@guarded(*STAFF)
@api_errors
async def get_escalation(request: Request, escalation_id: int) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        escalation = await load_case(session, request.ctx.principal, escalation_id)
        audit(session, request.ctx.principal.name, "view_case", "escalation", escalation_id)
        result = case_json(escalation)
    return json(result, ensure_ascii=False)


@bp.post("/escalations/<escalation_id:int>/steps", name="record_step")
@guarded(*STAFF)
@api_errors
async def record_step(request: Request, escalation_id: int) -> HTTPResponse:
    body = body_of(request)
    step = body.get("step")
    if not isinstance(step, str) or step not in STEPS:
        raise Invalid({"step": "不明な項目です。"})
    note = body.get("note") or ""
    if not isinstance(note, str) or len(note) > 1000:
        raise Invalid({"note": "メモは1000文字以内の文字列です。"})
    done = body.get("done", True)
    if not isinstance(done, bool):
        raise Invalid({"done": "true か false です。"})
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        escalation = await load_case(session, principal, escalation_id)
        if escalation.status != EscalationStatus.OPEN:
            raise Conflict("closed", "このケースは終了しています。")
        checklist = dict(escalation.checklist or {})
        checklist[step] = {"done": done, "at": iso(utcnow()), "by": principal.name, "note": note.strip()}
        escalation.checklist = checklist  # reassign so the JSON column is written
        audit(session, principal.name, "case_step", "escalation", escalation_id, detail=f"{step}={done}")
        notify(session, events.case(escalation.id, escalation.conversation_id))
        result = case_json(escalation)
    return json(result, ensure_ascii=False)


@bp.post("/escalations/<escalation_id:int>/close", name="close_case")
@guarded(*STAFF)
@api_errors
async def close_case(request: Request, escalation_id: int) -> HTTPResponse:
    """Close with an outcome; if any step is not done, a reason is required and recorded."""
    body = body_of(request)
    outcome = body.get("outcome")
    reason = body.get("reason")
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        escalation = await load_case(session, principal, escalation_id)
        if escalation.status != EscalationStatus.OPEN:
            raise Conflict("closed", "このケースは終了しています。")
        errors = {}
        if not isinstance(outcome, str) or not outcome.strip():
            errors["outcome"] = "結果（その後どうなったか）を記録してください。"
        missing = missing_steps(escalation)
        if missing and (not isinstance(reason, str) or len(reason.strip()) < 5):
            errors["reason"] = "未完了の項目があります。終了する理由を5文字以上で記録してください。"
        if errors:
            raise Invalid(errors)
        now = utcnow()
        escalation.status = EscalationStatus.CLOSED
        escalation.outcome = outcome.strip()
        escalation.close_reason = reason.strip() if missing and isinstance(reason, str) else None
        escalation.closed_at = now
        escalation.closed_by = principal.user_id
        audit(session, principal.name, "case_close", "escalation", escalation_id,
              detail="missing=" + ",".join(missing) if missing else "complete")
        notify(session, events.case(escalation.id, escalation.conversation_id))
        result = case_json(escalation)
    return json(result, ensure_ascii=False)


async def open_case(session: AsyncSession, principal: Principal, conversation: Conversation, now: datetime,
                    in_hours: bool) -> Escalation:
    """The write behind a counsellor's 「危機として対応」: the case, the crisis alert and the live event, one unit."""
    conv.raise_to_crisis(conversation)
    escalation = Escalation(conversation_id=conversation.id, opened_at=now, source="counsellor",
                            category="counsellor", in_hours=in_hours, checklist={})
    session.add(escalation)
    await session.flush()
    await raise_alert(session, "crisis", conversation_id=conversation.id, at=now, in_hours=in_hours)
    audit(session, principal.name, "case_open", "escalation", escalation.id)
    notify(session, events.crisis(conversation.id, escalation.id))
    return escalation


@bp.post("/conversations/<conversation_id:int>/escalate", name="escalate")
@guarded(*STAFF)
@api_errors
async def escalate(request: Request, conversation_id: int) -> HTTPResponse:
    """A counsellor judges the chat a crisis: open a case and alert staff, without an automatic text to the user."""
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        conversation = await actions.load(session, principal, conversation_id, lock=True)
        existing = await reads.open_case(session, conversation.id)
        if existing is not None:
            return json(case_json(existing), ensure_ascii=False)
        now = utcnow()
        escalation = await open_case(session, principal, conversation, now, request.app.ctx.hours.decide(now).open)
        result = case_json(escalation)
    return json(result, status=201, ensure_ascii=False)


@bp.get("/conversations/<conversation_id:int>/safety-feedback", name="list_safety_feedback")
@guarded(*STAFF)
@api_errors
async def list_safety_feedback(request: Request, conversation_id: int) -> HTTPResponse:
    """Verdicts already given on this conversation's flags, and the reasons a counsellor may choose from."""
    async with request.app.ctx.db.session() as session:
        conversation = await actions.load(session, request.ctx.principal, conversation_id)
        items = await safety_feedback.for_conversation(session, conversation.id)
    return json({"items": items, "total": len(items), "reasons": safety_feedback.load_reasons()},
                ensure_ascii=False)


@bp.post("/conversations/<conversation_id:int>/safety-feedback", name="add_safety_feedback")
@guarded(*STAFF)
@api_errors
async def add_safety_feedback(request: Request, conversation_id: int) -> HTTPResponse:
    """Mark a flag as a false alarm or give it another level, with a reason (issue 13); stored and audited."""
    body = body_of(request)
    async with request.app.ctx.db.session() as session:
        conversation = await actions.load(session, request.ctx.principal, conversation_id)
        feedback = await safety_feedback.record(session, request.ctx.principal, conversation, body)
        notify(session, events.safety_feedback(conversation.id))
        result = safety_feedback.feedback_json(feedback)
    return json(result, status=201, ensure_ascii=False)
