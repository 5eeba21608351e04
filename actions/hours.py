"""Consultation hours (R2, R4): the gateway decides whether the window is open; the bot relays its text."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import GatewayAction, event_time, response_text
from actions.gateway_client import GatewayError


class ActionHours(GatewayAction):
    """Open → say so and offer a counsellor; closed → the gateway's off-hours text (next opening, 24 h lines)."""

    def name(self) -> str:
        return "action_hours"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        default_schedule = response_text(domain, "utter_schedule_default")
        try:
            hours = await self.gateway.get_hours(event_time(tracker))
        except GatewayError:
            dispatcher.utter_message(response="utter_hours_schedule", schedule=default_schedule)
            return []
        schedule = hours.get("schedule_text") or default_schedule
        if hours.get("open"):
            dispatcher.utter_message(response="utter_hours_open", schedule=schedule)
        elif hours.get("text"):
            dispatcher.utter_message(text=str(hours["text"]))
        else:
            dispatcher.utter_message(response="utter_hours_schedule", schedule=schedule)
        return []
