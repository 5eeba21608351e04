"""The fake LINE's outreach endpoints: multicast (information deliveries) — the rules kept apart from fakeline.py
so that module stays readable. Behaviour follows LINE's Messaging API reference for `POST /v2/bot/message/multicast`:
at most 500 user ids, 1–5 messages, optional `notificationDisabled`, `X-Line-Retry-Key` accepted once (a repeat is
409 with `x-line-accepted-request-id`), each delivered recipient counts against the monthly quota, blocked users
are accepted but not delivered to, and a success answers `{}`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from handoff.simulator import rules
from handoff.simulator.rules import ApiResult

if TYPE_CHECKING:
    from handoff.simulator.fakeline import FakeLine

MAX_MULTICAST = 500
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_USER = re.compile(r"^U[0-9a-f]{32}$")


def multicast(fake: FakeLine, body: dict[str, Any], retry_key: str | None, request_id: str) -> ApiResult:
    if retry_key is not None and not _UUID.match(retry_key):
        return ApiResult(400, {"message": "The retry key must be a hexadecimal UUID"})
    if retry_key is not None and retry_key in fake.retry_keys:
        accepted = fake.retry_keys[retry_key]
        return ApiResult(409, {"message": "The retry key is already accepted"},
                         {"x-line-accepted-request-id": accepted["request_id"]})
    details = rules.validate_messages(body.get("messages"))
    to = body.get("to")
    if not isinstance(to, list) or not 1 <= len(to) <= MAX_MULTICAST:
        details.insert(0, {"message": f"Size must be between 1 and {MAX_MULTICAST}", "property": "to"})
    elif not all(isinstance(user, str) and _USER.match(user) for user in to):
        details.insert(0, {"message": "Invalid user ID", "property": "to"})
    silent = body.get("notificationDisabled", False)
    if not isinstance(silent, bool):
        details.append({"message": "Must be a boolean", "property": "notificationDisabled"})
    if details:
        return rules.bad_request(details)
    reachable = [user for user in dict.fromkeys(to) if not fake.chat(user).blocked]
    if fake.monthly_limit is not None and fake.consumption + len(reachable) > fake.monthly_limit:
        return ApiResult(429, {"message": "You have reached your monthly limit."})
    for user in reachable:
        fake._deliver(user, body["messages"], via="multicast", retry_key=retry_key, silent=silent)
    fake.consumption += len(reachable)
    if retry_key is not None:
        fake.retry_keys[retry_key] = {"request_id": request_id, "sent": [], "at": fake.clock()}
    return ApiResult(200, {})
