"""Referrals that fit the person from their own words (issue 14, item 5): actions/hints.py and action_services."""

import pytest
from fakes import KEY, make_tracker

from actions.faq import ActionServices
from actions.hints import age_band, care, role


def typed(*texts: str) -> list[dict]:
    return [{"event": "user", "timestamp": 1795000000.0 + i, "text": t} for i, t in enumerate(texts)]


@pytest.mark.parametrize(("text", "band"), [
    ("44歳です。母の介護をしています", "40_over"), ("44です 母の介護", "40_over"), ("私は17才", "16_18"),
    ("40代の母親です", "40_over"), ("中2", "13_15"), ("17", "16_18"),
    ("母が75歳で", None), ("3歳の弟がいて、世話してる", None), ("明日12時に行く", None),
])
def test_an_age_counts_only_when_it_is_the_writers(text, band):
    assert age_band(text) == band


@pytest.mark.parametrize(("text", "expected"), [
    ("祖母の認知症がひどくて", (["grandparent"], ["elderly"])),
    ("母がうつで家事をしてる", (["mother"], ["mental_illness"])),
    ("弟に障害があって世話してる", (["sibling"], ["disability"])),
    ("母に怒られた", ([], [])),
    ("40代の母親です。娘が祖母の介護をしていて", (["grandparent"], [])),
])
def test_whom_they_care_for_is_read_next_to_a_care_word(text, expected):
    assert care(text) == expected


def test_a_parent_writing_about_their_child_is_a_guardian():
    assert role("中学生の娘が家事を全部やっていて心配です") == "guardian"
    assert role("自分が弟の世話をしてる") is None


async def test_services_are_asked_for_with_what_the_person_typed_before_any_profile(gateway, dispatcher, domain):
    tracker = make_tracker("ask_services", "どこに相談したらいい？")
    tracker.events[:0] = typed("44歳です。母の介護をしています", "まだ質問には答えてない")
    await ActionServices(gateway).run(dispatcher, tracker, domain)
    assert gateway.service_asks == [{"contact": KEY, "hints": {"age_band": "40_over", "care_recipients": "mother"}}]


async def test_button_answers_are_not_hints(gateway, dispatcher, domain):
    tracker = make_tracker("ask_services", "窓口おしえて")
    tracker.events[:0] = typed('/inform_profile{"field": "age_band", "value": "40_over"}')
    await ActionServices(gateway).run(dispatcher, tracker, domain)
    assert gateway.service_asks == [{"contact": KEY, "hints": {}}]
