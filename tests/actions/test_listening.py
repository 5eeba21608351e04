"""No cold fallback (issue 14, item 2): a story gets a reflection and an offer that fits the hour, a second
misunderstanding offers a person, and no reply repeats itself word for word."""

from fakes import AT, bot_said, make_tracker, variation_texts
from rasa_sdk.events import FollowupAction

from actions.chitchat import ActionFallback
from actions.faq import ActionAnswer, ActionServices
from actions.handoff import ActionAcknowledge, ActionHandoff, ActionOfferHandoff

STORY = (
    "父がお酒をやめられなくて、夜になると大きな声を出すので、妹を連れて部屋にこもっています。"
    "母は仕事で遅くて、誰にも言えていません"
)


def user(intent, text):
    return {"event": "user", "text": text, "timestamp": 1795000000.0, "parse_data": {"intent": {"name": intent}}}


async def test_a_long_message_the_nlu_cannot_place_is_a_story_not_a_request_for_more(gateway, dispatcher, domain):
    events = await ActionFallback(gateway).run(dispatcher, make_tracker("nlu_fallback", STORY), domain)
    assert events == [FollowupAction("action_acknowledge")]
    assert dispatcher.messages == []


async def test_a_story_in_hours_gets_a_reflection_and_the_offer_of_a_counsellor(gateway, dispatcher, domain):
    await ActionAcknowledge(gateway).run(dispatcher, make_tracker("nlu_fallback", STORY), domain)
    reflection, offer = dispatcher.messages
    assert reflection["text"] in variation_texts(domain, "utter_story_ack")
    assert offer["text"] in variation_texts(domain, "utter_offer_handoff")
    assert any(b["payload"].startswith("/request_human") for b in offer["buttons"])


async def test_off_hours_the_offer_says_when_a_counsellor_will_read_it(gateway, dispatcher, domain):
    gateway.answers["get_hours"] = {"open": False, "service_active": True, "next_open_text": "11月26日(木) 11:00",
                                    "text": "時間外です"}
    await ActionAcknowledge(gateway).run(dispatcher, make_tracker("share_worry", "聞いてほしかっただけ"), domain)
    reflection, offer = dispatcher.messages
    assert reflection["text"] in variation_texts(domain, "utter_worry_ack")
    assert "11月26日(木) 11:00" in offer["text"]


async def test_outside_the_service_period_there_is_no_offer_only_the_gateway_text(gateway, dispatcher, domain):
    gateway.answers["get_hours"] = {"open": False, "service_active": False, "text": "受付をお休みしています"}
    await ActionOfferHandoff(gateway).run(dispatcher, make_tracker("nlu_fallback", "?"), domain)
    assert [m["text"] for m in dispatcher.messages] == ["受付をお休みしています"]


async def test_second_misunderstanding_in_a_row_offers_a_person(gateway, dispatcher, domain):
    events = [user("nlu_fallback", "ぽよ"), *bot_said("x"), user("nlu_fallback", "ぽよぽよ")]
    tracker = make_tracker("nlu_fallback", "ぽよぽよ", events=events)
    result = await ActionFallback(gateway).run(dispatcher, tracker, domain)
    assert result == [FollowupAction("action_offer_handoff")]
    assert dispatcher.messages[0]["text"] in variation_texts(domain, "utter_default_person")


async def test_the_short_fallback_never_repeats_the_last_one(gateway, dispatcher, domain):
    variations = variation_texts(domain, "utter_default")
    assert len(variations) >= 3
    events = [*bot_said(variations[0]), user("greet", "やあ")]
    await ActionFallback(gateway).run(dispatcher, make_tracker("nlu_fallback", "ぽよ", events=events), domain)
    assert dispatcher.messages[0]["text"] == variations[1]


async def test_answers_rotate_through_their_variations(gateway, dispatcher, domain):
    variations = variation_texts(domain, "utter_records")
    tracker = make_tracker("ask_records", "記録は何年残る？", events=bot_said(variations[0]))
    await ActionAnswer().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["text"] == variations[1]


async def test_every_new_question_has_an_answer_of_at_most_three_short_lines(domain):
    for intent in ("ask_career", "ask_tell_school", "ask_eligibility", "ask_records",
                   "ask_consent_meaning", "ask_who_answers"):
        texts = variation_texts(domain, "utter_" + intent.removeprefix("ask_"))
        assert len(texts) >= 2, intent
        assert all(len(t.splitlines()) <= 3 for t in texts), intent


async def test_a_bare_place_name_the_nlu_cannot_place_gets_the_windows_there(gateway, dispatcher, domain):
    await ActionFallback(gateway).run(dispatcher, make_tracker("nlu_fallback", "わじま"), domain)
    assert gateway.calls == [("get_services", "輪島市", AT)]
    assert dispatcher.messages[0]["text"] == "石川県の窓口です。"


async def test_asking_for_last_times_counsellor_says_how_that_works_and_queues(gateway, dispatcher, domain):
    await ActionHandoff(gateway).run(dispatcher, make_tracker("request_human", "前回の人とまた話したい"), domain)
    assert dispatcher.messages[0]["text"] in variation_texts(domain, "utter_same_counsellor")
    assert dispatcher.messages[1]["text"] == "相談員につなぎます。"
    assert gateway.calls[0][0] == "post_handoff"


async def test_a_plain_request_for_a_person_gets_only_the_gateway_text(gateway, dispatcher, domain):
    await ActionHandoff(gateway).run(dispatcher, make_tracker("request_human", "人と話したいです"), domain)
    assert [m["text"] for m in dispatcher.messages] == ["相談員につなぎます。"]


async def test_questions_about_helpers_get_the_services_hint_with_the_explanation(gateway, dispatcher, domain):
    await ActionServices(gateway).run(dispatcher, make_tracker("ask_services", "ヘルパーってどう頼むの"), domain)
    assert dispatcher.messages[1]["response"] == "utter_services_hint"
    assert all("ヘルパー" in text for text in variation_texts(domain, "utter_services_hint"))


async def test_an_offer_made_a_moment_ago_comes_back_short_not_word_for_word(gateway, dispatcher, domain):
    gateway.answers["get_hours"] = {"open": False, "service_active": True, "next_open_text": "11月26日(木) 11:00",
                                    "text": "時間外です"}
    long_offer = variation_texts(domain, "utter_offer_handoff_closed")[0].replace("{next_open}", "11月26日(木) 11:00")
    events = [user("share_worry", "つかれた"), *bot_said(long_offer), user("nlu_fallback", "ねむい")]
    await ActionOfferHandoff(gateway).run(dispatcher, make_tracker("nlu_fallback", "ねむい", events=events), domain)
    (offer,) = dispatcher.messages
    assert offer["text"] in variation_texts(domain, "utter_offer_handoff_short")
    assert any(b["payload"].startswith("/request_human") for b in offer["buttons"])
