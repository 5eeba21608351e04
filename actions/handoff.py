"""Hand-off to a counsellor (R5, R16): the gateway queues the conversation and writes the reply.

In hours it says a counsellor is coming (or the queue position when all lines are busy); off hours it sends the
off-hours text and keeps the message for the next opening. The bot never computes any of that.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    GatewayAction,
    bot_texts,
    contact_key,
    entity_value,
    event_time,
    latest_intent,
    latest_text,
    utter_varied,
)
from actions.gateway_client import Gateway, GatewayError

REASONS = ("user_request", "profile_done", "topic")
# Which offer the user accepted with a plain 「はい」 decides the reason.
OFFER_REASONS = {
    "utter_offer_handoff": "topic",
    "action_offer_handoff": "topic",
    "action_acknowledge": "topic",
    "action_submit_profile": "profile_done",
}
# The short reflection that answers each kind of message before the offer of a counsellor (issue 14, item 2).
ACKNOWLEDGEMENTS = {"share_worry": "utter_worry_ack"}
REQUEST_WORDS = Path(__file__).with_name("data") / "requests.yml"
STORY_ACK = "utter_story_ack"  # a long message the NLU could not place is a story, not "please write more"


def handoff_reason(tracker: Tracker) -> str:
    """Reason from the button entity, else from the offer just made, else the user's own request."""
    reason = entity_value(tracker, "reason")
    if reason in REASONS:
        return str(reason)
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if intent == "affirm":
        for event in reversed(tracker.events or []):
            if event.get("event") == "action" and event.get("name") != "action_listen":
                return OFFER_REASONS.get(event.get("name"), "user_request")
    return "user_request"


@lru_cache(maxsize=1)
def _same_counsellor_words() -> tuple:
    with open(REQUEST_WORDS, encoding="utf-8") as fh:
        return tuple(yaml.safe_load(fh)["same_counsellor"])


def asks_for_same_counsellor(text: str) -> bool:
    """「前回の人がいい」: a request for a person that names last time's counsellor."""
    return not text.startswith("/") and any(word in text for word in _same_counsellor_words())


class ActionHandoff(GatewayAction):
    """Asks the gateway for a counsellor and sends its ready-made text (first, for 「前回の人」, how that works)."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if latest_intent(tracker) == "request_human" and asks_for_same_counsellor(latest_text(tracker)):
            utter_varied(dispatcher, tracker, domain, "utter_same_counsellor")
        try:
            result = await self.gateway.post_handoff(contact_key(tracker), handoff_reason(tracker), event_time(tracker))
        except GatewayError:
            dispatcher.utter_message(response="utter_gateway_unavailable")
            return []
        if result.get("text"):
            dispatcher.utter_message(text=str(result["text"]))
        else:
            dispatcher.utter_message(response="utter_handoff_default")
        return []


OFFERS = ("utter_offer_handoff", "utter_offer_handoff_closed", "utter_offer_handoff_later")
OFFERED_WITHIN = 4  # bot messages


def offered_lately(tracker: Tracker, domain: dict[str, Any]) -> bool:
    """Whether one of the long offers of a person is among the bot's last few messages (placeholders aside)."""
    starts = [str(v.get("text") or "").split("{")[0][:20] for name in OFFERS
              for v in (domain.get("responses") or {}).get(name) or []]
    recent = bot_texts(tracker)[-OFFERED_WITHIN:]
    return any(start and text.startswith(start) for text in recent for start in starts)


async def offer_handoff(
    gateway: Gateway, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
) -> None:
    """In hours: offer a counsellor now. Off hours: say when a counsellor will read it, and offer to leave it.

    Outside the service period there is nobody to offer: the gateway's closed text (with 24 h lines) is sent.
    """
    try:
        hours = await gateway.get_hours(event_time(tracker))
    except GatewayError:
        hours = {"open": True}
    if offered_lately(tracker, domain) and hours.get("service_active") is not False:
        utter_varied(dispatcher, tracker, domain, "utter_offer_handoff_short")  # not the long offer again
        return
    if hours.get("open"):
        utter_varied(dispatcher, tracker, domain, "utter_offer_handoff")
    elif hours.get("service_active") is False and hours.get("text"):
        dispatcher.utter_message(text=str(hours["text"]))
    elif hours.get("next_open_text"):
        utter_varied(dispatcher, tracker, domain, "utter_offer_handoff_closed", next_open=str(hours["next_open_text"]))
    else:
        utter_varied(dispatcher, tracker, domain, "utter_offer_handoff_later")


class ActionOfferHandoff(GatewayAction):
    """The offer of a person alone, e.g. after two misunderstandings in a row."""

    def name(self) -> str:
        return "action_offer_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        await offer_handoff(self.gateway, dispatcher, tracker, domain)
        return []


class ActionAcknowledge(GatewayAction):
    """A worry, a wish to be heard or a long story: a short reflection first, then the offer of a counsellor."""

    def name(self) -> str:
        return "action_acknowledge"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        utter_varied(dispatcher, tracker, domain, ACKNOWLEDGEMENTS.get(latest_intent(tracker) or "", STORY_ACK))
        await offer_handoff(self.gateway, dispatcher, tracker, domain)
        return []
