"""The short profile form (R20): one question at a time, every question skippable, answers kept by the gateway.

Three questions up front (who, age, municipality: what eligibility and referrals need); the rest only if the user
asks for more questions afterwards, else the counsellor asks. Typed answers count like taps (actions/typed_answers.py).
A message that is no answer is answered (rules → action_profile_aside) and the question asked again once; a second
one in a row ends the questions for now.

Why each answer is POSTed at once: the profile lives in the gateway's database (not only in Rasa slots), and the
gateway answers with the eligibility (R6, R7). When it says `refer` the remaining questions are dropped and the
gateway's sincere referral text is shown instead — never a cold refusal.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import typed_answers
from actions.common import (
    GatewayAction,
    UsesGateway,
    contact_key,
    event_time,
    is_story,
    latest_intent,
    latest_text,
    utter_varied,
)
from actions.gateway_client import GatewayError, ProfileValue
from actions.handoff import STORY_ACK

SKIP = "skip"
SKIPPED = "skipped"  # slot value of a skipped question (the gateway stores null)
DONE = "done"

MUNICIPALITIES = (
    "金沢市 七尾市 小松市 輪島市 珠洲市 加賀市 羽咋市 かほく市 白山市 能美市 野々市市 "
    "川北町 津幡町 内灘町 志賀町 宝達志水町 中能登町 穴水町 能登町 県外"
).split()

CHOICES: dict[str, tuple] = {
    "role": ("self", "guardian"),
    "age_band": ("under_13", "13_15", "16_18", "19_22", "23_29", "30_39", "40_over"),
    "gender": ("female", "male", "other", "no_answer"),
    "municipality": tuple(MUNICIPALITIES),
    "care_recipients": ("mother", "father", "sibling", "grandparent", "other"),
    "care_kinds": (
        "housework", "personal_care", "emotional", "interpreting", "money", "siblings_care", "medical", "other",
    ),
    "situation": ("elementary", "junior_high", "high_school", "university", "working", "job_seeking", "other"),
}
MULTI = ("care_recipients", "care_kinds")
FIRST_ROUND = ("role", "age_band", "municipality")
MORE = "more"  # slot profile_round after 「ほかの質問にも答える」
MAX_MISSES = 2  # non-answers in a row before the questions stop for now


def age_to_band(age: int) -> str:
    """Typed age (「17歳」) → the contract's age band."""
    if age < 13:
        return "under_13"
    for upper, band in ((15, "13_15"), (18, "16_18"), (22, "19_22"), (29, "23_29"), (39, "30_39")):
        if age <= upper:
            return band
    return "40_over"


# The questions a typed answer can fill (actions/typed_answers.py), by slot.
TYPED: dict[str, Any] = {
    "role": typed_answers.parse_role,
    "age_band": lambda text: typed_answers.parse_age(text, age_to_band),
    "gender": typed_answers.parse_gender,
    "municipality": typed_answers.parse_municipality,
}


def first(value: Any) -> Any:
    """Entity mappings can yield a list; when several lookups match (中能登町 ⊃ 能登町) take the longest."""
    if isinstance(value, list):
        strings = [v for v in value if isinstance(v, str)]
        return max(strings, key=len) if strings else (value[0] if value else None)
    return value


def wrong_field(tracker: Tracker, field: str) -> bool:
    """A stale button of another question (its `field` entity differs) must not fill this one."""
    fields = list(tracker.get_latest_entity_values("field"))
    return bool(fields) and field not in fields


