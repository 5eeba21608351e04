"""A fake LINE platform: its state, the webhook events it builds and signs, and the API rules it enforces.

Why a fake at all: tests need LINE's failure modes on demand (expired reply tokens, 409 on a reused retry key,
429 quota errors, redeliveries), and simulator mode needs a LINE stand-in so the gateway runs end to end without
credentials. The HTTP layer lives in `fakeline_api.py`; this module has no web framework code so the rules can be
read (and unit-tested) on their own. Behaviour follows the LINE Messaging API reference and line-bot-sdk 3:

- Reply tokens are issued only with events LINE gives one for, work once, and expire after `reply_token_ttl`.
- Push with `X-Line-Retry-Key`: a UUID, accepted once; a repeat gets 409 with `x-line-accepted-request-id` and
  the original `sentMessages`, and nothing is delivered twice. A retry key on any other endpoint is a 400.
- Push to a user who blocked the account succeeds (200) but is not delivered — LINE documents exactly that
  ("accepted ... even if it couldn't be delivered correctly because the user has blocked the account").
- Monthly quota: pushes count one per recipient and request (reply messages are free); over the limit → 429.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from handoff.simulator import fake_outreach, rules
from handoff.simulator.rules import ApiResult, new_ulid, new_user_id, sign  # noqa: F401  (public API)

MONTHLY_LIMIT_MESSAGE = "You have reached your monthly limit."
INVALID_TO_MESSAGE = "The property, 'to', in the request body is invalid (line: -, column: -)"
LOG_LIMIT = 5000  # simulator mode runs for days; keep the logs bounded
ENDPOINTS = ("reply", "push", "multicast", "loading", "leave", "markAsRead", "quota", "insight", "richmenu")
RETRY_KEY_ENDPOINTS = ("push", "multicast")  # LINE takes X-Line-Retry-Key on these and no other
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass
class ChatState:
    """One chat as the fake sees it: a user (1:1), a group or a room."""

    chat_id: str
    display_name: str = ""
    following: bool = False
    blocked: bool = False
    timeline: list[dict[str, Any]] = field(default_factory=list)
    loading_until: float = 0.0
    member: bool = True  # groups/rooms: False after the bot left

    def public(self) -> dict[str, Any]:
        return {
            "userId": self.chat_id,
            "displayName": self.display_name,
            "following": self.following,
            "blocked": self.blocked,
        }


class FakeLine:
    """In-memory LINE platform: one channel, its users, tokens, retry keys, faults and a request log."""

    def __init__(
        self,
        channel_secret: str,
        access_token: str,
        webhook_url: str,
        reply_token_ttl: float = 60.0,
        *,
        monthly_limit: int | None = None,
        webhook_timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.channel_secret = channel_secret
        self.access_token = access_token
        self.webhook_url = webhook_url
        self.reply_token_ttl = reply_token_ttl
        self.monthly_limit = monthly_limit
        self.webhook_timeout = webhook_timeout
        self._http: httpx.AsyncClient | None = None  # one client: building one per event cost ~80 ms (TLS setup)
        self.clock = clock
        self.now_ms = wall_clock_ms
        # The bot's own user id, stable per channel: LINE sends it as `destination`.
        self.bot_user_id = "U" + hashlib.sha256(channel_secret.encode()).hexdigest()[:32]
        self.delivery_listeners: list[Callable[[], None]] = []  # wake long polls (fakeline_api.Arrivals)
        self.reset()

    # ----------------------------------------------------------------- state
    def reset(self) -> None:
        """Forget everything except configuration (used between tests and by `POST /_fake/reset`)."""
        self.chats: dict[str, ChatState] = {}
        self.reply_tokens: dict[str, dict[str, Any]] = {}
        self.retry_keys: dict[str, dict[str, Any]] = {}
        self.read_tokens: dict[str, tuple[str, str]] = {}
        self.faults: dict[str, deque[dict[str, Any]]] = {}
        self.delays: dict[str, float] = {}
        self.requests: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self.events: dict[str, dict[str, Any]] = {}
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=LOG_LIMIT)
        self.consumption = 0
        self.richmenus = fake_outreach.RichMenus()
        self._next_message_id = 590_000_000_000_000_000 + secrets.randbelow(10**15)

    def chat(self, chat_id: str, display_name: str = "") -> ChatState:
        """The chat with this id, created on first use (a user who has not added the account yet)."""
        state = self.chats.get(chat_id)
        if state is None:
            state = self.chats[chat_id] = ChatState(chat_id, display_name or chat_id[:9])
        elif display_name:
            state.display_name = display_name
        return state

    def message_id(self) -> str:
        """Message ids are 18-digit decimal strings on LINE; ours increase so they sort by time."""
        self._next_message_id += 1 + secrets.randbelow(1000)
        return str(self._next_message_id)

    def _iso(self, ms: int | None = None) -> str:
        return datetime.fromtimestamp((ms or self.now_ms()) / 1000, UTC).isoformat(timespec="milliseconds")

    # -------------------------------------------------------------- webhooks
    def build_event(self, user_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Turn a short user action (`{"type": "text", "text": ...}`) into a full LINE webhook event.

        Also updates the fake's state the way LINE does (follow/unfollow, reply tokens, the chat timeline).
        Raises `ValueError` with a readable reason for actions a real user could not perform.
        """
        kind = spec.get("type")
        ms = int(spec.get("timestamp") or self.now_ms())
        user = self.chat(user_id, spec.get("displayName", ""))
        source: dict[str, Any] = {"type": "user", "userId": user_id}
        chat_id = user_id
        if spec.get("groupId"):
            source = {"type": "group", "groupId": spec["groupId"], "userId": user_id}
            chat_id = spec["groupId"]
        elif spec.get("roomId"):
            source = {"type": "room", "roomId": spec["roomId"], "userId": user_id}
            chat_id = spec["roomId"]
        if user.blocked and kind != "follow" and chat_id == user_id:
            raise ValueError("this user has blocked the account; send a follow event (unblock) first")
        event: dict[str, Any] = {"type": kind, "mode": "active", "timestamp": ms, "source": source}
        record: dict[str, Any] | None = None
        if kind in rules.MESSAGE_KINDS:
            message = rules.build_message_content(kind, spec, self.message_id())
            read_token = secrets.token_urlsafe(48)
            message["markAsReadToken"] = read_token
            self.read_tokens[read_token] = (chat_id, message["id"])
            event["type"] = "message"
            event["message"] = message
            record = {"from": "user", "kind": kind, "id": message["id"], "text": rules.summary(message)}
            if kind == "sticker":
                record["sticker"] = {"packageId": message["packageId"], "stickerId": message["stickerId"]}
        elif kind == "postback":
            postback: dict[str, Any] = {"data": str(spec.get("data", ""))}
            if spec.get("params"):
                postback["params"] = spec["params"]
            event["postback"] = postback
            if spec.get("displayText"):
                record = {"from": "user", "kind": "postback", "text": spec["displayText"]}
        elif kind == "follow":
            event["follow"] = {"isUnblocked": user.blocked}
            user.following, user.blocked = True, False
            record = {"from": "system", "kind": "follow"}  # the page words system lines itself
        elif kind == "unfollow":
            user.following, user.blocked = False, True
            record = {"from": "system", "kind": "unfollow"}
        elif kind == "unsend":
            event["unsend"] = {"messageId": str(spec.get("messageId", ""))}
            for item in self.chat(chat_id).timeline:
                if item.get("id") == event["unsend"]["messageId"] and item["from"] == "user":
                    item["unsent"] = True
        else:
            raise ValueError(f"unsupported event type {kind!r}")
        if event["type"] in rules.REPLYABLE_EVENTS:
            self._forget_expired_tokens()
            token = secrets.token_hex(16)
            self.reply_tokens[token] = {"chat": chat_id, "issued": self.clock(), "used": False}
            event["replyToken"] = token
        event["webhookEventId"] = new_ulid(ms)
        event["deliveryContext"] = {"isRedelivery": False}
        if record is not None:
            self.chat(chat_id).timeline.append({**record, "at": self._iso(ms), "read": False})
        self.events[event["webhookEventId"]] = event
        return event

    def observe(self, events: list[dict[str, Any]]) -> None:
        """Learn from hand-made events (`/_fake/webhook/raw`) what LINE would know for having sent them.

        Their reply tokens become valid, the bot is a member of the groups/rooms they come from, and follow or
        unfollow events change the user's state, so a gateway answering a fixture event behaves as it would live.
        """
        for event in events:
            if not isinstance(event, dict):
                continue
            source = event.get("source") or {}
            chat_id = source.get("groupId") or source.get("roomId") or source.get("userId")
            if not isinstance(chat_id, str):
                continue
            chat = self.chat(chat_id)
            chat.member = event.get("type") != "leave"
            if event.get("type") in ("follow", "unfollow") and chat_id == source.get("userId"):
                chat.following = chat.blocked = False
                setattr(chat, "following" if event["type"] == "follow" else "blocked", True)
            if isinstance(event.get("replyToken"), str):
                self.reply_tokens[event["replyToken"]] = {"chat": chat_id, "issued": self.clock(), "used": False}
            if isinstance(event.get("webhookEventId"), str):
                self.events[event["webhookEventId"]] = event

    def _forget_expired_tokens(self) -> None:
        if len(self.reply_tokens) > 1000:
            now = self.clock()
            for token, info in list(self.reply_tokens.items()):
                if now - info["issued"] > self.reply_token_ttl:
                    del self.reply_tokens[token]

    def payload(self, events: list[dict[str, Any]]) -> bytes:
        """The raw webhook body: compact UTF-8 JSON, the bytes the signature covers."""
        body = {"destination": self.bot_user_id, "events": events}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    async def post_webhook(self, body: bytes, signature: str | None = None) -> dict[str, Any]:
        """POST a raw body to the webhook URL, signed unless a signature is given; never raises."""
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "LineBotWebhook/2.0",
            "X-Line-Signature": sign(self.channel_secret, body) if signature is None else signature,
        }
        outcome: dict[str, Any] = {"webhook_status": 0, "at": self._iso()}
        try:
            if self._http is None:
                self._http = httpx.AsyncClient(timeout=self.webhook_timeout)
            response = await self._http.post(self.webhook_url, content=body, headers=headers)
            outcome["webhook_status"] = response.status_code
        except httpx.HTTPError as exc:
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        self.deliveries.append({**outcome, "body": body.decode("utf-8", "replace")})
        return outcome

    async def send_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Deliver one event; LINE sends one event per request in practice for a single user action."""
        outcome = await self.post_webhook(self.payload([event]))
        return {"event": event, **outcome}

    async def redeliver(self, webhook_event_id: str) -> dict[str, Any]:
        """Send a known event again as LINE's redelivery does: same webhookEventId, `isRedelivery: true`."""
        event = self.events.get(webhook_event_id)
        if event is None:
            raise KeyError(webhook_event_id)
        again = {**event, "deliveryContext": {"isRedelivery": True}}
        return await self.send_event(again)

    # ------------------------------------------------------------ API calls
    def authorised(self, header: str | None) -> bool:
        return header == f"Bearer {self.access_token}"

    def add_faults(self, endpoint: str, responses: list[dict[str, Any]], delay: float | None) -> None:
        if endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {', '.join(ENDPOINTS)}")
        self.faults.setdefault(endpoint, deque()).extend(responses)
        if delay is not None:
            self.delays[endpoint] = float(delay)

    def take_fault(self, endpoint: str) -> dict[str, Any] | None:
        queue = self.faults.get(endpoint)
        return queue.popleft() if queue else None

    def fault_result(self, fault: dict[str, Any]) -> ApiResult | None:
        """The injected answer, or None when the fault is only a delay."""
        if "status" not in fault:
            return None
        status = int(fault["status"])
        headers: dict[str, str] = {}
        if status == 409:
            headers["x-line-accepted-request-id"] = fault.get("accepted_request_id", secrets.token_hex(16))
        default = rules.DEFAULT_ERROR_MESSAGES.get(status, "Internal server error")
        return ApiResult(status, {"message": fault.get("message", default)}, headers)

    def reply(self, body: dict[str, Any]) -> ApiResult:
        details = rules.validate_messages(body.get("messages"))
        if not body.get("replyToken"):
            details.insert(0, {"message": "May not be empty", "property": "replyToken"})
        if details:
            return rules.bad_request(details)
        token = self.reply_tokens.get(str(body["replyToken"]))
        if token is None or token["used"] or self.clock() - token["issued"] > self.reply_token_ttl:
            return ApiResult(400, {"message": "Invalid reply token"})
        token["used"] = True
        sent = self._deliver(token["chat"], body["messages"], via="reply", retry_key=None)
        self.reply_tokens.pop(str(body["replyToken"]), None)
        return ApiResult(200, {"sentMessages": sent})

    def push(self, body: dict[str, Any], retry_key: str | None, request_id: str) -> ApiResult:
        if retry_key is not None and not _UUID.match(retry_key):
            return ApiResult(400, {"message": "The retry key must be a hexadecimal UUID"})
        if retry_key is not None and retry_key in self.retry_keys:
            accepted = self.retry_keys[retry_key]
            return ApiResult(
                409,
                {"message": "The retry key is already accepted", "sentMessages": accepted["sent"]},
                {"x-line-accepted-request-id": accepted["request_id"]},
            )
        details = rules.validate_messages(body.get("messages"))
        to = body.get("to")
        if not isinstance(to, str) or not to:
            details.insert(0, {"message": "May not be empty", "property": "to"})
        if details:
            return rules.bad_request(details)
        if not re.match(r"^[UCR]\S+$", to):
            return ApiResult(400, {"message": INVALID_TO_MESSAGE})
        if self.monthly_limit is not None and self.consumption >= self.monthly_limit:
            return ApiResult(429, {"message": MONTHLY_LIMIT_MESSAGE})
        chat = self.chat(to)
        delivered = not chat.blocked
        sent = self._deliver(to, body["messages"], via="push", retry_key=retry_key, store=delivered,
                             silent=body.get("notificationDisabled") is True)
        if delivered:
            self.consumption += 1
        if retry_key is not None:
            self.retry_keys[retry_key] = {"request_id": request_id, "sent": sent, "at": self.clock()}
        return ApiResult(200, {"sentMessages": sent})

    def _deliver(
        self, chat_id: str, messages: list[dict[str, Any]], via: str, retry_key: str | None, store: bool = True,
        silent: bool = False,
    ) -> list[dict[str, str]]:
        """Give each message an id (and quoteToken where LINE gives one) and show it in the chat."""
        sent: list[dict[str, str]] = []
        chat = self.chat(chat_id)
        for message in messages:
            item = {"id": self.message_id()}
            if message.get("type") in rules.QUOTABLE:
                item["quoteToken"] = secrets.token_urlsafe(64)
            sent.append(item)
            if store:
                record = rules.outgoing_record(message, item["id"], via, retry_key, self._iso())
                chat.timeline.append({**record, "silent": True} if silent else record)
        chat.loading_until = 0.0  # LINE hides the loading animation when a message arrives
        for listener in self.delivery_listeners:
            listener()
        return sent

    def start_loading(self, body: dict[str, Any]) -> ApiResult:
        seconds = body.get("loadingSeconds", 20)
        chat_id = body.get("chatId")
        details = []
        if not isinstance(chat_id, str) or not chat_id:
            details.append({"message": "May not be empty", "property": "chatId"})
        if not isinstance(seconds, int) or isinstance(seconds, bool) or not 5 <= seconds <= 60 or seconds % 5:
            details.append({"message": "Must be a multiple of 5 between 5 and 60", "property": "loadingSeconds"})
        if details:
            return rules.bad_request(details)
        self.chat(chat_id).loading_until = self.clock() + seconds
        return ApiResult(202, {})

    def leave(self, kind: str, chat_id: str) -> ApiResult:
        chat = self.chats.get(chat_id)
        if chat is None or not chat.member or not chat_id.startswith("C" if kind == "group" else "R"):
            return ApiResult(404, {"message": "Not found"})
        chat.member = False
        return ApiResult(200, {})

    def mark_as_read(self, body: dict[str, Any]) -> ApiResult:
        """Token form (public since 2025-11) or the older partner form `{"chat": {"userId": ...}}`."""
        if "markAsReadToken" in body:
            found = self.read_tokens.get(str(body["markAsReadToken"]))
            if found is None:
                return ApiResult(400, {"message": "Invalid markAsReadToken"})
            chat_id, message_id = found
        else:
            chat_id = str((body.get("chat") or {}).get("userId", ""))
            if not chat_id:
                return rules.bad_request([{"message": "May not be empty", "property": "chat.userId"}])
            message_id = None
        for item in self.chat(chat_id).timeline:
            if item["from"] == "user":
                item["read"] = True
            if message_id is not None and item.get("id") == message_id:
                break
        return ApiResult(200, {})

    def quota(self) -> ApiResult:
        if self.monthly_limit is None:
            return ApiResult(200, {"type": "none"})
        return ApiResult(200, {"type": "limited", "value": self.monthly_limit})

    def quota_consumption(self) -> ApiResult:
        return ApiResult(200, {"totalUsage": self.consumption})

    # ------------------------------------------------------------ user side
    def messages_for(self, chat_id: str) -> list[dict[str, Any]]:
        """What the bot or a counsellor sent to this chat, oldest first."""
        return [item for item in self.chat(chat_id).timeline if item["from"] == "bot"]

    def loading(self, chat_id: str) -> bool:
        return self.chat(chat_id).loading_until > self.clock()
