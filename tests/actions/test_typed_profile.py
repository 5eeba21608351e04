"""Typed profile answers (issue 14, item 3): numbers, school years, loose municipality names, role and gender words,
three questions up front, and a non-answer answered and asked again once."""

import pytest
from fakes import AT, KEY, make_tracker, responses, slot_events, variation_texts
from rasa_sdk.events import SlotSet

from actions.profile import ActionContinueProfile, ActionProfileAside, ValidateProfileForm, age_to_band
from actions.typed_answers import parse_age, parse_gender, parse_municipality, parse_role


def typed(text, requested, slots=None, intent="inform_profile"):
    return make_tracker(intent, text, slots={"requested_slot": requested, **(slots or {})}, active_loop="profile_form")


@pytest.mark.parametrize("text,band", [
    ("17", "16_18"), ("１７歳", "16_18"), ("えっと、14です", "13_15"), ("中2", "13_15"), ("高校1年", "16_18"),
    ("大学生", "19_22"), ("小５", "under_13"), ("専門学生です", "19_22"), ("33さい", "30_39"), ("スキップ", "skip"),
    ("十七", "16_18"), ("二十三歳です", "23_29"), ("はたち", "19_22"), ("十二さい", "under_13"), ("三十五", "30_39"),
    # Kanazawa/Noto endings and school words in kana with their year
    ("高1やよ", "16_18"), ("中3やけど", "13_15"), ("ちゅう2", "13_15"), ("こうさん", "16_18"),
    ("しょう6ねん", "under_13"),
])
def test_typed_age_and_school_year_become_a_band(text, band):
    assert parse_age(text, age_to_band) == band


@pytest.mark.parametrize("text,place", [
    ("野々市", "野々市市"), ("ののいち", "野々市市"), ("かなざわです", "金沢市"), ("白山に住んでる", "白山市"),
    ("ナナオ", "七尾市"), ("すず", "珠洲市"), ("中能登", "中能登町"), ("能登町です", "能登町"), ("富山です", "県外"),
    ("つばた", "津幡町"),
])
def test_typed_municipality_without_suffix_or_in_kana(text, place):
    assert parse_municipality(text) == place


ROLES = [("自分", "self"), ("本人です", "self"), ("親", "guardian"), ("保護者", "guardian")]
NOT_ANSWERS = ["こう", "しょう", "ちゅう",
               "親と話したい", "自分がいやになる", "すずしいね", "中", "もうすぐ高校を卒業するけど家のことが心配",
               "十分がんばった"]


@pytest.mark.parametrize("text,role", ROLES)
def test_typed_role_words(text, role):
    assert parse_role(text) == role


@pytest.mark.parametrize("text,gender", [
    ("男", "male"), ("女子です", "female"), ("男性", "male"), ("その他", "other"), ("答えたくない", "no_answer"),
])
def test_typed_gender_words(text, gender):
    assert parse_gender(text) == gender


@pytest.mark.parametrize("text", NOT_ANSWERS)
def test_a_sentence_that_only_contains_an_answer_word_is_not_taken(text):
    assert parse_role(text) is None and parse_municipality(text) is None and parse_age(text, age_to_band) is None


async def test_form_extracts_the_typed_answer_only_for_the_question_asked(gateway, dispatcher, domain):
    form = ValidateProfileForm(gateway)
    assert await form.extract_role(dispatcher, typed("自分", "role"), domain) == {"role": "self"}
    assert await form.extract_role(dispatcher, typed("自分", "age_band", {"role": "skipped"}), domain) == {}
    assert await form.extract_age_band(dispatcher, typed("17", "age_band"), domain) == {"age_band": "16_18"}
    assert await form.extract_municipality(dispatcher, typed("ののいち", "municipality"), domain) == {
        "municipality": "野々市市"
    }
    assert await form.extract_gender(dispatcher, typed("男", "gender"), domain) == {"gender": "male"}
    button = typed('/inform_profile{"field": "role", "value": "self"}', "role")
    assert await form.extract_role(dispatcher, button, domain) == {}


async def test_typed_answer_is_stored_like_a_tap(gateway, dispatcher, domain):
    form = ValidateProfileForm(gateway)
    tracker = typed("野々市", "municipality")
    slots = await form.validate_municipality("野々市", dispatcher, tracker, domain)
    assert slots["municipality"] == "野々市市"
    assert gateway.calls == [("post_profile", KEY, "municipality", "野々市市", AT)]


