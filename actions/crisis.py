"""The bot's crisis intent (R13, issue 13): a signal for the gateway, which decides what it means.

The gateway's safety screen has already read the message (danger it finds never reaches Rasa), so the intent
alone is a `concern`: a counsellor will read the conversation, and the user gets no 110/119 alarm for talk about
caring (the intent scored 0.91–0.98 on such messages). The gateway answers with the text to say, if any (the
hand-off, or off hours the off-hours reply); the bot sends the 110/119 fallback only when the gateway cannot be
reached, because then nobody else will.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import GatewayAction, contact_key, event_time, intent_confidence
from actions.gateway_client import GatewayError


class ActionCrisis(GatewayAction):
    """POST /internal/contacts/{key}/crisis and say the gateway's text; on failure the 110/119 fallback."""

    def name(self) -> str:
        return "action_crisis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            key, confidence = contact_key(tracker), intent_confidence(tracker)
            result = await self.gateway.post_crisis(key, confidence, event_time(tracker))
        except GatewayError:
            dispatcher.utter_message(response="utter_crisis_fallback")
            return []
        if result.get("text"):
            dispatcher.utter_message(text=str(result["text"]))
        return []
