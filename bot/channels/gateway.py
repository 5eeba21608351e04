"""The REST channel the gateway posts every turn to, refusing any caller without the gateway's shared secret.

Why not Rasa's own `rest` channel: it accepts anyone who can reach port 5005, so any local process could inject
turns as any sender (and so trigger actions that write a young person's profile or raise alerts). This channel
keeps the `rest` name, URL (`/webhooks/rest/webhook`) and request shape, so the gateway and the trackers' input
channel stay the same; it adds:

- `Authorization: Bearer <YCC_RASA_TOKEN>` on every request, compared in constant time; 401 otherwise;
- `GET /webhooks/rest/` tells whether a model is loaded (`model_file`), for the gateway's readiness, since Rasa runs
  without `--enable-api` (whose `/status` used to answer that) and its HTTP API is not exposed at all;
- no message text in the log when a turn fails (Rasa's `RestInput` logs the text with the exception);
- the intent the turn was understood as, in the `X-YCC-NLU` header (`{"intent": …, "confidence": …}`): trainers
  review misread turns on the console, and only the tracker knows what NLU said (the body stays Rasa's list).
"""

from __future__ import annotations

import hmac
import json
import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import UserUttered
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)

TOKEN_ENV = "YCC_RASA_TOKEN"
MIN_TOKEN_LENGTH = 16
NLU_HEADER = "X-YCC-NLU"


def bearer_matches(request: Request, token: str) -> bool:
    """Constant-time check of `Authorization: Bearer <token>` (a plain `==` leaks the matching prefix length)."""
    return hmac.compare_digest(request.headers.get("authorization", ""), f"Bearer {token}")


async def understood_as(app_ctx: Any, sender: str, text: str) -> dict[str, Any] | None:
    """The intent and confidence NLU gave this turn's text, from the tracker the turn just updated. Best effort: a
    turn that produced no user event (or a tracker store error) has nothing to report.

    Read from the user events rather than `latest_message`: a fallback reverts the user's turn
    (UserUtteranceReverted), after which `latest_message` is the previous turn's."""
    agent = getattr(app_ctx, "agent", None)
    try:
        tracker = await agent.tracker_store.retrieve(sender) if agent is not None else None
    except Exception as exc:  # never fail the answer for the trainers' label
        log.warning("tracker read failed: %s", type(exc).__name__)
        return None
    events = list(tracker.events) if tracker is not None else []
    turn = next((e for e in reversed(events) if isinstance(e, UserUttered) and e.text == text), None)
    intent = (turn.intent or {}) if turn is not None else {}
    name, confidence = intent.get("name"), intent.get("confidence")
    if not isinstance(name, str) or not name:
        return None
    return {"intent": name, "confidence": round(float(confidence or 0.0), 4)}


def unauthorised() -> HTTPResponse:
    return response.json({"error": "unauthorised", "message": "shared secret missing or wrong"}, status=401)


class GatewayInput(RestInput):
    """Rasa's REST channel behind the gateway's shared secret (credentials.yml: `token: ${YCC_RASA_TOKEN}`)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> GatewayInput:
        token = str((credentials or {}).get("token") or "").strip()
        if len(token) < MIN_TOKEN_LENGTH:
            raise RasaException(
                f"{TOKEN_ENV} must be set to a random secret of at least {MIN_TOKEN_LENGTH} characters, shared with "
                "the gateway (`make run` makes one per start)."
            )
        return cls(token)

    def __init__(self, token: str) -> None:
        self.token = token

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("gateway_webhook", __name__)

        @bp.middleware("request")
        async def authorise(request: Request) -> HTTPResponse | None:
            return None if bearer_matches(request, self.token) else unauthorised()

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            ready = agent is not None and agent.is_ready()
            return response.json({"status": "ok", "model_file": agent.processor.model_filename if ready else None})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            collector = CollectingOutputChannel()
            sender = await self._extract_sender(request)
            message = UserMessage(
                self._extract_message(request),
                collector,
                sender,
                input_channel=self._extract_input_channel(request),
                metadata=self.get_metadata(request),
            )
            try:
                await on_new_message(message)
            except CancelledError:
                log.error("turn timed out")
            except Exception as exc:  # answered with what was collected, as RestInput does; no text in the log
                log.error("turn failed: %s", type(exc).__name__)
            nlu = await understood_as(request.app.ctx, sender, message.text or "")
            headers = {NLU_HEADER: json.dumps(nlu)} if nlu else None
            return response.json(collector.messages, headers=headers)

        return bp