class ValidateProfileForm(UsesGateway, FormValidationAction):
    """Validates each answer, stores it in the gateway and keeps the returned eligibility."""

    def name(self) -> str:
        return "validate_profile_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """Three questions first; after `refer` or two non-answers in a row, stop: keep only what is answered."""
        if tracker.get_slot("eligibility_level") == "refer" or (tracker.get_slot("profile_misses") or 0) >= MAX_MISSES:
            return [s for s in domain_slots if tracker.get_slot(s) is not None]
        if tracker.get_slot("profile_round") != MORE:
            return [s for s in domain_slots if s in FIRST_ROUND]
        return domain_slots

    def _typed(self, slot: str, tracker: Tracker) -> dict[str, Any]:
        """A typed answer, as the value its button would send: to the question being asked, or to another question
        of the form that it plainly answers and the asked one's words do not (「小6」 to "who is using LINE",
        「はくい」 to "how old are you"). The form then asks what is still missing, without calling it a mistake."""
        if tracker.get_slot(slot) is not None:
            return {}
        asked, text = tracker.get_slot("requested_slot"), latest_text(tracker)
        value = TYPED[slot](text)
        if not value or asked == slot:
            return {slot: value} if value else {}
        if value == SKIP or asked not in TYPED or TYPED[asked](text):
            return {}
        return {slot: value}

    async def extract_role(self, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return self._typed("role", tracker)

    async def extract_age_band(self, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return self._typed("age_band", tracker)

    async def extract_gender(self, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return self._typed("gender", tracker)

    async def extract_municipality(self, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return self._typed("municipality", tracker)

    async def _store(
        self, field: str, value: ProfileValue, tracker: Tracker, slot_value: Any, extra: dict | None = None
    ) -> dict[str, Any]:
        """POST one answer; the form goes on even if the gateway is down (the answer is then only local)."""
        slots: dict[str, Any] = {field: slot_value, "profile_misses": 0, **(extra or {})}
        try:
            result = await self.gateway.post_profile(contact_key(tracker), field, value, event_time(tracker))
        except GatewayError:
            return slots
        eligibility = result.get("eligibility") or {}
        if eligibility.get("level"):
            slots["eligibility_level"] = eligibility.get("level")
            slots["eligibility_text"] = eligibility.get("text")
            slots["eligibility_offer_counsellor"] = eligibility.get("offer_counsellor")
        return slots

    async def _single(
        self, field: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        value = first(value)
        if wrong_field(tracker, field):
            dispatcher.utter_message(response="utter_profile_invalid")
            return {field: None}
        if value == SKIP:
            return await self._store(field, None, tracker, SKIPPED)
        if value not in CHOICES[field]:
            dispatcher.utter_message(response="utter_profile_invalid")
            return {field: None}
        return await self._store(field, value, tracker, value)

    async def _multi(
        self, field: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Multi-select: each tap toggles a choice and stores the list so far; 「選び終わった」 ends the question."""
        value = first(value)
        selected_slot = f"{field}_selected"
        selected: list[str] = list(tracker.get_slot(selected_slot) or [])
        if wrong_field(tracker, field):
            dispatcher.utter_message(response="utter_profile_invalid")
            return {field: None}
        if value == SKIP or (value == DONE and not selected):
            return await self._store(field, None, tracker, SKIPPED, {selected_slot: []})
        if value == DONE:
            return {field: selected}
        if value not in CHOICES[field]:
            dispatcher.utter_message(response="utter_profile_invalid")
            return {field: None}
        selected = [s for s in selected if s != value] if value in selected else [*selected, value]
        stored = await self._store(field, selected or None, tracker, None, {selected_slot: selected})
        return stored

    async def validate_role(self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        slots = await self._single("role", value, dispatcher, tracker)
        if slots.get("role") == "guardian":
            dispatcher.utter_message(response="utter_guardian_note")
        return slots

    async def validate_age_band(self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        value = first(value)
        text = latest_text(tracker)
        if text and not text.startswith("/") and not typed_answers.core(text):
            # An age inside somebody talking (「おとうとがまだ2さいで…」) is seldom theirs: listen, do not store it.
            utter_varied(dispatcher, tracker, domain, STORY_ACK)
            return {"age_band": None, "profile_misses": int(tracker.get_slot("profile_misses") or 0) + 1}
        if isinstance(value, str):
            digits = unicodedata.normalize("NFKC", value)
            if re.fullmatch(r"\d{1,3}", digits):
                value = age_to_band(int(digits))
        return await self._single("age_band", value, dispatcher, tracker)

    async def validate_gender(self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict) -> dict[str, Any]:
        return await self._single("gender", value, dispatcher, tracker)

    async def validate_municipality(
        self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        value = first(value)
        if value in ("more", "back"):
            return {"municipality": None, "municipality_page": "more" if value == "more" else None}
        if isinstance(value, str) and value not in CHOICES["municipality"] and value != SKIP:
            value = typed_answers.parse_municipality(value) or value  # 「野々市」 caught by an entity
        slots = await self._single("municipality", value, dispatcher, tracker)
        slots.setdefault("municipality_page", None)
        return slots

    async def validate_care_recipients(
        self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self._multi("care_recipients", value, dispatcher, tracker)

    async def validate_care_kinds(
        self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self._multi("care_kinds", value, dispatcher, tracker)

    async def validate_situation(
        self, value: Any, dispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self._single("situation", value, dispatcher, tracker)


class ActionSubmitProfile(GatewayAction):
    """End of the form: thanks + offer of a counsellor, or the gateway's referral text (R7)."""

    def name(self) -> str:
        return "action_submit_profile"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if tracker.get_slot("eligibility_level") == "refer":
            text = tracker.get_slot("eligibility_text")
            if text:
                dispatcher.utter_message(text=text)
            else:
                dispatcher.utter_message(response="utter_refer_default")
            # utter_how_can_help offers a counsellor: after a referral only if the gateway says one may be offered.
            if tracker.get_slot("eligibility_offer_counsellor") is True:
                dispatcher.utter_message(response="utter_how_can_help")
            return []
        if (tracker.get_slot("profile_misses") or 0) >= MAX_MISSES:
            dispatcher.utter_message(response="utter_profile_later")
            dispatcher.utter_message(response="utter_offer_handoff_after_profile")
            return [SlotSet("profile_misses", 0)]
        dispatcher.utter_message(response="utter_profile_done")
        more_left = tracker.get_slot("profile_round") != MORE
        offer = "utter_offer_more_after_profile" if more_left else "utter_offer_handoff_after_profile"
        dispatcher.utter_message(response=offer)
        return []


# What a non-answer during the questions gets before the question comes again; anything else: utter_profile_invalid.
ASIDE_ANSWERS = {
    "chitchat": "utter_chitchat",
    "out_of_scope": "utter_out_of_scope",
    "greet": "utter_greet_short",
    "thanks": "utter_you_are_welcome",
}


class ActionProfileAside(Action):
    """A message that is no answer to the question: answer it briefly and count it (the rule asks again)."""

    def name(self) -> str:
        return "action_profile_aside"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        parse = TYPED.get(tracker.get_slot("requested_slot") or "")
        if parse is not None and parse(latest_text(tracker)):
            return []  # 「十七」 read as small talk is still the answer: the form takes it next, no "that's not it"
        misses = int(tracker.get_slot("profile_misses") or 0) + 1
        response = ASIDE_ANSWERS.get(latest_intent(tracker) or "", "utter_profile_invalid")
        if latest_intent(tracker) == "nlu_fallback" and is_story(latest_text(tracker)):
            response, misses = STORY_ACK, MAX_MISSES  # somebody telling their story: listen, stop asking
        utter_varied(dispatcher, tracker, domain, response)
        return [SlotSet("profile_misses", misses)]


class ActionContinueProfile(Action):
    """「ほかの質問にも答える」 after the first three: the remaining questions (the rule starts the form again)."""

    def name(self) -> str:
        return "action_continue_profile"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return [SlotSet("profile_round", MORE), SlotSet("profile_misses", 0)]
