"""Answers to questions (R18, R22): fixed answers from the domain, support services by municipality from the gateway.

Fixed answers follow one convention, intent `ask_X` (or `X`) → response `utter_X`, so one action and one rule serve
them all (inside and outside the profile questions), and each answer rotates through its variations.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    GatewayAction,
    bot_texts,
    contact_key,
    event_time,
    latest_intent,
    latest_text,
    utter_varied,
)
from actions.consent import asks_about_withdrawing
from actions.gateway_client import GatewayError, Services
from actions.hints import typed_hints
from actions.profile import MUNICIPALITIES, first
from actions.typed_answers import parse_municipality


def asked_municipality(tracker: Tracker) -> str | None:
    """The place named in the message, else the one in the profile (skipped or unknown → None)."""
    named = first(list(tracker.get_latest_entity_values("municipality")))
    if named in MUNICIPALITIES:
        return str(named)
    typed = parse_municipality(latest_text(tracker))  # 「わじま」「野々市」: no lookup entity
    if typed in MUNICIPALITIES:
        return typed
    stored = tracker.get_slot("municipality")
    if stored in MUNICIPALITIES:
        return str(stored)
    # A place typed earlier in this conversation (「ななお」, then a question about it).
    for event in reversed(tracker.events or []):
        if event.get("event") == "user" and not str(event.get("text") or "").startswith("/"):
            earlier = parse_municipality(str(event.get("text") or ""))
            if earlier in MUNICIPALITIES:
                return earlier
    return None


def services_text(services: Services) -> str:
    """The gateway's text, or a plain list built from its items if it sent none."""
    if services.get("text"):
        return str(services["text"])
    lines = []
    for item in services.get("items") or []:
        parts = [item.get("name"), item.get("phone"), item.get("hours"), item.get("url")]
        lines.append(" ".join(str(p) for p in parts if p))
    return "\n".join(lines)


class ActionServices(GatewayAction):
    """Lists the support windows that fit the person (「まずはここ」 first): by the consented profile and by what they
    typed about themselves (actions/hints.py); without a known municipality it asks for the place."""

    def name(self) -> str:
        return "action_services"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        municipality = asked_municipality(tracker)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent == "inform_profile" and municipality is None:
            dispatcher.utter_message(response="utter_how_can_help")
            return []
        try:
            services = await self.gateway.get_services(
                municipality, event_time(tracker), contact_key(tracker), typed_hints(tracker)
            )
        except GatewayError:
            dispatcher.utter_message(response="utter_gateway_unavailable")
            return []
        text = services_text(services)
        if text and text in bot_texts(tracker):
            # The same windows a moment ago: not the list again word for word, a pointer to it.
            utter_varied(dispatcher, tracker, domain, "utter_services_again")
        elif text:
            dispatcher.utter_message(text=text)
        if municipality is None:
            dispatcher.utter_message(response="utter_services_hint")
        return []


class ActionAnswer(Action):
    """Intent `ask_X` → the least recently sent variation of `utter_X`; an intent without one gets the fallback.
    A question about withdrawing consent read as records or consent meaning gets what withdrawing does."""

    def name(self) -> str:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        response = "utter_" + (latest_intent(tracker) or "").removeprefix("ask_")
        if response in ("utter_records", "utter_consent_meaning") and asks_about_withdrawing(latest_text(tracker)):
            response = "utter_withdraw_effect"  # 「同意やめたらどうなる」: what withdrawing does
        if response not in (domain.get("responses") or {}):
            response = "utter_default"
        utter_varied(dispatcher, tracker, domain, response)
        return []
