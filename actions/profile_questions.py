"""The profile form's questions (R20): each asked with its buttons, in other words when it is asked again.

Rasa calls `action_ask_<slot>` before each question of profile_form; the form's validation and the profile's
submission are in actions/profile.py.
"""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import GatewayAction, bot_texts, response_buttons, response_text


def ask_question(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, ask: str) -> None:
    """The question `ask`; asked before in this conversation, it comes in other words (`ask`_again, rotated) with
    the same buttons, so that a question asked again after a non-answer is not the same text word for word."""
    if response_text(domain, ask) not in bot_texts(tracker) or f"{ask}_again" not in (domain.get("responses") or {}):
        dispatcher.utter_message(response=ask)
        return
    sent = bot_texts(tracker)
    variations = domain["responses"][f"{ask}_again"]
    chosen = min(variations, key=lambda v: max((i for i, t in enumerate(sent) if t == v.get("text")), default=-1))
    dispatcher.utter_message(text=str(chosen.get("text") or ""), buttons=response_buttons(domain, ask))


class _AskSingle(GatewayAction):
    """Asks a single-choice question (role, age, gender), in other words when it is asked again."""

    field = ""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        ask_question(dispatcher, tracker, domain, f"utter_ask_{self.field}")
        return []


class ActionAskRole(_AskSingle):
    field = "role"

    def name(self) -> str:
        return "action_ask_role"


class ActionAskAgeBand(_AskSingle):
    field = "age_band"

    def name(self) -> str:
        return "action_ask_age_band"


class ActionAskGender(_AskSingle):
    field = "gender"

    def name(self) -> str:
        return "action_ask_gender"


class ActionAskMunicipality(GatewayAction):
    """Twenty places do not fit LINE's 13 quick replies: two pages."""

    def name(self) -> str:
        return "action_ask_municipality"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        more = tracker.get_slot("municipality_page") == "more"
        ask_question(dispatcher, tracker, domain, "utter_ask_municipality_more" if more else "utter_ask_municipality")
        return []


class _AskMulti(GatewayAction):
    """Re-asks a multi-select question with ✓ on the choices already tapped."""

    field = ""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        selected = list(tracker.get_slot(f"{self.field}_selected") or [])
        ask = f"utter_ask_{self.field}"
        if not selected:
            dispatcher.utter_message(response=ask)
            return []
        buttons, labels = [], []
        for button in response_buttons(domain, ask):
            value = _button_value(button.get("payload", ""))
            if value in selected:
                labels.append(button["title"])
                button["title"] = ("✓" + button["title"])[:20]
            buttons.append(button)
        text = response_text(domain, "utter_profile_selected").replace("{selected}", "・".join(labels))
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


def _button_value(payload: str) -> str | None:
    match = re.search(r'"value":\s*"([^"]*)"', payload)
    return match.group(1) if match else None


class ActionAskCareRecipients(_AskMulti):
    field = "care_recipients"

    def name(self) -> str:
        return "action_ask_care_recipients"


class ActionAskCareKinds(_AskMulti):
    field = "care_kinds"

    def name(self) -> str:
        return "action_ask_care_kinds"
