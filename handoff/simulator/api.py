"""Sanic blueprints for the fake LINE platform: LINE's API paths, test controls, and the simulator page.

Two factories, two blueprints, so the gateway can mount the API where line-bot-sdk expects a host and the page
where people expect a page:

- `create_fakeline_blueprint(fake, url_prefix)` — LINE's paths exactly as LINE spells them relative to the
  prefix (`/v2/bot/message/push`, …), so `Configuration(host=<base URL>+prefix)` works unchanged; plus the
  unauthenticated control endpoints under `<prefix>/_fake/…` (users' side, faults, request log, reset).
- `create_simulator_blueprint(fake, url_prefix, api_prefix)` — `GET <url_prefix>/` serves the chat page, which
  talks to the control endpoints under `api_prefix`.

The control endpoints have no authentication: they exist only in simulator mode (no LINE credentials) and in tests.
State lives in the process, so simulator mode needs a single gateway worker.

Control endpoints (relative to the fakeline prefix):
- `POST /_fake/users/{userId}/events` `{"type": "text"|"sticker"|"image"|"video"|"audio"|"file"|"location"|
  "postback"|"follow"|"unfollow"|"unsend", …, optional "groupId"/"roomId"/"timestamp"/"displayText"}` →
  `{"event", "webhook_status", "at"[, "error"]}` (status 0 = webhook unreachable; 409 if the user blocked).
- `POST /_fake/redeliver/{webhookEventId}` — same event again with `isRedelivery: true`.
- `POST /_fake/webhook/raw` `{"events": [...]}` (signed; the fake learns their reply tokens) or `{"body": str|obj}`;
  `"signature"` overrides the signature.
- `GET /_fake/users`, `POST /_fake/users` `{"displayName"[, "userId"]}`, `GET /_fake/users/{id}/messages`
  (what the bot sent; `?wait_for=N&timeout=S` waits for N),
  `GET /_fake/users/{id}/timeline` (both sides, read marks, loading; for the page).
- `POST /_fake/faults` `{"endpoint": "push"|"multicast"|"reply"|"loading"|"leave"|"markAsRead"|"quota"|"richmenu",
  "responses": [{"status", "message"?, "delay"?, "deliver"?}], "delay"?}` — answered in order, then normal behaviour;
  `{"delay": s}` alone in a response only slows that call; top-level `delay` slows every call of the endpoint;
  `"deliver": true` delivers a push or multicast (and records its retry key) before answering the error.
- `POST /_fake/insight` `{"date": "yyyyMMdd", "status"?, "followers", "targetedReaches", "blocks"}` — what
  `GET /v2/bot/insight/followers?date=` answers for that date (handoff/simulator/insight.py).
- `GET /_fake/richmenus` — the rich menus, their images, the default, aliases and per-user links.
- `GET /_fake/requests[?endpoint=]`, `GET /_fake/deliveries`, `POST /_fake/config` (`webhook_url`,
  `reply_token_ttl`, `monthly_limit`), `POST /_fake/reset`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, JSONResponse, html, redirect, text
from sanic.response import json as json_response

from handoff.line.messages import MAX_TEXT
from handoff.simulator import fake_outreach
from handoff.simulator.fake_outreach_api import add_richmenu_routes
from handoff.simulator.fakeline import ENDPOINTS, RETRY_KEY_ENDPOINTS, FakeLine, new_user_id
from handoff.simulator.insight import FakeInsight
from handoff.simulator.rules import DEFAULT_ERROR_MESSAGES, ApiResult

PAGE_DIR = Path(__file__).resolve().parent / "page"
ACCOUNT_NAME = "いしかわヤングケアラーチャンネル"
_MASKED_HEADERS = {"authorization"}


def _answer(result: ApiResult, request_id: str) -> JSONResponse:
    headers = {"x-line-request-id": request_id, **result.headers}
    return json_response(result.body, status=result.status, headers=headers, ensure_ascii=False)


def _body(request: Request) -> dict[str, Any] | None:
    """The JSON object in the request body, or None when it is not one (LINE answers 400)."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def create_fakeline_blueprint(fake: FakeLine, url_prefix: str = "", name: str = "fakeline") -> Blueprint:
    """LINE's Messaging API paths and the `_fake` control endpoints, bound to one `FakeLine`."""
    bp = Blueprint(name, url_prefix=url_prefix.rstrip("/") or None)

    async def call(request: Request, endpoint: str, run: Any) -> JSONResponse:
        """What every LINE API call shares: request id, auth, retry-key rules, faults, and the request log."""
        request_id = str(uuid.uuid4())
        body = _body(request)
        retry_key = request.headers.get("x-line-retry-key")
        if not fake.authorised(request.headers.get("authorization")):
            result = ApiResult(401, {"message": DEFAULT_ERROR_MESSAGES[401]})
        elif retry_key is not None and endpoint not in RETRY_KEY_ENDPOINTS:
            result = ApiResult(400, {"message": "The X-Line-Retry-Key header is not supported by this API"})
        elif body is None:
            result = ApiResult(400, {"message": "The request body could not be parsed as JSON"})
        else:
            if fake.delays.get(endpoint):
                await asyncio.sleep(fake.delays[endpoint])
            fault = fake.take_fault(endpoint)
            if fault and fault.get("delay"):
                await asyncio.sleep(float(fault["delay"]))
            result = fake.fault_result(fault) if fault else None
            if result is not None and fault and fault.get("deliver") and endpoint in RETRY_KEY_ENDPOINTS:
                # Accepted and delivered, but the caller sees an error: the case retry keys exist for.
                run(body, retry_key, request_id)
            if result is None:
                result = run(body, retry_key, request_id)
        headers = {k.lower(): ("***" if k.lower() in _MASKED_HEADERS else v) for k, v in request.headers.items()}
        fake.requests.append(
            {
                "endpoint": endpoint,
                "method": request.method,
                "path": request.path,
                "headers": headers,
                "retry_key": retry_key,
                "body": body,
                "status": result.status,
                "request_id": request_id,
                "response": result.body,
                "at": fake._iso(),
            }
        )
        return _answer(result, request_id)

    @bp.post("/v2/bot/message/reply", name=f"{name}_reply")
    async def reply(request: Request) -> HTTPResponse:
        return await call(request, "reply", lambda body, key, rid: fake.reply(body))

    @bp.post("/v2/bot/message/push", name=f"{name}_push")
    async def push(request: Request) -> HTTPResponse:
        return await call(request, "push", fake.push)

    @bp.post("/v2/bot/message/multicast", name=f"{name}_multicast")
    async def multicast(request: Request) -> HTTPResponse:
        return await call(request, "multicast", lambda body, key, rid: fake_outreach.multicast(fake, body, key, rid))

    @bp.post("/v2/bot/chat/loading/start", name=f"{name}_loading")
    async def loading(request: Request) -> HTTPResponse:
        return await call(request, "loading", lambda body, key, rid: fake.start_loading(body))

    @bp.post("/v2/bot/chat/markAsRead", name=f"{name}_mark_as_read")
    async def mark_as_read(request: Request) -> HTTPResponse:
        return await call(request, "markAsRead", lambda body, key, rid: fake.mark_as_read(body))

    @bp.post("/v2/bot/group/<chat_id>/leave", name=f"{name}_leave_group")
    async def leave_group(request: Request, chat_id: str) -> HTTPResponse:
        return await call(request, "leave", lambda body, key, rid: fake.leave("group", chat_id))

    @bp.post("/v2/bot/room/<chat_id>/leave", name=f"{name}_leave_room")
    async def leave_room(request: Request, chat_id: str) -> HTTPResponse:
        return await call(request, "leave", lambda body, key, rid: fake.leave("room", chat_id))

    @bp.get("/v2/bot/message/quota", name=f"{name}_quota")
    async def quota(request: Request) -> HTTPResponse:
        return await call(request, "quota", lambda body, key, rid: fake.quota())

    @bp.get("/v2/bot/message/quota/consumption", name=f"{name}_quota_consumption")
    async def consumption(request: Request) -> HTTPResponse:
        return await call(request, "quota", lambda body, key, rid: fake.quota_consumption())

    insight = FakeInsight(fake)

    @bp.get("/v2/bot/insight/followers", name=f"{name}_insight_followers")
    async def insight_followers(request: Request) -> HTTPResponse:
        return await call(request, "insight", lambda body, key, rid: insight.followers(request.args.get("date")))

    @bp.post("/_fake/insight", name=f"{name}_insight_set")
    async def insight_set(request: Request) -> HTTPResponse:
        try:
            return json_response(insight.set_day(_body(request) or {}))
        except ValueError as exc:
            return _error(str(exc))

    add_richmenu_routes(bp, fake, call, name)
    _add_control_routes(bp, fake, name)
    return bp


