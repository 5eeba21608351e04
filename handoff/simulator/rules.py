"""LINE's shapes and limits, as data and pure functions, for the fake LINE platform (`fakeline.py`).

Kept apart from the state so the limits can be compared line by line with the Messaging API reference:
1–5 messages per request, text ≤ 5000 characters, quick reply ≤ 13 items with labels ≤ 20 characters, postback
data ≤ 300 characters. LINE's backend counts string length in UTF-16 code units (it is a Java service), so an emoji
outside the BMP counts as two; we do the same. Error bodies follow LINE's `{"message", "details": [{"message",
"property"}]}`; the wording of each detail is close to LINE's but not guaranteed identical — assert on status and
`property`, not on detail text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from handoff.line.messages import MAX_TEXT

# User actions that become a `message` event, and events LINE attaches a reply token to.
MESSAGE_KINDS = ("text", "sticker", "image", "video", "audio", "file", "location")
REPLYABLE_EVENTS = frozenset(
    {"message", "follow", "postback", "join", "memberJoined", "beacon", "accountLink", "videoPlayComplete"}
)
# Sent message types that get a quoteToken in `sentMessages`.
QUOTABLE = frozenset({"text", "textV2", "sticker"})
SENDABLE_TYPES = frozenset(
    {"text", "textV2", "sticker", "image", "video", "audio", "location", "imagemap", "template", "flex"}
)
QUICK_REPLY_ACTIONS = frozenset(
    {"postback", "message", "uri", "datetimepicker", "camera", "cameraRoll", "location", "clipboard"}
)
DEFAULT_ERROR_MESSAGES = {
    400: "The request body has 1 error(s)",
    401: "Authentication failed. Confirm that the access token in the authorization header is valid.",
    403: "Access to this API is not available for your account",
    404: "Not found",
    409: "The retry key is already accepted",
    429: "Too many requests",
    500: "Internal server error",
}


@dataclass
class ApiResult:
    """What an API call answers; the HTTP layer only serialises it."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def bad_request(details: list[dict[str, str]]) -> ApiResult:
    return ApiResult(400, {"message": f"The request body has {len(details)} error(s)", "details": details})


def _length(value: Any, low: int, high: int, prop: str, out: list[dict[str, str]], required: bool = True) -> None:
    if value is None or value == "":
        if required:
            out.append({"message": "May not be empty", "property": prop})
        return
    if not isinstance(value, str):
        out.append({"message": "Must be a string", "property": prop})
    elif not low <= utf16_len(value) <= high:
        out.append({"message": f"Length must be between {low} and {high}", "property": prop})


def _validate_action(action: Any, prop: str, out: list[dict[str, str]]) -> None:
    if not isinstance(action, dict):
        out.append({"message": "May not be empty", "property": prop})
        return
    kind = action.get("type")
    if kind not in QUICK_REPLY_ACTIONS:
        out.append({"message": "Invalid action type", "property": f"{prop}.type"})
        return
    # Quick reply buttons need a label unless LINE supplies one (camera, cameraRoll and location have defaults).
    _length(action.get("label"), 1, 20, f"{prop}.label", out, required=kind not in {"camera", "cameraRoll", "location"})
    if kind == "postback":
        _length(action.get("data"), 1, 300, f"{prop}.data", out)
        _length(action.get("displayText"), 1, 300, f"{prop}.displayText", out, required=False)
    elif kind == "message":
        _length(action.get("text"), 1, 300, f"{prop}.text", out)
    elif kind == "uri":
        _length(action.get("uri"), 1, 1000, f"{prop}.uri", out)


