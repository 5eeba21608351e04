"""What a LINE event must look like before it is stored, and what is made harmless on the way in.

The signature proves a body came from LINE (or from whoever holds the channel secret), not that every event in it
is one the pipeline can hold. Two kinds of trouble, treated differently:

- An event whose shape cannot be a LINE event (a `source` that is not an object, a user id longer than any LINE id,
  nesting no event has) is refused by `problem`: the webhook answers 400 naming it, and stores the others.
- Inside an acceptable event, what would make a statement fail later in the worker is repaired by `cleaned`, so the
  message is stored and answered: a NUL (PostgreSQL text cannot hold one) or a lone surrogate (no UTF-8 for it)
  becomes U+FFFD, an optional field of the wrong type (a message `id` that is an object) is dropped, and a text
  longer than LINE allows is cut to LINE's limit, and a number JSON cannot write (NaN, Infinity, 1e400, which
  Python's json reads) becomes null: PostgreSQL's json type refuses it, and the whole batch would be a 500 that
  LINE redelivers for ever. A failed statement would otherwise carry the text into a log.
"""

from __future__ import annotations

import math
import re
from typing import Any

from handoff.line.messages import MAX_TEXT

MAX_DEPTH = 32  # LINE's events nest six levels at most; the worker walks what is stored
MAX_ID = 64  # LINE's user, group and room ids are 33 characters; contacts.line_user_id holds 64
OBJECTS = ("source", "message", "postback", "unsend", "follow", "joined", "left", "delivery", "link", "things")
OPTIONAL_STRINGS = {"webhookEventId": 64, "replyToken": 255}
OPTIONAL_MESSAGE_STRINGS = {"id": 32, "markAsReadToken": 255, "quoteToken": 255, "quotedMessageId": 32}
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # json.loads has already joined every valid surrogate pair


def _depth(value: Any) -> int:
    """How deeply `value` nests, without recursion (a body may nest far deeper than Python's stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def problem(event: Any) -> str | None:
    """Why this event cannot be stored, in words for the 400's body; None when it can."""
    if not isinstance(event, dict):
        return "an event must be a JSON object"
    if _depth(event) > MAX_DEPTH:
        return f"the event nests deeper than {MAX_DEPTH} levels"
    for name in OBJECTS:
        if name in event and not isinstance(event[name], dict):
            return f"{name} must be an object"
    source = event.get("source") or {}
    for name in ("userId", "groupId", "roomId"):
        value = source.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_ID):
            return f"source.{name} must be a string of at most {MAX_ID} characters"
    message = event.get("message") or {}
    if message.get("type") == "text" and not isinstance(message.get("text", ""), str):
        return "message.text must be a string"
    return None


def clean_text(text: str) -> str:
    """NUL and lone surrogates as U+FFFD: nothing else of what the user wrote changes."""
    return _UNSTORABLE.sub("\ufffd", text) if _UNSTORABLE.search(text) else text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {clean_text(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _keep_strings(obj: dict[str, Any], limits: dict[str, int]) -> None:
    """Optional fields the pipeline stores or sends back: a string of the right length, or nothing. A number that
    LINE writes as a string (a message id) stays, as that string."""
    for name, limit in limits.items():
        value = obj.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None:
            continue
        if isinstance(value, str) and len(value) <= limit:
            obj[name] = value
        else:
            del obj[name]


def cleaned(event: dict[str, Any]) -> dict[str, Any]:
    """A copy of an acceptable event (`problem` is None) that every later statement can store."""
    event = _clean(event)
    _keep_strings(event, OPTIONAL_STRINGS)
    message = event.get("message")
    if isinstance(message, dict):
        _keep_strings(message, OPTIONAL_MESSAGE_STRINGS)
        if isinstance(message.get("text"), str) and len(message["text"]) > MAX_TEXT:
            message["text"] = message["text"][:MAX_TEXT]  # LINE sends at most this many characters
    return event
