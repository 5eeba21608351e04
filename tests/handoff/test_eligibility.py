"""Eligibility (R6, R7) from the consented profile, per docs/internal-api.md."""

from __future__ import annotations

import json

import pytest

from handoff.domain.eligibility import (
    ISHIKAWA_MUNICIPALITIES,
    MUNICIPALITIES,
    OUTSIDE,
    Eligibility,
    Level,
    assess,
    audience,
    care_needs,
    normalise_municipality,
)
from handoff.domain.referral import ReferralDecision
from tests.support.databases import rows
from tests.support.servers import Stack


class _Keys:
    """Content that answers with the reply's key: which referral reply the decision chooses."""

    def reply(self, key: str, **values: object) -> str:
        return key

    def referral_text(self, profile: object) -> str:
        return ""


def referral_key(result: Eligibility) -> str | None:
    return ReferralDecision(result, {}).text(_Keys())  # type: ignore[arg-type]


@pytest.mark.parametrize("age_band", ["under_13", "13_15", "16_18", "19_22", "23_29"])
def test_under_30_in_ishikawa_is_eligible(age_band):
    result = assess({"age_band": age_band, "municipality": "金沢市", "role": "self"})
    assert result == Eligibility(Level.ELIGIBLE, "under_30_in_ishikawa")
    assert referral_key(result) is None


def test_role_is_not_needed_when_age_and_place_decide():
    assert assess({"age_band": "16_18", "municipality": "能登町"}).level == "eligible"


def test_thirties_are_accepted_but_flagged_for_the_counsellor():
    result = assess({"age_band": "30_39", "municipality": "七尾市", "role": "self"})
    assert (result.level, result.reason) == (Level.FLAGGED, "age_30_39")
    assert referral_key(result) is None


def test_forty_and_over_is_referred_with_the_age_reply():
    result = assess({"age_band": "40_over", "municipality": "小松市", "role": "self"})
    assert (result.level, result.reason) == (Level.REFER, "age_40_over")
    assert referral_key(result) == "eligibility_refer_age"


@pytest.mark.parametrize("age_band", ["16_18", "40_over", None])
def test_outside_ishikawa_is_referred_whatever_the_age(age_band):
    result = assess({"age_band": age_band, "municipality": "県外", "role": "self"})
    assert (result.level, result.reason) == (Level.REFER, "outside_ishikawa")
    assert referral_key(result) == "eligibility_refer_outside"


@pytest.mark.parametrize("age_band", ["30_39", "40_over", None])
def test_guardian_in_ishikawa_is_eligible_whatever_their_age(age_band):
    result = assess({"age_band": age_band, "municipality": "白山市", "role": "guardian"})
    assert result == Eligibility(Level.ELIGIBLE, "guardian")


def test_guardian_outside_ishikawa_is_referred():
    assert assess({"municipality": "県外", "role": "guardian"}).level == "refer"


@pytest.mark.parametrize(
    ("profile", "reason"),
    [
        ({}, "missing:age_band"),
        ({"municipality": "金沢市"}, "missing:age_band"),
        ({"age_band": "13_15"}, "missing:municipality"),
        ({"age_band": "30_39", "municipality": None}, "missing:municipality"),
        ({"age_band": "40_over", "municipality": "金沢市"}, "missing:role"),
        ({"role": "guardian"}, "missing:municipality"),
    ],
)
def test_not_enough_answers_is_unknown(profile, reason):
    assert assess(profile) == Eligibility(Level.UNKNOWN, reason)


@pytest.mark.parametrize(
    ("profile", "reason"),
    [
        ({"age_band": "16_18", "municipality": "東京都"}, "invalid:municipality"),
        ({"age_band": "teen", "municipality": "金沢市"}, "invalid:age_band"),
        ({"age_band": "16_18", "municipality": "金沢市", "role": "friend"}, "invalid:role"),
    ],
)
def test_values_outside_the_vocabulary_are_unknown_not_a_crash(profile, reason):
    assert assess(profile) == Eligibility(Level.UNKNOWN, reason)


def test_every_ishikawa_municipality_counts_as_ishikawa():
    assert len(ISHIKAWA_MUNICIPALITIES) == 19
    assert MUNICIPALITIES[-1] == "県外"
    for name in ISHIKAWA_MUNICIPALITIES:
        assert assess({"age_band": "19_22", "municipality": name}).level == "eligible", name


def test_to_json_is_plain_strings():
    assert assess({"municipality": "県外"}).to_json() == {"level": "refer", "reason": "outside_ishikawa"}


@pytest.mark.parametrize(
    ("typed", "municipality"),
    [
        ("野々市", "野々市市"),
        ("ののいち", "野々市市"),
        ("ノノイチ", "野々市市"),
        ("かなざわ", "金沢市"),
        ("金沢", "金沢市"),
        ("金沢市", "金沢市"),
        ("石川県金沢市です", "金沢市"),
        ("かほく", "かほく市"),
        ("中能登", "中能登町"),
        ("能登", "能登町"),
        ("しか", "志賀町"),
        ("輪島市だとどこ？", "輪島市"),
        ("富山", OUTSIDE),
        ("富山に住んでるんですけど", OUTSIDE),
        ("東京都", OUTSIDE),
        ("県外", OUTSIDE),
        ("こんにちは", None),
        ("のみかい", None),
        (17, None),
    ],
)
def test_municipality_typed_loosely_is_understood(typed, municipality):
    assert normalise_municipality(typed) == municipality


