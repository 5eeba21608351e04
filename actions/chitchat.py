"""What the bot says when the NLU could not place a message (issue 14, item 2: no cold fallback).

Why an action and not `utter_default`: a long message is somebody's story and deserves a reflection and the offer of
a counsellor, not 「もう少しくわしく書いて」; a second misunderstanding in a row means the bot is in the way, so a
person is offered; and the short fallback must not repeat itself word for word.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.common import GatewayAction, is_story, latest_text, utter_varied
from actions.faq import ActionServices
from actions.typed_answers import SKIP, parse_municipality

FALLBACK_INTENT = "nlu_fallback"


def misunderstood_before(tracker: Tracker) -> bool:
    """Was the user message before the latest one also not understood?"""
    users = [e for e in tracker.events or [] if e.get("event") == "user"]
    if len(users) < 2:
        return False
    intent = ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name")
    return intent == FALLBACK_INTENT


class ActionFallback(GatewayAction):
    """Story → reflection and offer; a place name → its windows; second miss in a row → a person; else 「もう一度」."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = latest_text(tracker)
        if is_story(text):
            return [FollowupAction("action_acknowledge")]
        if parse_municipality(text) not in (None, SKIP):
            # A bare place name (「わじま」): the windows there, answered here (no rule follows a follow-up here).
            return await ActionServices(self.gateway).run(dispatcher, tracker, domain)
        if misunderstood_before(tracker):
            utter_varied(dispatcher, tracker, domain, "utter_default_person")
            return [FollowupAction("action_offer_handoff")]
        utter_varied(dispatcher, tracker, domain, "utter_default")
        return []