def _validate_quick_reply(quick: Any, prop: str, out: list[dict[str, str]]) -> None:
    items = quick.get("items") if isinstance(quick, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= 13:
        out.append({"message": "Size must be between 1 and 13", "property": f"{prop}.items"})
        return
    for i, item in enumerate(items):
        item_prop = f"{prop}.items[{i}]"
        if not isinstance(item, dict) or item.get("type") != "action":
            out.append({"message": "Invalid quick reply item type", "property": f"{item_prop}.type"})
            continue
        _validate_action(item.get("action"), f"{item_prop}.action", out)


def validate_messages(messages: Any) -> list[dict[str, str]]:
    """LINE-style error details for a `messages` array; empty when the request would be accepted."""
    out: list[dict[str, str]] = []
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return [{"message": "Size must be between 1 and 5", "property": "messages"}]
    for i, message in enumerate(messages):
        prop = f"messages[{i}]"
        if not isinstance(message, dict) or message.get("type") not in SENDABLE_TYPES:
            out.append({"message": "Invalid message type", "property": f"{prop}.type"})
            continue
        kind = message["type"]
        if kind in ("text", "textV2"):
            _length(message.get("text"), 1, MAX_TEXT, f"{prop}.text", out)
        elif kind == "sticker":
            _length(message.get("packageId"), 1, 100, f"{prop}.packageId", out)
            _length(message.get("stickerId"), 1, 100, f"{prop}.stickerId", out)
        elif kind in ("image", "video"):
            _length(message.get("originalContentUrl"), 1, 2000, f"{prop}.originalContentUrl", out)
            _length(message.get("previewImageUrl"), 1, 2000, f"{prop}.previewImageUrl", out)
        elif kind == "template":
            _length(message.get("altText"), 1, 400, f"{prop}.altText", out)
        elif kind == "flex":
            _length(message.get("altText"), 1, 1500, f"{prop}.altText", out)
        if "quickReply" in message:
            _validate_quick_reply(message["quickReply"], f"{prop}.quickReply", out)
    return out


def build_message_content(kind: str, spec: dict[str, Any], message_id: str) -> dict[str, Any]:
    """The `message` object of a message event, shaped like LINE's reference examples (ids are strings)."""
    message: dict[str, Any] = {"type": kind, "id": message_id}
    if kind == "text":
        text = str(spec.get("text", ""))
        if not text:
            raise ValueError("text must not be empty")
        message["text"] = text
        message["quoteToken"] = secrets.token_urlsafe(64)
    elif kind == "sticker":
        message.update(
            packageId=str(spec.get("packageId", "446")),
            stickerId=str(spec.get("stickerId", "1988")),
            stickerResourceType=spec.get("stickerResourceType", "STATIC"),
            keywords=list(spec.get("keywords", ["happy", "smile"])),
            quoteToken=secrets.token_urlsafe(64),
        )
    elif kind in ("image", "video", "audio"):
        message["contentProvider"] = {"type": "line"}
        if kind in ("video", "audio"):
            message["duration"] = int(spec.get("duration", 12000))
        if kind != "audio":
            message["quoteToken"] = secrets.token_urlsafe(64)
    elif kind == "file":
        message.update(fileName=str(spec.get("fileName", "memo.txt")), fileSize=int(spec.get("fileSize", 2138)))
    elif kind == "location":
        message.update(
            title=spec.get("title", "石川県庁"),
            address=spec.get("address", "石川県金沢市鞍月1丁目1番地"),
            latitude=float(spec.get("latitude", 36.594682)),
            longitude=float(spec.get("longitude", 136.625573)),
        )
    return message


_SUMMARIES = {
    "sticker": "(スタンプ)",
    "image": "(画像)",
    "video": "(動画)",
    "audio": "(音声メッセージ)",
    "file": "(ファイル)",
    "location": "(位置情報)",
    "imagemap": "(イメージマップ)",
    "template": "(テンプレートメッセージ)",
    "flex": "(Flex Message)",
}


def summary(message: dict[str, Any]) -> str:
    """What the chat page shows for a message: its text, or a short Japanese label for other kinds."""
    kind = message.get("type", "")
    if kind in ("text", "textV2"):
        return str(message.get("text", ""))
    if kind in ("template", "flex") and message.get("altText"):
        return f"{_SUMMARIES[kind]} {message['altText']}"
    if kind == "location" and message.get("title"):
        return f"(位置情報) {message['title']}"
    return _SUMMARIES.get(kind, f"({kind})")


def outgoing_record(message: dict[str, Any], message_id: str, via: str, retry_key: str | None, at: str) -> dict:
    """How a delivered bot/counsellor message is kept for `GET /_fake/users/{id}/messages` and the page."""
    items = (message.get("quickReply") or {}).get("items") or []
    quick = [item.get("action", {}) for item in items if isinstance(item, dict)]
    return {
        "from": "bot",
        "id": message_id,
        "kind": message.get("type"),
        "text": summary(message),
        "quickReply": quick,
        "via": via,
        "retryKey": retry_key,
        "at": at,
        "message": message,
    }


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def sign(channel_secret: str, body: bytes) -> str:
    """`X-Line-Signature`: base64(HMAC-SHA256(channel secret, raw body)), exactly as LINE computes it."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def new_ulid(ms: int) -> str:
    """A 26-character ULID (48-bit ms time + 80 random bits, Crockford base32), the format of webhookEventId."""
    value = (ms << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def new_user_id() -> str:
    """LINE user ids are "U" + 32 lowercase hex characters."""
    return "U" + secrets.token_hex(16)
