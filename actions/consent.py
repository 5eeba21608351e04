"""Consent to record and to the short profile (R20): given, declined or withdrawn at any time.

The gateway stores each decision with its time; the slot `consent_state` only steers the dialogue.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    GatewayAction,
    bot_texts,
    contact_key,
    entity_value,
    event_time,
    intent_confidence,
    latest_intent,
    latest_text,
    response_text,
    utter_varied,
)
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
    "eligibility_offer_counsellor",
)


# Bot messages after an unanswered consent question before it is offered once more.
RE_ASK_AFTER = 4
# A typed 「同意しない」 may still look like `consent` to the classifier: a refusal word always wins.
REFUSAL = re.compile(r"(しない|しません|したくない|できない|やだ|いやだ|嫌|ダメ|だめ|やめ|no\b)", re.IGNORECASE)


# Withdrawing deletes the profile, so it is done at once only when it was asked for plainly: a tap, or a typed
# statement the classifier is sure of. A question (「記録は消してもらえるの」「同意やめたらどうなる」) or a doubtful
# reading is answered with what withdrawing does and two buttons.
WITHDRAW_SURE = 0.9
QUESTION = re.compile(
    r"([?？]|の|か|かな|かね|って|たら|れば|なら|どうなる|どうなります|できる|できます)[\s!！。…〜ー]*$")


# A question about withdrawing (「同意やめたらどうなる」) gets what withdrawing does, whichever intent it was read as.
WITHDRAWING = re.compile(r"(同意|どうい).{0,4}(やめ|止め|取り消|とりけ|取消|撤回|取り下げ|とりさげ|キャンセル|解除)")


def asks_about_withdrawing(text: str) -> bool:
    """「同意やめたらどうなる」「同意を取り消したら相談できなくなる？」: a question about withdrawing consent."""
    text = text.strip()
    return not text.startswith("/") and bool(WITHDRAWING.search(text)) and bool(QUESTION.search(text))


def parse_confirmed(tracker: Tracker) -> bool | None:
    """The answer to 「同意をやめますか？」: the button's entity, or a typed yes / no while it is open."""
    raw = entity_value(tracker, "confirmed")
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    if tracker.get_slot("consent_state") == "withdrawing":
        intent = latest_intent(tracker)
        if intent in ("affirm", "withdraw_consent"):
            return True
        if intent == "deny":
            return False
    return None


def needs_confirmation(tracker: Tracker) -> bool:
    text = latest_text(tracker).strip()
    if not text or text.startswith("/"):  # a button's payload: asked for plainly
        return False
    confidence = intent_confidence(tracker)
    return bool(QUESTION.search(text)) or confidence is None or confidence < WITHDRAW_SURE


def parse_granted(tracker: Tracker) -> bool | None:
    """Decision from the button entity, or from a typed answer (consent/affirm → yes, deny → no)."""
    raw = entity_value(tracker, "granted")
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    intent = latest_intent(tracker)
    if intent in ("consent", "affirm"):
        return not REFUSAL.search(latest_text(tracker))
    if intent == "deny":
        return False
    return None


class ActionRecordConsent(GatewayAction):
    """Stores the user's decision; on yes the profile form follows (rule), on no the bot simply keeps helping."""

    def name(self) -> str:
        return "action_record_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
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
    """「同意をやめたい」: the gateway records the withdrawal and deletes the profile; the bot forgets it too.

    A question or a doubtful reading is asked to confirm first (`needs_confirmation`); the answer comes back here,
    by button or typed (consent_state `withdrawing`)."""

    def name(self) -> str:
        return "action_withdraw_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        key, at = contact_key(tracker), event_time(tracker)
        had_consented = await self._had_consented(tracker, key, at)
        confirmed = parse_confirmed(tracker)
        if confirmed is None and not had_consented and QUESTION.search(latest_text(tracker).strip()):
            # 「記録は消してもらえるの」「同意やめたらどうなる」: a question, answered as one.
            answer = "utter_withdraw_effect" if asks_about_withdrawing(latest_text(tracker)) else "utter_records"
            utter_varied(dispatcher, tracker, domain, answer)
            return []
        if confirmed is None and had_consented and needs_confirmation(tracker):
            dispatcher.utter_message(response="utter_confirm_withdraw")
            return [SlotSet("consent_state", "withdrawing")]
        if confirmed is False:
            dispatcher.utter_message(response="utter_consent_kept")
            return [SlotSet("consent_state", "granted" if had_consented else "declined")]
        try:
            await self.gateway.post_consent(key, False, at)
        except GatewayError:
            dispatcher.utter_message(response="utter_gateway_unavailable")
            return []
        # 「同意しない」 typed by somebody who never consented is a refusal, and is answered as one.
        dispatcher.utter_message(response="utter_consent_withdrawn" if had_consented else "utter_consent_declined")
        return [SlotSet("consent_state", "declined")] + [SlotSet(slot, None) for slot in PROFILE_SLOTS]

    async def _had_consented(self, tracker: Tracker, key: str, at: str | None) -> bool:
        """From the slot when it knows; else from the gateway (a new conversation of a returning contact)."""
        state = tracker.get_slot("consent_state")
        if state is not None:
            return state in ("granted", "withdrawing")
        try:
            return (await self.gateway.get_contact(key, at)).get("consent") is True
        except GatewayError:
            return True


class ActionConfirmWithdraw(ActionWithdrawConsent):
    """A typed 「うん」 or 「やめない」 to 「同意をやめますか？」: the same decision, under its own name because Rasa's
    rules need each action to set the same slots in every rule (here always consent_state, to declined or kept)."""

    def name(self) -> str:
        return "action_confirm_withdraw"


class ActionOfferConsent(GatewayAction):
    """After the first message has been answered, ask for consent once if it was never asked (issue 14, item 3).

    Why after the answer: a first message that is a question deserves its answer first; the consent question then
    comes as its own bubble with its buttons, and is asked at most once per conversation.
    """

    def name(self) -> str:
        return "action_offer_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.active_loop.get("name"):
            return []
        if tracker.get_slot("consent_state") == "asked" and latest_intent(tracker) == "ask_consent_meaning":
            # 「どういう意味？」 about the open question: the explanation, then its buttons again, short.
            dispatcher.utter_message(response="utter_ask_consent_short")
            return []
        if not self._due(tracker, domain):
            return []
        try:
            contact = await self.gateway.get_contact(contact_key(tracker), event_time(tracker))
        except GatewayError:
            return []
        consent = contact.get("consent")
        if consent is not None:
            return [SlotSet("consent_state", "granted" if consent else "declined")]
        again = tracker.get_slot("consent_state") == "asked"  # asked once already: not the long text word for word
        dispatcher.utter_message(response="utter_ask_consent_again" if again else "utter_ask_consent")
        return [SlotSet("consent_state", "asked")]

    @staticmethod
    def _due(tracker: Tracker, domain: dict[str, Any]) -> bool:
        """Never asked; or asked once, left unanswered, and a few messages ago (asked again once, not nagged)."""
        state = tracker.get_slot("consent_state")
        if state is None:
            return True
        if state != "asked":
            return False
        questions = {response_text(domain, "utter_ask_consent"), response_text(domain, "utter_ask_consent_again")}
        sent = bot_texts(tracker)
        asked = [i for i, text in enumerate(sent) if text in questions]
        return len(asked) == 1 and len(sent) - asked[0] > RE_ASK_AFTER
