"""Support services by municipality (R11, R18), from the gateway's data file via GET /internal/services."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import GatewayAction, event_time
from actions.gateway_client import GatewayError, Services
from actions.profile import MUNICIPALITIES, first


def asked_municipality(tracker: Tracker) -> Optional[str]:
    """The place named in the message, else the one in the profile (skipped or unknown → None)."""
    named = first(list(tracker.get_latest_entity_values("municipality")))
    if named in MUNICIPALITIES:
        return str(named)
    stored = tracker.get_slot("municipality")
    return str(stored) if stored in MUNICIPALITIES else None


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
    """Lists support windows; without a known municipality it lists the prefecture's and asks for the place."""

    def name(self) -> str:
        return "action_services"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        municipality = asked_municipality(tracker)
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent == "inform_profile" and municipality is None:
            dispatcher.utter_message(response="utter_how_can_help")
            return []
        try:
            services = await self.gateway.get_services(municipality, event_time(tracker))
        except GatewayError:
            dispatcher.utter_message(response="utter_gateway_unavailable")
            return []
        text = services_text(services)
        if text:
            dispatcher.utter_message(text=text)
        if municipality is None:
            dispatcher.utter_message(response="utter_services_hint")
        return []
