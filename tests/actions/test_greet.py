"""Friend-add / first message / return (R22): introduce + ask consent only when the gateway has no answer."""

from fakes import AT, KEY, make_tracker, responses, slot_events, variation_texts

from actions.greet import ActionGreet, ActionWelcomeBack


async def test_new_contact_gets_introduction_hours_and_consent_question(gateway, dispatcher, domain):
    events = await ActionGreet(gateway).run(dispatcher, make_tracker("follow", "/follow"), domain)

    assert responses(dispatcher) == ["utter_greet_intro", "utter_greet_about", "utter_ask_consent"]
    assert dispatcher.messages[1]["schedule"].startswith("平日")
    assert slot_events(events) == {"consent_state": "asked"}
    assert ("get_contact", KEY, AT) in gateway.calls


async def test_gateway_schedule_text_is_preferred_over_the_default(gateway, dispatcher, domain):
    gateway.answers["get_hours"] = {"open": False, "text": "…", "schedule_text": "平日 10時〜21時"}
    await ActionGreet(gateway).run(dispatcher, make_tracker("greet", "こんにちは"), domain)
    assert dispatcher.messages[1]["schedule"] == "平日 10時〜21時"


async def test_contact_who_consented_is_not_asked_again(gateway, dispatcher, domain):
    gateway.answers["get_contact"] = {"key": KEY, "consent": True, "profile": {}}
    events = await ActionGreet(gateway).run(dispatcher, make_tracker("greet", "こんにちは"), domain)

    assert dispatcher.messages[0]["text"] in variation_texts(domain, "utter_greet_again")
    assert slot_events(events) == {"consent_state": "granted"}


async def test_gateway_down_still_greets_new_contact(gateway, dispatcher, domain):
    gateway.down = True
    await ActionGreet(gateway).run(dispatcher, make_tracker("greet", "こんにちは"), domain)
    assert responses(dispatcher)[0] == "utter_greet_intro"


async def test_contact_key_falls_back_to_sender_id_without_metadata(gateway, dispatcher, domain):
    await ActionGreet(gateway).run(dispatcher, make_tracker("greet", "こんにちは", metadata={}), domain)
    _name, key, at = gateway.calls[0]
    assert key == KEY and at.endswith("+09:00")


async def test_return_after_resolution_greets_back_without_reconsent(gateway, dispatcher, domain):
    gateway.answers["get_contact"] = {"key": KEY, "consent": True, "returning": True}
    tracker = make_tracker("return_visit", "また来ました", metadata={"contact": KEY, "at": AT, "event": "return"})
    events = await ActionWelcomeBack(gateway).run(dispatcher, tracker, domain)

    assert responses(dispatcher) == ["utter_welcome_back"]
    assert slot_events(events) == {"consent_state": "granted"}


async def test_return_of_contact_who_declined_is_not_asked_again(gateway, dispatcher, domain):
    gateway.answers["get_contact"] = {"key": KEY, "consent": False, "returning": True}
    await ActionWelcomeBack(gateway).run(dispatcher, make_tracker("return_visit"), domain)
    assert responses(dispatcher) == ["utter_welcome_back"]


async def test_return_of_contact_never_asked_asks_once(gateway, dispatcher, domain):
    gateway.answers["get_contact"] = {"key": KEY, "consent": None, "returning": True}
    events = await ActionWelcomeBack(gateway).run(dispatcher, make_tracker("return_visit"), domain)
    assert responses(dispatcher) == ["utter_welcome_back", "utter_ask_consent"]
    assert slot_events(events) == {"consent_state": "asked"}


async def test_a_greeting_typed_after_the_introduction_gets_a_short_hello(gateway, dispatcher, domain):
    tracker = make_tracker("greet", "あのー", slots={"consent_state": "asked"})
    await ActionGreet(gateway).run(dispatcher, tracker, domain)
    assert len(dispatcher.messages) == 1
    assert dispatcher.messages[0]["text"] in variation_texts(domain, "utter_greet_short")


CLOSED = {"open": False, "text": "…", "closed_now_text": "いまは年末年始のお休み中です。月曜の11時から返事します。"}


async def test_a_short_hello_while_closed_says_it_is_closed_now(gateway, dispatcher, domain):
    gateway.answers["get_contact"] = {"key": KEY, "consent": True, "profile": {}}
    gateway.answers["get_hours"] = CLOSED
    await ActionGreet(gateway).run(dispatcher, make_tracker("greet", "あけおめ"), domain)
    assert dispatcher.messages[0]["text"] in variation_texts(domain, "utter_greet_again")
    assert dispatcher.messages[1]["text"] == CLOSED["closed_now_text"]


async def test_welcome_back_while_closed_says_it_is_closed_now_and_not_while_open(gateway, dispatcher, domain):
    gateway.answers["get_contact"] = {"key": KEY, "consent": True, "returning": True}
    await ActionWelcomeBack(gateway).run(dispatcher, make_tracker("return_visit"), domain)
    assert responses(dispatcher) == ["utter_welcome_back"]
    gateway.answers["get_hours"] = CLOSED
    await ActionWelcomeBack(gateway).run(dispatcher, make_tracker("return_visit"), domain)
    assert dispatcher.messages[-1]["text"] == CLOSED["closed_now_text"]
