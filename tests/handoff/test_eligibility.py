"""Eligibility (R6, R7) from the consented profile, per docs/internal-api.md."""

from __future__ import annotations

import pytest

from handoff.eligibility import ISHIKAWA_MUNICIPALITIES, MUNICIPALITIES, Eligibility, Level, assess


@pytest.mark.parametrize("age_band", ["under_13", "13_15", "16_18", "19_22", "23_29"])
def test_under_30_in_ishikawa_is_eligible(age_band):
    result = assess({"age_band": age_band, "municipality": "金沢市", "role": "self"})
    assert result == Eligibility(Level.ELIGIBLE, "under_30_in_ishikawa")
    assert result.reply_key is None


def test_role_is_not_needed_when_age_and_place_decide():
    assert assess({"age_band": "16_18", "municipality": "能登町"}).level == "eligible"


def test_thirties_are_accepted_but_flagged_for_the_counsellor():
    result = assess({"age_band": "30_39", "municipality": "七尾市", "role": "self"})
    assert (result.level, result.reason) == (Level.FLAGGED, "age_30_39")
    assert result.reply_key is None


def test_forty_and_over_is_referred_with_the_age_reply():
    result = assess({"age_band": "40_over", "municipality": "小松市", "role": "self"})
    assert (result.level, result.reason) == (Level.REFER, "age_40_over")
    assert result.reply_key == "eligibility_refer_age"


@pytest.mark.parametrize("age_band", ["16_18", "40_over", None])
def test_outside_ishikawa_is_referred_whatever_the_age(age_band):
    result = assess({"age_band": age_band, "municipality": "県外", "role": "self"})
    assert (result.level, result.reason) == (Level.REFER, "outside_ishikawa")
    assert result.reply_key == "eligibility_refer_outside"


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
