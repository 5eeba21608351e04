"""Thin wrapper over line-bot-sdk 3's async Messaging API that turns every outcome into a value.

The outbox decides what a 409, 429 or 5xx means; here we only report status, LINE's `x-line-request-id` and
LINE's error message (which tells a monthly-quota 429 from a rate-limit 429).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    MarkMessagesAsReadByTokenRequest,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)
from linebot.v3.messaging.exceptions import ApiException
from prometheus_client import Counter

log = logging.getLogger(__name__)
RESPONSES = Counter("ycc_line_api_responses", "Answers of LINE's Messaging API by call and HTTP status (0: no answer)",
                    ["call", "status"])


@dataclass(frozen=True)
class LineResult:
    status: int  # 0 when LINE could not be reached at all
    request_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    try:
        return headers.get(name) or headers.get(name.title())
    except AttributeError:
        return None


def _error_message(body: Any) -> str | None:
    if not body:
        return None
    try:
        data = json.loads(body)
        return str(data.get("message"))[:255]
    except (ValueError, AttributeError, TypeError):
        return str(body)[:255]


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY, NO_PROXY, ...), as aiohttp's trust_env would find it."""
    parts = urlsplit(url)
    if parts.hostname and proxy_bypass(parts.hostname):
        return None
    return getproxies().get(parts.scheme)


class LineClient:
    def __init__(self, base_url: str, access_token: str, timeout: float = 10.0) -> None:
        self._config = Configuration(host=base_url, access_token=access_token)
        self._config.proxy = env_proxy(base_url)
        self._api_client = AsyncApiClient(self._config)
        # The SDK opens its aiohttp session with trust_env=True, and aiohttp then reads ~/.netrc and the proxy
        # variables in a worker thread on every request: 0.6 of the 1.05 ms a reply call took here, on the path of
        # every answer. The proxy is read once above instead (a netrc login is no use to a Bearer-token API).
        self._api_client.rest_client.pool_manager._trust_env = False
        self._api = AsyncMessagingApi(self._api_client)
        self._timeout = timeout

    async def close(self) -> None:
        await self._api_client.close()

    async def _call(self, call: str, coro: Any) -> LineResult:
        result = await self._outcome(coro)
        RESPONSES.labels(call, str(result.status)).inc()
        return result

    async def _outcome(self, coro: Any) -> LineResult:
        try:
            response = await asyncio.wait_for(coro, self._timeout)
            return LineResult(response.status_code, _header(response.headers, "x-line-request-id"))
        except ApiException as exc:
            return LineResult(int(exc.status or 0), _header(exc.headers, "x-line-request-id"), _error_message(exc.body))
        except (TimeoutError, OSError) as exc:
            return LineResult(0, None, type(exc).__name__)
        except Exception as exc:  # aiohttp client errors and the SDK's own surprises
            log.warning("line call failed: %s", type(exc).__name__)
            return LineResult(0, None, type(exc).__name__)

    async def reply(self, reply_token: str, messages: list[dict[str, Any]], silent: bool = False) -> LineResult:
        body = {"replyToken": reply_token, "messages": messages, **({"notificationDisabled": True} if silent else {})}
        request = ReplyMessageRequest.from_dict(body)
        return await self._call("reply", self._api.reply_message_with_http_info(request))

    async def push(
        self, to: str, messages: list[dict[str, Any]], retry_key: str, *, silent: bool = False
    ) -> LineResult:
        """`silent`: LINE's notificationDisabled, for a phone the family may see (a follow-up chosen so)."""
        body: dict[str, Any] = {"to": to, "messages": messages}
        if silent:
            body["notificationDisabled"] = True
        request = PushMessageRequest.from_dict(body)
        return await self._call("push", self._api.push_message_with_http_info(request, x_line_retry_key=retry_key))

    async def multicast(
        self, to: list[str], messages: list[dict[str, Any]], retry_key: str, *, silent: bool = False
    ) -> LineResult:
        """One information delivery's batch (at most 500 user ids); the retry key makes a resend a 409."""
        request = MulticastRequest.from_dict({"to": to, "messages": messages, "notificationDisabled": silent})
        return await self._call("multicast",
                                self._api.multicast_with_http_info(request, x_line_retry_key=retry_key))

    async def show_loading(self, chat_id: str, seconds: int = 20) -> LineResult:
        request = ShowLoadingAnimationRequest(chatId=chat_id, loadingSeconds=seconds)
        return await self._call("loading", self._api.show_loading_animation_with_http_info(request))

    async def leave(self, kind: str, chat_id: str) -> LineResult:
        if kind == "group":
            return await self._call("leave", self._api.leave_group_with_http_info(chat_id))
        return await self._call("leave", self._api.leave_room_with_http_info(chat_id))

    async def mark_as_read(self, token: str) -> LineResult:
        request = MarkMessagesAsReadByTokenRequest(markAsReadToken=token)
        return await self._call("mark_read", self._api.mark_messages_as_read_by_token_with_http_info(request))
