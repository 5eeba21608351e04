"""Helpers shared by the actions: who is talking, when, and how to reach the gateway.

Why: the contract says actions take the contact key and the event time from the message metadata the gateway
attaches (never the wall clock), and treat any gateway failure as "unavailable".
"""

from __future__ import annotations

import abc
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.gateway_client import Gateway, GatewayClient

JST = timezone(timedelta(hours=9))


def metadata(tracker: Tracker) -> dict[str, Any]:
    """The gateway's metadata of the latest user message ({} when absent, e.g. in rasa shell)."""
    meta = (tracker.latest_message or {}).get("metadata") or {}
    return meta if isinstance(meta, dict) else {}


def contact_key(tracker: Tracker) -> str:
    """Contact key from metadata, else the sender id (the gateway uses the key as sender too)."""
    return str(metadata(tracker).get("contact") or tracker.sender_id)


def event_time(tracker: Tracker) -> str | None:
    """The LINE event's time (ISO 8601, Asia/Tokyo) from metadata, else the user event's own timestamp."""
    at = metadata(tracker).get("at")
    if at:
        return str(at)
    for event in reversed(tracker.events or []):
        if event.get("event") == "user" and event.get("timestamp"):
            return datetime.fromtimestamp(float(event["timestamp"]), JST).isoformat()
    return None


def entity_value(tracker: Tracker, name: str) -> Any:
    """First value of entity `name` in the latest message, or None."""
    return next(tracker.get_latest_entity_values(name), None)


def intent_confidence(tracker: Tracker) -> float | None:
    """Confidence of the latest intent (None for payloads without one)."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    conf = intent.get("confidence")
    return float(conf) if conf is not None else None


def response_buttons(domain: dict[str, Any], response: str) -> list[dict[str, Any]]:
    """Buttons of the first variation of a domain response (the Japanese stays in the domain)."""
    variations = (domain.get("responses") or {}).get(response) or [{}]
    return [dict(b) for b in variations[0].get("buttons") or []]


def response_text(domain: dict[str, Any], response: str) -> str:
    """Text of the first variation of a domain response."""
    variations = (domain.get("responses") or {}).get(response) or [{}]
    return str(variations[0].get("text") or "")


def latest_intent(tracker: Tracker) -> str | None:
    """Name of the latest user message's intent (None before any message)."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    """The latest user message as typed (a button sends its payload, which starts with '/')."""
    return str((tracker.latest_message or {}).get("text") or "")


# A message this long (letters only, spaces and marks not counted) is treated as a story (issue 14's threshold).
STORY_MIN_CHARS = 40


def letters(text: str) -> int:
    """Characters that carry content: letters and digits after NFKC (emoji, spaces and punctuation left out)."""
    return sum(1 for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch)[0] in "LN")


def is_story(text: str) -> bool:
    """Long enough to be somebody telling what is going on, whatever the NLU made of it."""
    return not text.startswith("/") and letters(text) >= STORY_MIN_CHARS


def bot_texts(tracker: Tracker) -> list[str]:
    """Texts the bot has sent in this conversation, oldest first."""
    return [str(e.get("text")) for e in tracker.events or [] if e.get("event") == "bot" and e.get("text")]


def utter_varied(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], response: str, **fields: str
) -> str:
    """Send the variation of `response` least recently sent in this conversation, and return its text.

    Why not `utter_message(response=...)`: Rasa picks a variation at random, so the same sentence can come twice in
    a row; people read that as a machine not listening (issue 14). Never-sent variations come first, in domain order.
    """
    variations = (domain.get("responses") or {}).get(response) or []
    if not variations:
        dispatcher.utter_message(response=response, **fields)
        return ""
    sent = bot_texts(tracker)

    def rendered(variation: dict[str, Any]) -> str:
        text = str(variation.get("text") or "")
        for name, value in fields.items():
            text = text.replace("{" + name + "}", str(value))
        return text

    def last_sent(variation: dict[str, Any]) -> int:
        text = rendered(variation)
        return max((i for i, t in enumerate(sent) if t == text), default=-1)

    chosen = min(variations, key=last_sent)
    text = rendered(chosen)
    dispatcher.utter_message(text=text, buttons=[dict(b) for b in chosen.get("buttons") or []])
    return text


class UsesGateway:
    """Mixin: a lazily built gateway client, or the one injected by tests."""

    _gateway: Gateway | None = None

    def __init__(self, gateway: Gateway | None = None) -> None:
        self._gateway = gateway

    @property
    def gateway(self) -> Gateway:
        if self._gateway is None:
            self._gateway = GatewayClient.from_env()
        return self._gateway


class GatewayAction(UsesGateway, Action, abc.ABC):
    """Base for actions that call the gateway (abstract, so rasa-sdk does not register it)."""

    @abc.abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""
