"""Profile form (R20) with eligibility from the gateway (R6, R7): every answer stored, every question skippable."""

import pytest
from fakes import AT, KEY, bot_said, make_tracker, responses

from actions.profile import ActionSubmitProfile, ValidateProfileForm, age_to_band
from actions.profile_questions import ActionAskAgeBand, ActionAskCareRecipients, ActionAskMunicipality

FORM_SLOTS = ["role", "age_band", "municipality", "gender", "care_recipients", "care_kinds", "situation"]
FIRST_THREE = ["role", "age_band", "municipality"]


def button(field, value):
    return make_tracker(
        "inform_profile",
        entities=[{"entity": "field", "value": field}, {"entity": "value", "value": value}],
        active_loop="profile_form",
    )


async def test_each_answer_is_posted_to_the_gateway(gateway, dispatcher, domain):
    form = ValidateProfileForm(gateway)
    slots = await form.validate_age_band("16_18", dispatcher, button("age_band", "16_18"), domain)
    assert slots["age_band"] == "16_18"
    assert gateway.calls == [("post_profile", KEY, "age_band", "16_18", AT)]


async def test_skip_posts_null_and_moves_on(gateway, dispatcher, domain):
    slots = await ValidateProfileForm(gateway).validate_gender("skip", dispatcher, button("gender", "skip"), domain)
    assert slots["gender"] == "skipped"
    assert gateway.calls == [("post_profile", KEY, "gender", None, AT)]


async def test_eligibility_returned_by_the_gateway_is_kept(gateway, dispatcher, domain):
    eligibility = {"level": "refer", "text": "お住まいの地域の窓口は…", "offer_counsellor": False}
    gateway.answers["post_profile"] = {"profile": {}, "eligibility": eligibility}
    form = ValidateProfileForm(gateway)
    slots = await form.validate_age_band("40_over", dispatcher, button("age_band", "40_over"), domain)
    assert slots["eligibility_level"] == "refer"
    assert slots["eligibility_offer_counsellor"] is False


@pytest.mark.parametrize("typed,band", [("17", "16_18"), ("１２", "under_13"), ("29", "23_29"), ("45", "40_over")])
async def test_typed_age_becomes_a_band(gateway, dispatcher, domain, typed, band):
    tracker = make_tracker("inform_profile", f"{typed}歳", entities=[{"entity": "age", "value": typed}])
    slots = await ValidateProfileForm(gateway).validate_age_band(typed, dispatcher, tracker, domain)
    assert slots["age_band"] == band


def test_age_bands_match_the_contract():
    assert [age_to_band(a) for a in (12, 13, 15, 16, 18, 19, 22, 23, 29, 30, 39, 40)] == [
        "under_13", "13_15", "13_15", "16_18", "16_18", "19_22", "19_22", "23_29", "23_29", "30_39", "30_39",
        "40_over",
    ]


async def test_unknown_value_is_rejected_kindly(gateway, dispatcher, domain):
    slots = await ValidateProfileForm(gateway).validate_gender("cat", dispatcher, button("gender", "cat"), domain)
    assert slots == {"gender": None}
    assert responses(dispatcher) == ["utter_profile_invalid"]
    assert gateway.calls == []


async def test_stale_button_of_another_question_does_not_fill_this_one(gateway, dispatcher, domain):
    slots = await ValidateProfileForm(gateway).validate_municipality(
        "female", dispatcher, button("gender", "female"), domain
    )
    assert slots["municipality"] is None
    assert gateway.calls == []


async def test_typed_municipality_with_overlapping_lookups_takes_the_longest(gateway, dispatcher, domain):
    tracker = make_tracker("inform_profile", "中能登町です", active_loop="profile_form",
                           entities=[{"entity": "municipality", "value": "能登町"},
                                     {"entity": "municipality", "value": "中能登町"}])
    form = ValidateProfileForm(gateway)
    slots = await form.validate_municipality(["能登町", "中能登町"], dispatcher, tracker, domain)
    assert slots["municipality"] == "中能登町"


