"""`POST /line/webhook`: check the signature on the raw body, store every event, answer 200. Nothing slow.

LINE waits about two seconds and then redelivers; everything beyond storing (Rasa, replies, state) happens in the
inbox worker after the 200.
"""

from __future__ import annotations

import json
import logging
import time

from linebot.v3 import SignatureValidator
from prometheus_client import Histogram
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from handoff.line.events import MAX_DEPTH, problem
from handoff.pipeline.inbox import source_key, store_events, urgent_users

log = logging.getLogger(__name__)
bp = Blueprint("line_webhook")
# LINE gives up after about two seconds: the buckets around that are the ones an operator watches.
ACK_SECONDS = Histogram(
    "ycc_webhook_seconds", "Time to answer LINE's webhook, by HTTP status", ["status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0),
)


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return json_response({"error": code, "message": message}, status=status)


@bp.post("/line/webhook")
async def webhook(request: Request) -> HTTPResponse:
    started = time.perf_counter()
    response = await _webhook(request)
    ACK_SECONDS.labels(str(response.status)).observe(time.perf_counter() - started)
    return response


async def _webhook(request: Request) -> HTTPResponse:
    validator: SignatureValidator = request.app.ctx.signature_validator
    signature = request.headers.get("x-line-signature", "")
    body = request.body or b""
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "invalid_body", "the body is not UTF-8")
    if not signature or not validator.validate(decoded, signature):
        log.warning("webhook rejected: bad or missing signature")
        return _error(400, "invalid_signature", "X-Line-Signature does not match the body")
    try:
        payload = json.loads(body)
    except RecursionError:
        return _error(400, "invalid_json", f"the body nests too deeply (events nest at most {MAX_DEPTH} levels)")
    except (ValueError, UnicodeDecodeError):
        return _error(400, "invalid_json", "the body is not JSON")
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        return _error(400, "invalid_body", "the body has no list of events")
    problems = {i: why for i, e in enumerate(events) if (why := problem(e)) is not None}
    accepted = [e for i, e in enumerate(events) if i not in problems]
    if accepted:  # an empty list is LINE's "Verify" button
        try:
            new = await store_events(request.app.ctx.db, accepted)
        except Exception as exc:  # its message could quote a value; LINE redelivers after a 500
            log.warning("webhook could not store %d event(s): %s", len(accepted), type(exc).__name__)
            return _error(500, "not_stored", "the events could not be stored; send them again")
        urgent = urgent_users(request.app.ctx.resources.safety, accepted)
        request.app.ctx.wake("inbox", sorted({source_key(e) for e in accepted}), urgent)
        log.info("webhook stored %d new of %d event(s)", new, len(accepted))
    if problems:
        log.warning("webhook refused %d of %d event(s)", len(problems), len(events))
        return json_response({
            "error": "invalid_events",
            "message": f"{len(problems)} event(s) refused; the other {len(accepted)} were stored",
            "refused": [{"index": i, "reason": why} for i, why in problems.items()],
        }, status=400)
    return json_response({})
