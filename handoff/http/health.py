"""Liveness and readiness, for `make run`'s wait loop and for the operator's monitoring."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

bp = Blueprint("health")


@bp.get("/healthz")
async def healthz(request: Request) -> HTTPResponse:
    return json({"status": "ok"})


async def _action_server_up(request: Request) -> bool:
    try:
        response = await request.app.ctx.http.get(f"{request.app.ctx.settings.action_server_url}/health", timeout=2.0)
        return response.status_code == 200
    except Exception:
        return False


@bp.get("/readyz")
async def readyz(request: Request) -> HTTPResponse:
    db_ok, rasa_ok, actions_ok = await asyncio.gather(
        request.app.ctx.db.ping(), request.app.ctx.rasa.ready(), _action_server_up(request)
    )
    checks = {"database": db_ok, "rasa": rasa_ok, "action_server": actions_ok}
    worker = request.app.ctx.worker_process
    if worker is not None:  # YCC_WORKER=process: the child that answers users must be running
        checks["worker"] = worker.ready
    return json({"ready": all(checks.values()), "checks": checks}, status=200 if all(checks.values()) else 503)
