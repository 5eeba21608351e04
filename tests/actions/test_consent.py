"""Consent (R20): stored with time via the gateway; declining or withdrawing never stops the help."""

import pytest
from fakes import AT, KEY, bot_said, make_tracker, responses, slot_events, variation_texts

from actions.consent import (
    PROFILE_SLOTS,
    ActionConfirmWithdraw,
    ActionOfferConsent,
    ActionRecordConsent,
    ActionWithdrawConsent,
)
from actions.faq import ActionAnswer


def granted_entity(value):
    return [{"entity": "granted", "value": value}]


async def test_consent_button_yes_is_stored_with_event_time(gateway, dispatcher, domain):
    tracker = make_tracker("consent", '/consent{"granted": true}', entities=granted_entity(True))
    events = await ActionRecordConsent(gateway).run(dispatcher, tracker, domain)

    assert gateway.calls == [("post_consent", KEY, True, AT)]
    assert responses(dispatcher) == ["utter_consent_thanks"]
    assert slot_events(events) == {"consent_state": "granted"}


async def test_consent_button_no_is_stored_and_bot_keeps_helping(gateway, dispatcher, domain):
    tracker = make_tracker("consent", '/consent{"granted": false}', entities=granted_entity(False))
    events = await ActionRecordConsent(gateway).run(dispatcher, tracker, domain)

    assert gateway.calls == [("post_consent", KEY, False, AT)]
    assert responses(dispatcher) == ["utter_consent_declined", "utter_how_can_help"]
    assert slot_events(events) == {"consent_state": "declined"}


async def test_typed_yes_and_no_to_the_consent_question(gateway, dispatcher, domain):
    await ActionRecordConsent(gateway).run(dispatcher, make_tracker("affirm", "はい"), domain)
    await ActionRecordConsent(gateway).run(dispatcher, make_tracker("deny", "いいえ"), domain)
    await ActionRecordConsent(gateway).run(dispatcher, make_tracker("consent", "同意します"), domain)
    assert [c[2] for c in gateway.calls] == [True, False, True]


async def test_string_entity_from_a_hand_typed_payload_is_understood(gateway, dispatcher, domain):
    tracker = make_tracker("consent", "", entities=granted_entity("false"))
    await ActionRecordConsent(gateway).run(dispatcher, tracker, domain)
    assert gateway.calls[0][2] is False


async def test_consent_not_stored_when_gateway_down_form_does_not_start(gateway, dispatcher, domain):
    gateway.down = True
    tracker = make_tracker("consent", "", entities=granted_entity(True))
    events = await ActionRecordConsent(gateway).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_gateway_unavailable"]
    assert slot_events(events) == {"consent_state": "asked"}


async def test_withdrawal_is_stored_and_profile_slots_are_cleared(gateway, dispatcher, domain):
    slots = {"consent_state": "granted", "age_band": "16_18"}
    tracker = make_tracker("withdraw_consent", "同意をやめたい", slots=slots)
    events = await ActionWithdrawConsent(gateway).run(dispatcher, tracker, domain)

    assert gateway.calls == [("post_consent", KEY, False, AT)]
    assert responses(dispatcher) == ["utter_consent_withdrawn"]
    slots = slot_events(events)
    assert slots["consent_state"] == "declined"
    assert all(slots[s] is None for s in PROFILE_SLOTS)


@pytest.mark.parametrize(("text", "confidence"), [("記録は消してもらえるの", 0.95), ("同意やめたらどうなる？", 0.97),
                                                ("なんか同意やめる", 0.62)])
async def test_a_question_or_a_doubtful_reading_is_asked_to_confirm_before_anything_is_deleted(
    gateway, dispatcher, domain, text, confidence
):
    tracker = make_tracker("withdraw_consent", text, slots={"consent_state": "granted"}, confidence=confidence)
    events = await ActionWithdrawConsent(gateway).run(dispatcher, tracker, domain)
    assert gateway.calls == [] and responses(dispatcher) == ["utter_confirm_withdraw"]
    assert slot_events(events) == {"consent_state": "withdrawing"}


@pytest.mark.parametrize(("intent", "text", "entities"), [
    ("withdraw_consent", '/withdraw_consent{"confirmed": true}', [{"entity": "confirmed", "value": True}]),
    ("affirm", "うん", []),
])
async def test_a_yes_to_the_confirmation_withdraws(gateway, dispatcher, domain, intent, text, entities):
    tracker = make_tracker(intent, text, entities=entities, slots={"consent_state": "withdrawing", "age_band": "16_18"})
    action = ActionWithdrawConsent(gateway) if entities else ActionConfirmWithdraw(gateway)  # tap or typed
    events = await action.run(dispatcher, tracker, domain)
    assert gateway.calls == [("post_consent", KEY, False, AT)]
    assert responses(dispatcher) == ["utter_consent_withdrawn"] and slot_events(events)["age_band"] is None