async def test_municipality_second_page_and_back(gateway, dispatcher, domain):
    form = ValidateProfileForm(gateway)
    more = await form.validate_municipality("more", dispatcher, button("municipality", "more"), domain)
    assert more == {"municipality": None, "municipality_page": "more"}
    tracker = make_tracker("inform_profile", slots={"municipality_page": "more"})
    await ActionAskMunicipality(gateway).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ask_municipality_more"]
    back = await form.validate_municipality("back", dispatcher, button("municipality", "back"), domain)
    assert back["municipality_page"] is None


async def test_outside_ishikawa_is_accepted_and_stored(gateway, dispatcher, domain):
    form = ValidateProfileForm(gateway)
    slots = await form.validate_municipality("県外", dispatcher, button("municipality", "県外"), domain)
    assert slots["municipality"] == "県外"


async def test_multi_select_toggles_stores_list_and_asks_again(gateway, dispatcher, domain):
    form = ValidateProfileForm(gateway)
    first = await form.validate_care_recipients("mother", dispatcher, button("care_recipients", "mother"), domain)
    assert first["care_recipients"] is None and first["care_recipients_selected"] == ["mother"]
    assert gateway.calls[-1] == ("post_profile", KEY, "care_recipients", ["mother"], AT)

    tracker = button("care_recipients", "grandparent")
    tracker.slots["care_recipients_selected"] = ["mother"]
    second = await form.validate_care_recipients("grandparent", dispatcher, tracker, domain)
    assert second["care_recipients_selected"] == ["mother", "grandparent"]

    tracker = button("care_recipients", "mother")
    tracker.slots["care_recipients_selected"] = ["mother", "grandparent"]
    toggled = await form.validate_care_recipients("mother", dispatcher, tracker, domain)
    assert toggled["care_recipients_selected"] == ["grandparent"]

    tracker = button("care_recipients", "done")
    tracker.slots["care_recipients_selected"] = ["grandparent"]
    done = await form.validate_care_recipients("done", dispatcher, tracker, domain)
    assert done == {"care_recipients": ["grandparent"]}


async def test_done_without_choice_counts_as_skip(gateway, dispatcher, domain):
    form = ValidateProfileForm(gateway)
    slots = await form.validate_care_kinds("done", dispatcher, button("care_kinds", "done"), domain)
    assert slots["care_kinds"] == "skipped"
    assert gateway.calls[-1][3] is None


async def test_multi_select_question_shows_checkmarks(gateway, dispatcher, domain):
    tracker = make_tracker("inform_profile", slots={"care_recipients_selected": ["mother", "sibling"]})
    await ActionAskCareRecipients(gateway).run(dispatcher, tracker, domain)
    message = dispatcher.messages[0]
    titles = [b["title"] for b in message["buttons"]]
    assert "✓母" in titles and "✓きょうだい" in titles and "父" in titles
    assert "母・きょうだい" in message["text"]
    assert len(titles) <= 13 and all(len(t) <= 20 for t in titles)


async def test_guardian_gets_a_note(gateway, dispatcher, domain):
    await ValidateProfileForm(gateway).validate_role("guardian", dispatcher, button("role", "guardian"), domain)
    assert responses(dispatcher) == ["utter_guardian_note"]


async def test_refer_stops_remaining_questions(gateway, dispatcher, domain):
    slots = {"eligibility_level": "refer", "role": "self", "age_band": "40_over"}
    tracker = make_tracker("inform_profile", slots=slots)
    required = await ValidateProfileForm(gateway).required_slots(FORM_SLOTS, dispatcher, tracker, domain)
    assert required == ["role", "age_band"]
    tracker = make_tracker("inform_profile", slots={"eligibility_level": "eligible", "profile_round": "more"})
    assert await ValidateProfileForm(gateway).required_slots(FORM_SLOTS, dispatcher, tracker, domain) == FORM_SLOTS


