"""Consent (R20): stored with time via the gateway; declining or withdrawing never stops the help."""

from actions.consent import PROFILE_SLOTS, ActionRecordConsent, ActionWithdrawConsent

from fakes import AT, KEY, make_tracker, responses, slot_events


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
    tracker = make_tracker("withdraw_consent", "同意をやめたい", slots={"age_band": "16_18"})
    events = await ActionWithdrawConsent(gateway).run(dispatcher, tracker, domain)

    assert gateway.calls == [("post_consent", KEY, False, AT)]
    assert responses(dispatcher) == ["utter_consent_withdrawn"]
    slots = slot_events(events)
    assert slots["consent_state"] == "declined"
    assert all(slots[s] is None for s in PROFILE_SLOTS)


async def test_withdrawal_with_gateway_down_says_so(gateway, dispatcher, domain):
    gateway.down = True
    events = await ActionWithdrawConsent(gateway).run(dispatcher, make_tracker("withdraw_consent"), domain)
    assert responses(dispatcher) == ["utter_gateway_unavailable"] and events == []
