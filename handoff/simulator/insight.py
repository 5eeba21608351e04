"""The fake LINE's insight API: `GET /v2/bot/insight/followers?date=yyyyMMdd` (issue 17 item 3).

As LINE documents it: `date` is a JST day written yyyyMMdd; the answer is `{"status", "followers",
"targetedReaches", "blocks"}` where status is `ready`, `unready` (LINE has not counted that day yet: today and
later) or `out_of_service`; the counts are present only when ready. A malformed date is a 400 with LINE's message.
Counts come from what a test set for that date (`POST /_fake/insight`), else from the fake's users now: followers
= users who ever added the account, blocks = those blocking it, targeted reaches = those following.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from handoff.simulator.fakeline import FakeLine
from handoff.simulator.rules import ApiResult

JST = timezone(timedelta(hours=9))
_DATE = re.compile(r"^\d{8}$")
STATUSES = ("ready", "unready", "out_of_service")


class FakeInsight:
    def __init__(self, fake: FakeLine) -> None:
        self.fake = fake
        self.days: dict[str, dict[str, Any]] = {}

    def set_day(self, body: dict[str, Any]) -> dict[str, Any]:
        """A test's answer for one date; raises ValueError with what is wrong."""
        date = str(body.get("date", ""))
        if not _valid(date):
            raise ValueError("date must be yyyyMMdd, e.g. 20261101")
        status = str(body.get("status", "ready"))
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        answer: dict[str, Any] = {"status": status}
        if status == "ready":
            for key in ("followers", "targetedReaches", "blocks"):
                value = body.get(key, 0)
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"{key} must be a whole number, 0 or more")
                answer[key] = value
        self.days[date] = answer
        return answer

    def followers(self, date: str | None) -> ApiResult:
        if date is None or not _valid(date):
            return ApiResult(400, {"message": "The value for the 'date' parameter is invalid"})
        if date in self.days:
            return ApiResult(200, dict(self.days[date]))
        today = datetime.fromtimestamp(self.fake.now_ms() / 1000, UTC).astimezone(JST).strftime("%Y%m%d")
        if date >= today:
            return ApiResult(200, {"status": "unready"})
        users = [c for c in self.fake.chats.values() if c.chat_id.startswith("U")]
        return ApiResult(200, {"status": "ready", "followers": sum(1 for c in users if c.following or c.blocked),
                               "targetedReaches": sum(1 for c in users if c.following),
                               "blocks": sum(1 for c in users if c.blocked)})


def _valid(date: str) -> bool:
    if not _DATE.match(date):
        return False
    try:
        datetime.strptime(date, "%Y%m%d")
    except ValueError:
        return False
    return True