async def test_gateway_down_keeps_the_form_going(gateway, dispatcher, domain):
    gateway.down = True
    slots = await ValidateProfileForm(gateway).validate_situation(
        "high_school", dispatcher, button("situation", "high_school"), domain
    )
    assert slots["situation"] == "high_school"


async def test_submit_refer_sends_gateway_text_and_offers_no_counsellor(gateway, dispatcher, domain):
    slots = {
        "eligibility_level": "refer",
        "eligibility_text": "お住まいの地域の窓口は…",
        "eligibility_offer_counsellor": False,
    }
    await ActionSubmitProfile(gateway).run(dispatcher, make_tracker(slots=slots), domain)
    assert [m.get("text") for m in dispatcher.messages] == ["お住まいの地域の窓口は…"]
    assert "utter_how_can_help" not in responses(dispatcher)


async def test_submit_refer_without_text_uses_default(gateway, dispatcher, domain):
    await ActionSubmitProfile(gateway).run(dispatcher, make_tracker(slots={"eligibility_level": "refer"}), domain)
    assert responses(dispatcher) == ["utter_refer_default"]


async def test_submit_refer_offers_a_counsellor_only_when_the_gateway_allows_it(gateway, dispatcher, domain):
    slots = {"eligibility_level": "refer", "eligibility_offer_counsellor": True}
    await ActionSubmitProfile(gateway).run(dispatcher, make_tracker(slots=slots), domain)
    assert responses(dispatcher) == ["utter_refer_default", "utter_how_can_help"]


@pytest.mark.parametrize("level", ["eligible", "flagged", "unknown", None])
async def test_submit_eligible_or_flagged_offers_a_counsellor_or_more_questions(gateway, dispatcher, domain, level):
    await ActionSubmitProfile(gateway).run(dispatcher, make_tracker(slots={"eligibility_level": level}), domain)
    assert responses(dispatcher) == ["utter_profile_done", "utter_offer_more_after_profile"]
    payloads = [b["payload"] for b in domain["responses"]["utter_offer_more_after_profile"][0]["buttons"]]
    assert "/continue_profile" in payloads


async def test_submit_after_the_remaining_questions_only_offers_a_counsellor(gateway, dispatcher, domain):
    tracker = make_tracker(slots={"eligibility_level": "eligible", "profile_round": "more"})
    await ActionSubmitProfile(gateway).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_profile_done", "utter_offer_handoff_after_profile"]


def test_quick_replies_fit_line_limits(domain):
    for name, variations in domain["responses"].items():
        for variation in variations:
            buttons = variation.get("buttons") or []
            assert len(buttons) <= 13, name
            assert all(len(b["title"]) <= 20 for b in buttons), name


def test_every_profile_question_can_be_skipped(domain):
    for slot in FORM_SLOTS:
        ask = domain["responses"][f"utter_ask_{slot}"][0]
        payloads = " ".join(b["payload"] for b in ask["buttons"])
        assert '"skip"' in payloads or '"no_answer"' in payloads, slot


def test_bot_never_asks_for_name_address_or_phone(domain):
    for name, variations in domain["responses"].items():
        if not name.startswith("utter_ask_"):
            continue
        for variation in variations:
            assert not any(word in variation["text"] for word in ("名前", "住所", "電話番号")), name


async def test_a_question_asked_again_comes_in_other_words_with_its_buttons(gateway, dispatcher, domain):
    question = domain["responses"]["utter_ask_age_band"][0]
    tracker = make_tracker("chitchat", slots={"requested_slot": "age_band"}, events=bot_said(question["text"]))
    await ActionAskAgeBand().run(dispatcher, tracker, domain)
    again = dispatcher.messages[-1]
    assert again["text"] in [v["text"] for v in domain["responses"]["utter_ask_age_band_again"]]
    assert again["buttons"] == question["buttons"]
    dispatcher.messages.clear()
    await ActionAskAgeBand().run(dispatcher, make_tracker("chitchat"), domain)
    assert responses(dispatcher) == ["utter_ask_age_band"]
