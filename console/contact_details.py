"""Crisis contact details in the console (R13, issue 16.4): a counsellor asks for them; the young person answers in
the secure chat; the assigned counsellor and supervisors read them on the case page, every read audited.

They are never in a CSV export or the monthly workbook (those read their own tables only), never in a log, and
never sent over LINE: the request itself reaches the young person as a form in the secure chat.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from console import actions
from console.actions import Conflict
from console.api import api_errors
from console.auth import Denied, Principal, audit, guarded
from console.roles import STAFF, Role
from console.serialize import iso
from handoff import events
from handoff.domain import contact_details
from handoff.domain import conversations as conv
from handoff.store.db import notify
from handoff.store.models import Conversation

bp = Blueprint("console_contact_details", url_prefix="/api")


def sealer_of(request: Request) -> contact_details.Sealer | None:
    keys = request.app.ctx.settings.contact_keys
    return contact_details.Sealer(keys) if keys else None


def _may_read(principal: Principal, conversation: Conversation) -> None:
    if principal.role == Role.SUPERVISOR:
        return
    if principal.user_id is None or conversation.assignee_id != principal.user_id:
        raise Denied("conversation", conversation.id, "only the assigned counsellor or a supervisor reads these")


@bp.post("/conversations/<conversation_id:int>/contact-details", name="request_contact_details")
@guarded(*STAFF)
@api_errors
async def request_details(request: Request, conversation_id: int) -> HTTPResponse:
    """Ask the young person for contact details in the secure chat (the holder of an open conversation only)."""
    principal = request.ctx.principal
    if sealer_of(request) is None:
        raise Conflict("not_configured", "連絡先フォームは使えません（YCC_CONTACT_KEYS が設定されていません）。")
    async with request.app.ctx.db.session() as session:
        conversation = await actions.load(session, principal, conversation_id)
        if conversation.status != conv.OPEN or conversation.assignee_id != principal.user_id:
            raise Conflict("not_holder", "対応中の担当者だけが連絡先をたずねられます。")
        asked = await contact_details.open_request(session, conversation.id, principal.user_id)
        audit(session, principal.name, "request_contact", "contact_details", asked.id)
        notify(session, events.message(conversation.id))  # an open secure chat page shows the form at once
        result = {"id": asked.id, "status": asked.status, "fields": contact_details.form_fields()}
    return json(result, status=201, ensure_ascii=False)


@bp.get("/conversations/<conversation_id:int>/contact-details", name="read_contact_details")
@guarded(*STAFF)
@api_errors
async def read_details(request: Request, conversation_id: int) -> HTTPResponse:
    """The answers, opened for the assigned counsellor or a supervisor; each read leaves an audit row."""
    principal = request.ctx.principal
    async with request.app.ctx.db.session() as session:
        conversation = await actions.load(session, principal, conversation_id)
        _may_read(principal, conversation)
        items = [{**item, "requested_at": iso(item["requested_at"]), "submitted_at": iso(item["submitted_at"])}
                 for item in await contact_details.for_conversation(session, sealer_of(request), conversation.id)]
        audit(session, principal.name, "view_contact", "conversation", conversation.id)
    return json({"items": items, "total": len(items)}, ensure_ascii=False)
