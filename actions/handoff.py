"""Hand-off to a counsellor (R5, R16): the gateway queues the conversation and writes the reply.

In hours it says a counsellor is coming (or the queue position when all lines are busy); off hours it sends the
off-hours text and keeps the message for the next opening. The bot never computes any of that.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import GatewayAction, contact_key, entity_value, event_time
from actions.gateway_client import GatewayError

REASONS = ("user_request", "profile_done", "topic")
# Which offer the user accepted with a plain 「はい」 decides the reason.
OFFER_REASONS = {"utter_offer_handoff": "topic", "action_submit_profile": "profile_done"}


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


class ActionHandoff(GatewayAction):
    """Asks the gateway for a counsellor and sends its ready-made text."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
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
