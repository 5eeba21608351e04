"""Friend-add, first message and coming back after a counsellor resolved the conversation.

Why an action and not a plain response: whether to introduce the channel and ask for consent depends on what
the gateway already knows about the contact (a returning user who consented is never asked again).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import GatewayAction, contact_key, event_time, response_text, utter_varied
from actions.gateway_client import Contact, Gateway, GatewayError


async def fetch_contact(gateway: Gateway, key: str, at: str | None) -> Contact:
    """The contact as the gateway knows it, or {} when the gateway is unavailable."""
    try:
        return await gateway.get_contact(key, at)
    except GatewayError:
        return {}


async def schedule_text(gateway: Gateway, at: str | None, domain: dict[str, Any]) -> str:
    """Regular consultation hours in words: the gateway's if it offers them, else the domain default."""
    try:
        hours = await gateway.get_hours(at)
        if hours.get("schedule_text"):
            return str(hours["schedule_text"])
    except GatewayError:
        pass
    return response_text(domain, "utter_schedule_default")


async def closed_now_text(gateway: Gateway, at: str | None) -> str | None:
    """「いまは年末年始のお休み中です。月曜の11時から返事します。」 while closed (the gateway's words), else None.

    Why: a hello off hours or on 12/29–1/3 that does not say so leaves the person waiting for an answer tonight."""
    try:
        hours = await gateway.get_hours(at)
    except GatewayError:
        return None
    return None if hours.get("open") else (str(hours["closed_now_text"]) if hours.get("closed_now_text") else None)


async def say_if_closed(gateway: Gateway, dispatcher: CollectingDispatcher, at: str | None) -> None:
    """After a short hello: one more short line when nobody answers now."""
    closed = await closed_now_text(gateway, at)
    if closed:
        dispatcher.utter_message(text=closed)


def consent_slot(consent: bool | None) -> list[EventType]:
    """Mirror the gateway's consent into the conversation (None = never answered)."""
    if consent is None:
        return []
    return [SlotSet("consent_state", "granted" if consent else "declined")]


class ActionGreet(GatewayAction):
    """Full introduction + consent question for new contacts; a short hello for known ones (R22)."""

    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        key, at = contact_key(tracker), event_time(tracker)
        contact = await fetch_contact(self.gateway, key, at)
        consent = contact.get("consent")
        if consent is None and tracker.get_slot("consent_state") is None:
            dispatcher.utter_message(response="utter_greet_intro")
            dispatcher.utter_message(
                response="utter_greet_about", schedule=await schedule_text(self.gateway, at, domain)
            )
            dispatcher.utter_message(response="utter_ask_consent")
            return [SlotSet("consent_state", "asked")]
        if tracker.get_slot("consent_state") == "asked":
            # Introduced a moment ago (「あの」 typed after it): a short hello, not the three bubbles again.
            utter_varied(dispatcher, tracker, domain, "utter_greet_short")
            await say_if_closed(self.gateway, dispatcher, at)
            return consent_slot(consent)
        utter_varied(dispatcher, tracker, domain, "utter_greet_again")
        await say_if_closed(self.gateway, dispatcher, at)
        return consent_slot(consent)


class ActionWelcomeBack(GatewayAction):
    """First message after a counsellor resolved the conversation: greet back briefly, no re-consent."""

    def name(self) -> str:
        return "action_welcome_back"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        at = event_time(tracker)
        contact = await fetch_contact(self.gateway, contact_key(tracker), at)
        consent = contact.get("consent")
        dispatcher.utter_message(response="utter_welcome_back")
        await say_if_closed(self.gateway, dispatcher, at)
        if consent is None and tracker.get_slot("consent_state") is None and contact:
            # Known to the gateway but never asked (e.g. the follow event was missed): ask once, kindly.
            dispatcher.utter_message(response="utter_ask_consent")
            return [SlotSet("consent_state", "asked")]
        return consent_slot(consent)
