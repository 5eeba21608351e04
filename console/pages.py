"""Console pages for counsellors and supervisors: queue, chat, crisis cases.

Pages are thin shells rendered on the server with the authorisation already checked; the data comes from the
same JSON API that outside tools use (console/static/*.js), and live updates from /console/live.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from console import actions
from console.actions import CARE_RECIPIENTS, TOPICS
from console.auth import audit, guarded
from console.cases import STEPS, case_json, load_case
from console.render import render
from console.roles import HOME, STAFF

bp = Blueprint("console_pages", url_prefix="/console")


@bp.get("/", name="home")
@guarded()
async def home(request: Request) -> HTTPResponse:
    return redirect(HOME.get(request.ctx.principal.role, "/console/login"))


@bp.get("/queue", name="queue_page")
@guarded(*STAFF)
async def queue_page(request: Request) -> HTTPResponse:
    return render(request, "queue.html", {"title": "相談の待ち行列"})


@bp.get("/chat/<conversation_id:int>", name="chat_page")
@guarded(*STAFF)
async def chat_page(request: Request, conversation_id: int) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        conversation = await actions.load(session, request.ctx.principal, conversation_id)
        audit(session, request.ctx.principal.name, "view_chat", "conversation", conversation.id)
    return render(request, "chat.html", {
        "title": f"相談 #{conversation_id}", "conversation_id": conversation_id, "topics": TOPICS,
        "care_recipients": CARE_RECIPIENTS,
    })


@bp.get("/cases", name="cases_page")
@guarded(*STAFF)
async def cases_page(request: Request) -> HTTPResponse:
    return render(request, "cases.html", {"title": "危機対応ケース"})


@bp.get("/cases/<escalation_id:int>", name="case_page")
@guarded(*STAFF)
async def case_page(request: Request, escalation_id: int) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        escalation = await load_case(session, request.ctx.principal, escalation_id)
        audit(session, request.ctx.principal.name, "view_case", "escalation", escalation_id)
        case = case_json(escalation)
    return render(request, "case.html", {"title": f"危機対応ケース #{escalation_id}", "case": case, "steps": STEPS})