def _error(message: str, status: int = 400) -> JSONResponse:
    return json_response({"error": message}, status=status, ensure_ascii=False)


class Arrivals:
    """Wakes long polls when the bot sends something. Polling instead (every 2 ms) cost CPU while a benchmark
    timed the gateway, and only then: the bare Rasa call it is compared with had no poller beside it."""

    def __init__(self, fake: FakeLine) -> None:
        self._next: asyncio.Future[None] | None = None
        fake.delivery_listeners.append(self._arrived)

    def _arrived(self) -> None:
        waiter, self._next = self._next, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, seconds: float) -> None:
        """Until the next delivery to anyone, or `seconds` have passed."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._next), max(seconds, 0.0))


def _add_control_routes(bp: Blueprint, fake: FakeLine, name: str) -> None:
    """`/_fake/…`: the user's side of LINE and the levers tests pull."""
    arrivals = Arrivals(fake)

    @bp.post("/_fake/faults", name=f"{name}_faults")
    async def faults(request: Request) -> HTTPResponse:
        body = _body(request) or {}
        responses = body.get("responses", [])
        if not isinstance(responses, list) or not all(isinstance(r, dict) for r in responses):
            return _error('responses must be a list of objects such as {"status": 500}')
        try:
            fake.add_faults(str(body.get("endpoint")), responses, body.get("delay"))
        except ValueError as exc:
            return _error(str(exc))
        pending = {endpoint: len(fake.faults.get(endpoint, ())) for endpoint in ENDPOINTS}
        return json_response({"pending": pending, "delays": fake.delays})

    @bp.get("/_fake/requests", name=f"{name}_requests")
    async def requests(request: Request) -> HTTPResponse:
        endpoint = request.args.get("endpoint")
        items = [r for r in fake.requests if endpoint in (None, r["endpoint"])]
        return json_response({"requests": items}, ensure_ascii=False)

    @bp.get("/_fake/deliveries", name=f"{name}_deliveries")
    async def deliveries(request: Request) -> HTTPResponse:
        return json_response({"deliveries": list(fake.deliveries)}, ensure_ascii=False)

    @bp.post("/_fake/reset", name=f"{name}_reset")
    async def reset(request: Request) -> HTTPResponse:
        fake.reset()
        return json_response({"reset": True})

    @bp.post("/_fake/config", name=f"{name}_config")
    async def config(request: Request) -> HTTPResponse:
        body = _body(request) or {}
        if "webhook_url" in body:
            fake.webhook_url = str(body["webhook_url"])
        if "reply_token_ttl" in body:
            fake.reply_token_ttl = float(body["reply_token_ttl"])
        if "monthly_limit" in body:
            fake.monthly_limit = None if body["monthly_limit"] is None else int(body["monthly_limit"])
        return json_response(
            {
                "webhook_url": fake.webhook_url,
                "reply_token_ttl": fake.reply_token_ttl,
                "monthly_limit": fake.monthly_limit,
                "bot_user_id": fake.bot_user_id,
            }
        )

    @bp.get("/_fake/users", name=f"{name}_users")
    async def users(request: Request) -> HTTPResponse:
        items = [chat.public() for chat in fake.chats.values() if chat.chat_id.startswith("U")]
        return json_response({"users": items}, ensure_ascii=False)

    @bp.post("/_fake/users", name=f"{name}_add_user")
    async def add_user(request: Request) -> HTTPResponse:
        body = _body(request) or {}
        user_id = str(body.get("userId") or new_user_id())
        chat = fake.chat(user_id, str(body.get("displayName", "")))
        return json_response({"user": chat.public()}, status=201, ensure_ascii=False)

    @bp.post("/_fake/users/<user_id>/events", name=f"{name}_user_event")
    async def user_event(request: Request, user_id: str) -> HTTPResponse:
        body = _body(request)
        if body is None or not body.get("type"):
            return _error('send a JSON object with a type, e.g. {"type": "text", "text": "こんにちは"}')
        try:
            event = fake.build_event(user_id, body)
        except ValueError as exc:
            return _error(str(exc), status=409 if "blocked" in str(exc) else 400)
        return json_response(await fake.send_event(event), ensure_ascii=False)

    @bp.get("/_fake/users/<user_id>/messages", name=f"{name}_user_messages")
    async def user_messages(request: Request, user_id: str) -> HTTPResponse:
        """`?wait_for=N&timeout=S` holds the answer until N messages arrived (long poll: tests and benchmarks see a
        delivery within ~2 ms instead of polling over HTTP)."""
        try:
            wait_for = int(request.args.get("wait_for", 0))
            timeout = min(float(request.args.get("timeout", 10)), 60.0)
        except ValueError:
            return _error("wait_for must be a whole number and timeout a number of seconds")
        deadline = time.monotonic() + timeout
        messages = fake.messages_for(user_id)
        while len(messages) < wait_for and time.monotonic() < deadline:
            await arrivals.wait(deadline - time.monotonic())
            messages = fake.messages_for(user_id)
        return json_response({"messages": messages}, ensure_ascii=False)

    @bp.get("/_fake/users/<user_id>/timeline", name=f"{name}_user_timeline")
    async def user_timeline(request: Request, user_id: str) -> HTTPResponse:
        chat = fake.chat(user_id)
        payload = {"user": chat.public(), "timeline": chat.timeline, "loading": fake.loading(user_id)}
        return json_response(payload, ensure_ascii=False)

    @bp.post("/_fake/redeliver/<event_id>", name=f"{name}_redeliver")
    async def redeliver(request: Request, event_id: str) -> HTTPResponse:
        try:
            outcome = await fake.redeliver(event_id)
        except KeyError:
            return _error(f"no event with webhookEventId {event_id}", status=404)
        return json_response(outcome, ensure_ascii=False)

    @bp.post("/_fake/webhook/raw", name=f"{name}_raw_webhook")
    async def raw_webhook(request: Request) -> HTTPResponse:
        """Send any body: `{"body": str|object}` or `{"events": [...]}`; `"signature"` overrides signing."""
        body = _body(request)
        if body is None:
            return _error("send a JSON object")
        if "body" in body:
            raw = body["body"]
            data = raw.encode("utf-8") if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False).encode()
        else:
            events = list(body.get("events", []))
            fake.observe(events)
            data = fake.payload(events)
        outcome = await fake.post_webhook(data, body.get("signature"))
        return json_response(outcome, ensure_ascii=False)


