"""LINE's insight API for the friends of the account (issue 17 item 3), through line-bot-sdk 3's AsyncInsight.

`GET /v2/bot/insight/followers?date=yyyyMMdd` (a JST day) answers the account's followers (adds, never
decreasing), targeted reaches and blocks as of that day, once LINE has counted it (`ready`; `unready` until then).
Every outcome is a value, as in handoff/line/client.py: a failed call never raises into its caller.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from linebot.v3.insight import ApiException, AsyncApiClient, AsyncInsight, Configuration

from handoff.line.client import env_proxy


@dataclass(frozen=True)
class FollowerCount:
    """LINE's answer for one day; `status` is ready | unready | out_of_service, or `error` with `http_status`."""

    day: date
    status: str
    followers: int | None = None
    targeted_reaches: int | None = None
    blocks: int | None = None
    http_status: int = 200
    error: str | None = None


class InsightClient:
    """One per command or process that needs it (never module-level); close it when done."""

    def __init__(self, base_url: str, access_token: str, timeout: float = 10.0) -> None:
        config = Configuration(host=base_url, access_token=access_token)
        config.proxy = env_proxy(base_url)
        self._client = AsyncApiClient(config)
        self._api = AsyncInsight(self._client)
        self._timeout = timeout

    async def close(self) -> None:
        await self._client.close()

    async def followers(self, day: date) -> FollowerCount:
        try:
            answer = await asyncio.wait_for(self._api.get_number_of_followers(f"{day:%Y%m%d}"), self._timeout)
        except ApiException as exc:
            return FollowerCount(day, "error", http_status=int(exc.status or 0), error=str(exc.reason or "")[:200])
        except (TimeoutError, OSError) as exc:
            return FollowerCount(day, "error", http_status=0, error=type(exc).__name__)
        return FollowerCount(day, str(answer.status or "unready"), answer.followers, answer.targeted_reaches,
                             answer.blocks)
