"""HTTP client for the gateway's internal API (docs/internal-api.md, section 2).

Why a separate module: the action server runs in the Python 3.10 Rasa venv and must not import the gateway
(``handoff/``). Every call is short-timeout and raises :class:`GatewayError` on any failure, so the actions can
answer the user kindly with ``utter_gateway_unavailable`` instead of hanging or crashing.
"""

from __future__ import annotations

import os
from typing import Any, Protocol, TypedDict
from urllib.parse import quote

import aiohttp

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT_S = 5.0

ProfileValue = str | list[str] | None


class Hours(TypedDict, total=False):
    open: bool
    reason: str
    next_open: str | None
    next_open_text: str | None
    service_active: bool
    text: str | None
    schedule_text: str | None  # optional extension: the regular schedule in words
    closed_now_text: str | None  # while closed: that it is closed now and when it opens (null while open)


class Eligibility(TypedDict, total=False):
    level: str  # eligible | flagged | refer | unknown
    reason: str | None
    text: str | None


class Contact(TypedDict, total=False):
    key: str
    consent: bool | None
    profile: dict[str, Any]
    eligibility: Eligibility
    returning: bool


class ConsentResult(TypedDict):
    consent: bool


class ProfileResult(TypedDict, total=False):
    profile: dict[str, Any]
    eligibility: Eligibility


class Handoff(TypedDict, total=False):
    status: str
    open: bool
    position: int | None
    all_busy: bool
    text: str | None


class CrisisResult(TypedDict, total=False):
    level: str  # the conversation's risk level after the signal: concern, or higher if it already was
    escalation_id: Any  # the open crisis case, if any (a concern opens none)
    text: str | None  # what the bot says; None when a counsellor has the conversation


class Services(TypedDict, total=False):
    municipality: str | None
    items: list[dict[str, Any]]
    text: str | None


class GatewayError(Exception):
    """The gateway could not be reached or refused the call."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class Gateway(Protocol):
    """What the actions need from the gateway; the real client and test fakes both satisfy it."""

    async def get_hours(self, at: str | None) -> Hours: ...

    async def get_contact(self, key: str, at: str | None) -> Contact: ...

    async def post_consent(self, key: str, granted: bool, at: str | None) -> ConsentResult: ...

    async def post_profile(self, key: str, field: str, value: ProfileValue, at: str | None) -> ProfileResult: ...

    async def post_handoff(self, key: str, reason: str, at: str | None) -> Handoff: ...

    async def post_crisis(self, key: str, confidence: float | None, at: str | None) -> CrisisResult: ...

    async def get_services(
        self, municipality: str | None, at: str | None, contact: str | None = None, hints: dict[str, str] | None = None
    ) -> Services: ...


class GatewayClient:
    """aiohttp client for the internal API; one short-lived session per call (low traffic, no shared state)."""

    def __init__(self, base_url: str, token: str = "", timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    @classmethod
    def from_env(cls) -> GatewayClient:
        """Reads YCC_GATEWAY_URL, YCC_INTERNAL_TOKEN and YCC_GATEWAY_TIMEOUT (seconds)."""
        return cls(
            os.environ.get("YCC_GATEWAY_URL", DEFAULT_URL),
            os.environ.get("YCC_INTERNAL_TOKEN", ""),
            float(os.environ.get("YCC_GATEWAY_TIMEOUT", DEFAULT_TIMEOUT_S)),
        )

    async def _request(
        self, method: str, path: str, *, params: dict[str, str] | None = None, body: dict | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        params = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                async with session.request(
                    method, self.base_url + path, params=params, json=body, headers=headers
                ) as resp:
                    try:
                        data = await resp.json(content_type=None)
                    except ValueError:
                        data = None
                    if resp.status >= 400:
                        code = data.get("error") if isinstance(data, dict) else None
                        raise GatewayError(f"{method} {path} -> {resp.status}", resp.status, code)
                    if not isinstance(data, dict):
                        raise GatewayError(f"{method} {path}: answer is not a JSON object", resp.status)
                    return data
        except GatewayError:
            raise
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:  # asyncio.TimeoutError is TimeoutError on 3.11
            raise GatewayError(f"{method} {path}: {type(exc).__name__}") from exc
        except Exception as exc:
            raise GatewayError(f"{method} {path}: {type(exc).__name__}") from exc

    @staticmethod
    def _key(key: str) -> str:
        return quote(key, safe="")

    async def get_hours(self, at: str | None) -> Hours:
        return await self._request("GET", "/internal/hours", params={"at": at})  # type: ignore[return-value]

    async def get_contact(self, key: str, at: str | None) -> Contact:
        return await self._request(  # type: ignore[return-value]
            "GET", f"/internal/contacts/{self._key(key)}", params={"at": at}
        )

    async def post_consent(self, key: str, granted: bool, at: str | None) -> ConsentResult:
        return await self._request(  # type: ignore[return-value]
            "POST", f"/internal/contacts/{self._key(key)}/consent", body={"granted": granted, "at": at}
        )

    async def post_profile(self, key: str, field: str, value: ProfileValue, at: str | None) -> ProfileResult:
        return await self._request(  # type: ignore[return-value]
            "POST",
            f"/internal/contacts/{self._key(key)}/profile",
            body={"field": field, "value": value, "at": at},
        )

    async def post_handoff(self, key: str, reason: str, at: str | None) -> Handoff:
        return await self._request(  # type: ignore[return-value]
            "POST", f"/internal/contacts/{self._key(key)}/handoff", body={"at": at, "reason": reason}
        )

    async def post_crisis(self, key: str, confidence: float | None, at: str | None) -> CrisisResult:
        return await self._request(  # type: ignore[return-value]
            "POST",
            f"/internal/contacts/{self._key(key)}/crisis",
            body={"at": at, "source": "nlu", "confidence": confidence},
        )

    async def get_services(
        self, municipality: str | None, at: str | None, contact: str | None = None, hints: dict[str, str] | None = None
    ) -> Services:
        """The services that fit the person: by the contact's consented profile and by `hints` (actions/hints.py)."""
        params = {"municipality": municipality, "at": at, "contact": contact, **(hints or {})}
        return await self._request("GET", "/internal/services", params=params)  # type: ignore[return-value]