async def test_three_questions_up_front(gateway, dispatcher, domain):
    form = ValidateProfileForm(gateway)
    slots = domain["forms"]["profile_form"]["required_slots"]
    assert await form.required_slots(slots, dispatcher, make_tracker(), domain) == ["role", "age_band", "municipality"]
    events = await ActionContinueProfile().run(dispatcher, make_tracker("continue_profile"), domain)
    assert SlotSet("profile_round", "more") in events
    more = make_tracker(slots={"profile_round": "more"})
    assert await form.required_slots(slots, dispatcher, more, domain) == slots


async def test_a_non_answer_is_answered_then_the_second_one_ends_the_questions(gateway, dispatcher, domain):
    first = await ActionProfileAside().run(dispatcher, typed("今日は雨だね", "role", intent="chitchat"), domain)
    assert dispatcher.messages[0]["text"] in variation_texts(domain, "utter_chitchat")
    assert slot_events(first) == {"profile_misses": 1}

    second = await ActionProfileAside().run(
        dispatcher, typed("ねむい", "role", {"profile_misses": 1}, intent="chitchat"), domain
    )
    assert slot_events(second) == {"profile_misses": 2}
    form = ValidateProfileForm(gateway)
    stopped = make_tracker(slots={"profile_misses": 2, "role": "self"})
    slots = domain["forms"]["profile_form"]["required_slots"]
    assert await form.required_slots(slots, dispatcher, stopped, domain) == ["role"]


async def test_a_typed_answer_read_as_another_intent_is_no_aside(gateway, dispatcher, domain):
    """「十七」 to the age question, read as small talk: the form takes it, nobody is told it was no answer."""
    events = await ActionProfileAside().run(dispatcher, typed("十七", "age_band", intent="chitchat"), domain)
    assert events == [] and dispatcher.messages == []
    form = ValidateProfileForm(gateway)
    assert await form.extract_age_band(dispatcher, typed("十七", "age_band", intent="chitchat"), domain) == {
        "age_band": "16_18"
    }


async def test_an_answer_resets_the_count_of_non_answers(gateway, dispatcher, domain):
    slots = await ValidateProfileForm(gateway).validate_role("self", dispatcher, typed("自分", "role"), domain)
    assert slots["profile_misses"] == 0


async def test_a_long_story_during_the_questions_is_listened_to_and_ends_them(gateway, dispatcher, domain):
    story = "母が入院してから家のことを全部やっていて、学校の課題も出せていないし、友達にも言えなくてずっとしんどいです"
    events = await ActionProfileAside().run(dispatcher, typed(story, "age_band", intent="nlu_fallback"), domain)
    assert dispatcher.messages[0]["text"] in variation_texts(domain, "utter_story_ack")
    assert slot_events(events) == {"profile_misses": 2}
    assert "utter_profile_invalid" not in responses(dispatcher)


async def test_an_answer_to_a_later_question_is_kept_and_the_asked_one_comes_again(gateway, dispatcher, domain):
    """「小6」 to "who is using LINE", 「はくい」 to "how old are you": answers, just not to the question asked."""
    form = ValidateProfileForm(gateway)
    assert await form.extract_age_band(dispatcher, typed("小6", "role"), domain) == {"age_band": "under_13"}
    assert await form.extract_role(dispatcher, typed("小6", "role"), domain) == {}
    hakui = typed("はくい", "age_band")
    assert await form.extract_municipality(dispatcher, hakui, domain) == {"municipality": "羽咋市"}
    assert await form.extract_age_band(dispatcher, typed("はくい", "age_band"), domain) == {}
    # Never over an answer already given, never a skip meant for the question asked.
    assert await form.extract_age_band(dispatcher, typed("15", "role", {"age_band": "16_18"}), domain) == {}
    assert await form.extract_municipality(dispatcher, typed("スキップ", "role"), domain) == {}


async def test_an_age_inside_somebody_talking_is_listened_to_not_stored(gateway, dispatcher, domain):
    text = "おとうとがまだ2さいで ママがしごとでいないとき ぼくがみてる"
    tracker = make_tracker("inform_profile", text, entities=[{"entity": "age", "value": "2"}],
                           slots={"requested_slot": "age_band"}, active_loop="profile_form")
    slots = await ValidateProfileForm(gateway).validate_age_band("2", dispatcher, tracker, domain)
    assert slots == {"age_band": None, "profile_misses": 1} and gateway.calls == []
    assert dispatcher.messages[0]["text"] in variation_texts(domain, "utter_story_ack")