def create_simulator_blueprint(
    fake: FakeLine, url_prefix: str = "/simulator", api_prefix: str = "/simulator/line", name: str = "simulator"
) -> Blueprint:
    """The chat page (`GET <url_prefix>/`); it calls the control endpoints mounted at `api_prefix`."""
    bp = Blueprint(name, url_prefix=url_prefix.rstrip("/") or None)
    types = {"simulator.js": "text/javascript; charset=utf-8", "simulator.css": "text/css; charset=utf-8"}

    @bp.get("/", name=f"{name}_page", strict_slashes=True)
    async def page(request: Request) -> HTTPResponse:
        source = (PAGE_DIR / "index.html").read_text(encoding="utf-8")
        source = source.replace("{{API_PREFIX}}", api_prefix.rstrip("/")).replace("{{ACCOUNT_NAME}}", ACCOUNT_NAME)
        source = source.replace("{{MAX_TEXT}}", str(MAX_TEXT))
        return html(source, headers={"cache-control": "no-store"})

    if url_prefix.rstrip("/"):

        @bp.get("", name=f"{name}_bare", strict_slashes=True)
        async def bare(request: Request) -> HTTPResponse:
            return redirect(url_prefix.rstrip("/") + "/")

    @bp.get("/<filename>", name=f"{name}_asset")
    async def asset(request: Request, filename: str) -> HTTPResponse:
        if filename not in types:
            return text("not found", status=404)
        content = (PAGE_DIR / filename).read_text(encoding="utf-8")
        return text(content, content_type=types[filename], headers={"cache-control": "no-store"})

    return bp