@pytest.mark.parametrize(("intent", "text", "entities"), [
    ("withdraw_consent", '/withdraw_consent{"confirmed": false}', [{"entity": "confirmed", "value": False}]),
    ("deny", "やっぱやめない", []),
])
async def test_a_no_to_the_confirmation_keeps_consent_and_profile(gateway, dispatcher, domain, intent, text, entities):
    tracker = make_tracker(intent, text, entities=entities, slots={"consent_state": "withdrawing"})
    action = ActionWithdrawConsent(gateway) if entities else ActionConfirmWithdraw(gateway)
    events = await action.run(dispatcher, tracker, domain)
    assert gateway.calls == [] and responses(dispatcher) == ["utter_consent_kept"]
    assert slot_events(events) == {"consent_state": "granted"}


async def test_a_question_about_deleting_from_somebody_who_never_consented_is_answered(gateway, dispatcher, domain):
    tracker = make_tracker("withdraw_consent", "記録は消してもらえるの", slots={"consent_state": "asked"})
    events = await ActionWithdrawConsent(gateway).run(dispatcher, tracker, domain)
    assert gateway.calls == [] and events == []
    assert dispatcher.messages[0]["text"] in variation_texts(domain, "utter_records")


async def test_withdrawal_with_gateway_down_says_so(gateway, dispatcher, domain):
    gateway.down = True
    events = await ActionWithdrawConsent(gateway).run(dispatcher, make_tracker("withdraw_consent"), domain)
    assert responses(dispatcher) == ["utter_gateway_unavailable"] and events == []


async def test_typed_refusal_is_a_refusal_even_if_the_classifier_says_consent(gateway, dispatcher, domain):
    events = await ActionRecordConsent(gateway).run(dispatcher, make_tracker("consent", "同意しない"), domain)
    assert gateway.calls == [("post_consent", KEY, False, AT)]
    assert slot_events(events) == {"consent_state": "declined"}


async def test_refusal_by_somebody_who_never_consented_is_not_called_a_withdrawal(gateway, dispatcher, domain):
    tracker = make_tracker("withdraw_consent", "同意しません", slots={"consent_state": "asked"})
    await ActionWithdrawConsent(gateway).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_consent_declined"]


async def test_consent_is_asked_after_a_first_message_that_was_not_a_greeting(gateway, dispatcher, domain):
    events = await ActionOfferConsent(gateway).run(dispatcher, make_tracker("ask_hours", "何時まで？"), domain)
    assert responses(dispatcher) == ["utter_ask_consent"]
    assert slot_events(events) == {"consent_state": "asked"}


async def test_consent_is_not_asked_when_the_gateway_knows_the_answer(gateway, dispatcher, domain):
    gateway.answers["get_contact"] = {"key": KEY, "consent": False}
    events = await ActionOfferConsent(gateway).run(dispatcher, make_tracker("ask_hours"), domain)
    assert dispatcher.messages == [] and slot_events(events) == {"consent_state": "declined"}


async def test_unanswered_consent_is_offered_once_more_later_not_every_time(gateway, dispatcher, domain):
    question = domain["responses"]["utter_ask_consent"][0]["text"]
    recent = make_tracker("ask_hours", slots={"consent_state": "asked"}, events=bot_said(question, "a"))
    await ActionOfferConsent(gateway).run(dispatcher, recent, domain)
    assert dispatcher.messages == []
    later = make_tracker(
        "ask_hours", slots={"consent_state": "asked"}, events=bot_said(question, "a", "b", "c", "d", "e")
    )
    await ActionOfferConsent(gateway).run(dispatcher, later, domain)
    assert responses(dispatcher) == ["utter_ask_consent_again"]  # asked again, not word for word
    again = domain["responses"]["utter_ask_consent_again"][0]["text"]
    twice = make_tracker("ask_hours", slots={"consent_state": "asked"},
                         events=bot_said(question, "a", "b", "c", "d", "e", again, "f", "g", "h", "i", "j"))
    dispatcher.messages.clear()
    await ActionOfferConsent(gateway).run(dispatcher, twice, domain)
    assert dispatcher.messages == []


async def test_what_does_consent_mean_gets_the_buttons_again(gateway, dispatcher, domain):
    tracker = make_tracker("ask_consent_meaning", "どういう意味", slots={"consent_state": "asked"})
    await ActionOfferConsent(gateway).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ask_consent_short"]


@pytest.mark.parametrize(("intent", "text", "state"), [
    ("ask_records", "同意やめたらどうなる", "granted"),
    ("ask_consent_meaning", "どういやめたらもう話せないの？", None),
    ("withdraw_consent", "同意を取り消したら相談できなくなる？", "asked"),
])
async def test_a_question_about_withdrawing_is_told_what_withdrawing_does(gateway, dispatcher, domain, intent, text,
                                                                          state):
    tracker = make_tracker(intent, text, slots={"consent_state": state})
    action = ActionWithdrawConsent(gateway) if intent == "withdraw_consent" else ActionAnswer()
    await action.run(dispatcher, tracker, domain)
    assert gateway.calls == []
    assert dispatcher.messages[0]["text"] in variation_texts(domain, "utter_withdraw_effect")
    assert "相談" in dispatcher.messages[0]["text"] and "消え" in dispatcher.messages[0]["text"]


async def test_a_records_question_without_withdrawing_keeps_the_records_answer(gateway, dispatcher, domain):
    await ActionAnswer().run(dispatcher, make_tracker("ask_records", "記録っていつまで残るの？"), domain)
    assert dispatcher.messages[0]["text"] in variation_texts(domain, "utter_records")