def test_who_is_cared_for_gives_the_need_a_referral_answers_first():
    assert care_needs({"care_recipients": ["grandparent"]}) == ["elderly"]
    assert care_needs({"care_recipients": ["sibling"]}) == ["child"]
    assert care_needs({"care_recipients": ["mother"], "age_band": "40_over"}) == ["elderly"]
    assert care_needs({"care_recipients": ["mother"], "age_band": "16_18"}) == []
    assert care_needs({"care_needs": ["mental_illness"], "care_recipients": ["father"]}) == ["mental_illness"]


@pytest.mark.parametrize(
    ("profile", "who"),
    [
        ({"role": "guardian", "age_band": "40_over"}, "guardian"),
        ({"age_band": "13_15"}, "child"),
        ({"age_band": "23_29"}, "young_adult"),
        ({"age_band": "40_over", "role": "self"}, "adult"),
        ({}, "anyone"),
    ],
)
def test_a_referral_speaks_to_who_the_person_is(profile, who):
    assert audience(profile) == who


# ---- through the internal API the bot uses -------------------------------------------------------------------

USER = "U" + "e" * 32
AT = "2026-11-25T14:00:00+09:00"


def _consented_key(stack: Stack) -> str:
    stack.send(USER, {"type": "text", "text": "はじめまして"})
    stack.wait_delivered(USER, 1)
    key = rows(stack.database_url, "SELECT key FROM contacts")[0]["key"]
    stack.internal("POST", f"/contacts/{key}/consent", json={"granted": True, "at": AT}).raise_for_status()
    return key


def _answer(stack: Stack, key: str, field: str, value: object) -> dict:
    response = stack.internal("POST", f"/contacts/{key}/profile", json={"field": field, "value": value, "at": AT})
    response.raise_for_status()
    return response.json()


def test_profile_takes_a_loosely_typed_municipality(any_stack: Stack) -> None:
    key = _consented_key(any_stack)
    assert _answer(any_stack, key, "municipality", "ののいち")["profile"]["municipality"] == "野々市市"
    stored = rows(any_stack.database_url, "SELECT profile FROM contacts")[0]["profile"]
    assert (stored if isinstance(stored, dict) else json.loads(stored))["municipality"] == "野々市市"
    assert any_stack.internal("GET", "/municipality", params={"text": "かなざわ"}).json() == {"municipality": "金沢市"}


def test_outside_ishikawa_gets_one_answer_and_is_not_offered_a_counsellor_after_it(stack: Stack) -> None:
    key = _consented_key(stack)
    eligibility = _answer(stack, key, "municipality", "富山")["eligibility"]
    assert eligibility["level"] == "refer" and eligibility["offer_counsellor"] is False
    assert "石川県に住んでいる人のための窓口" in eligibility["text"]
    assert "まずはここに相談してみてね：" in eligibility["text"]
    assert "人と話したい" not in eligibility["text"] and "相談員につなぎます" not in eligibility["text"]
    # Asking for a counsellor anyway gets the same answer, short; the conversation is not queued.
    handoff = stack.internal("POST", f"/contacts/{key}/handoff", json={"at": AT, "reason": "user_request"}).json()
    assert handoff["status"] == "bot" and "ここの相談員にはつなげない" in handoff["text"]
    assert rows(stack.database_url, "SELECT status FROM conversations")[0]["status"] == "bot"


def test_a_45_year_old_caring_for_her_mother_is_referred_to_elderly_care(stack: Stack) -> None:
    key = _consented_key(stack)
    _answer(stack, key, "role", "self")
    _answer(stack, key, "care_recipients", ["mother"])
    _answer(stack, key, "municipality", "金沢")
    eligibility = _answer(stack, key, "age_band", "40_over")["eligibility"]
    assert eligibility["level"] == "refer" and eligibility["offer_counsellor"] is False
    text = eligibility["text"]
    assert "まずはここに相談してみてね：金沢市の地域包括支援センター" in text
    assert "189" not in text and "スクールカウンセラー" not in text and "児童相談所" not in text


def test_services_for_a_place_typed_loosely_are_short_and_start_with_what_fits(stack: Stack) -> None:
    key = _consented_key(stack)
    _answer(stack, key, "age_band", "16_18")
    _answer(stack, key, "care_recipients", ["grandparent"])
    answer = stack.internal("GET", "/services", params={"municipality": "わじま", "contact": key}).json()
    assert answer["municipality"] == "輪島市" and len(answer["items"]) <= 3
    assert answer["items"][0]["kind"] == "地域包括支援センター"
    assert answer["text"].startswith("まずはここに相談してみてね：輪島市の地域包括支援センター")
    assert len(answer["all_items"]) > len(answer["items"])
    unknown = stack.internal("GET", "/services", params={"municipality": "ほげほげ"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_municipality"
