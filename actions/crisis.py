"""Crisis (R13) caught by the NLU after the gateway's lexicon screen missed it.

The action only reports the signal: the gateway sends the crisis reply (110/119 + 24 h lines), raises the
conversation to the top of the queue and alerts staff. Uttering hotlines here too would double the message, so
the bot speaks only when the gateway cannot be reached.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import GatewayAction, contact_key, event_time, intent_confidence
from actions.gateway_client import GatewayError


class ActionCrisis(GatewayAction):
    """POST /internal/contacts/{key}/crisis; on failure send the fallback with 110/119 and 24 h lines."""

    def name(self) -> str:
        return "action_crisis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        try:
            await self.gateway.post_crisis(contact_key(tracker), intent_confidence(tracker), event_time(tracker))
        except GatewayError:
            dispatcher.utter_message(response="utter_crisis_fallback")
        return []
