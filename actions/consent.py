"""Consent to record and to the short profile (R20): given, declined or withdrawn at any time.

The gateway stores each decision with its time; the slot `consent_state` only steers the dialogue.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import GatewayAction, contact_key, entity_value, event_time
from actions.gateway_client import GatewayError

PROFILE_SLOTS = (
    "role",
    "age_band",
    "gender",
    "municipality",
    "care_recipients",
    "care_kinds",
    "situation",
    "care_recipients_selected",
    "care_kinds_selected",
    "municipality_page",
    "eligibility_level",
    "eligibility_text",
)


def parse_granted(tracker: Tracker) -> Optional[bool]:
    """Decision from the button entity, or from a typed answer (consent/affirm → yes, deny → no)."""
    raw = entity_value(tracker, "granted")
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if intent in ("consent", "affirm"):
        return True
    if intent == "deny":
        return False
    return None


class ActionRecordConsent(GatewayAction):
    """Stores the user's decision; on yes the profile form follows (rule), on no the bot simply keeps helping."""

    def name(self) -> str:
        return "action_record_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        granted = parse_granted(tracker)
        if granted is None:
            dispatcher.utter_message(response="utter_ask_consent")
            return [SlotSet("consent_state", "asked")]
        try:
            await self.gateway.post_consent(contact_key(tracker), granted, event_time(tracker))
        except GatewayError:
            dispatcher.utter_message(response="utter_gateway_unavailable")
            return [SlotSet("consent_state", "asked")]
        if granted:
            dispatcher.utter_message(response="utter_consent_thanks")
            return [SlotSet("consent_state", "granted")]
        dispatcher.utter_message(response="utter_consent_declined")
        dispatcher.utter_message(response="utter_how_can_help")
        return [SlotSet("consent_state", "declined")]


class ActionWithdrawConsent(GatewayAction):
    """「同意をやめたい」: the gateway records the withdrawal and deletes the profile; the bot forgets it too."""

    def name(self) -> str:
        return "action_withdraw_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        try:
            await self.gateway.post_consent(contact_key(tracker), False, event_time(tracker))
        except GatewayError:
            dispatcher.utter_message(response="utter_gateway_unavailable")
            return []
        dispatcher.utter_message(response="utter_consent_withdrawn")
        return [SlotSet("consent_state", "declined")] + [SlotSet(slot, None) for slot in PROFILE_SLOTS]
