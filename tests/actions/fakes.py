"""Test doubles for action tests: a fake gateway that records calls, a tracker factory, response helpers.

Why a fake and not a live gateway: the actions' contract is docs/internal-api.md; tests pin what they send and
how they treat each answer (including failures) without any network.
"""

from __future__ import annotations

import os
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.gateway_client import GatewayError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AT = "2026-11-24T23:00:05+09:00"
KEY = "c-6f1d2a"


class FakeGateway:
    """Implements actions.gateway_client.Gateway; answers are set per test, calls are recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.answers: dict[str, Any] = {
            "get_hours": {"open": True, "reason": "open", "next_open": None, "text": None},
            "get_contact": {"key": KEY, "consent": None, "profile": {}, "returning": False},
            "post_consent": {"consent": True},
            "post_profile": {"profile": {}, "eligibility": {"level": "unknown", "reason": None, "text": None}},
            "post_handoff": {"status": "queued", "open": True, "position": 1, "all_busy": False,
                             "text": "相談員につなぎます。"},
            "post_crisis": {"level": "concern", "escalation_id": None,
                            "text": "話してくれて、ありがとう。このあとは相談員がお返事しますね。"},
            "get_services": {"municipality": None, "items": [], "text": "石川県の窓口です。"},
        }
        self.down = False
        self.service_asks: list[dict[str, Any]] = []  # contact and hints of each get_services

    def _answer(self, name: str, *args: Any) -> Any:
        self.calls.append((name, *args))
        if self.down:
            raise GatewayError(f"{name}: down")
        answer = self.answers[name]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def get_hours(self, at):
        return self._answer("get_hours", at)

    async def get_contact(self, key, at):
        return self._answer("get_contact", key, at)

    async def post_consent(self, key, granted, at):
        return self._answer("post_consent", key, granted, at)

    async def post_profile(self, key, field, value, at):
        return self._answer("post_profile", key, field, value, at)

    async def post_handoff(self, key, reason, at):
        return self._answer("post_handoff", key, reason, at)

    async def post_crisis(self, key, confidence, at):
        return self._answer("post_crisis", key, confidence, at)

    async def get_services(self, municipality, at, contact=None, hints=None):
        self.service_asks.append({"contact": contact, "hints": hints or {}})
        return self._answer("get_services", municipality, at)


def make_tracker(
    intent: str = "greet",
    text: str = "",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    confidence: float = 0.97,
) -> Tracker:
    """A tracker whose latest message looks like what the gateway sends (metadata contact/at/event)."""
    meta = {"contact": KEY, "conversation_id": 12, "at": AT, "event": "message"}
    if metadata is not None:
        meta = metadata
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "metadata": meta,
    }
    return Tracker(
        sender_id=KEY,
        slots=slots or {},
        latest_message=latest,
        events=events or [{"event": "user", "timestamp": 1795000000.0, "text": text, "parse_data": latest}],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def responses(dispatcher: CollectingDispatcher) -> list[str | None]:
    """Names of the domain responses the action uttered (None for free text)."""
    return [m.get("response") for m in dispatcher.messages]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    """SlotSet events as {slot: value}."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def variation_texts(domain: dict[str, Any], response: str) -> list[str]:
    """Every text variation of a domain response (actions that rotate variations send the text itself)."""
    return [v["text"] for v in domain["responses"][response]]


def bot_said(*texts: str) -> list[dict[str, Any]]:
    """Tracker events for bot messages already sent in this conversation."""
    return [{"event": "bot", "text": t, "timestamp": 1795000000.0 + i} for i, t in enumerate(texts)]
