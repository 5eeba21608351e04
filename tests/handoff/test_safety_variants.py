"""Spelling variants of the safety lexicon (handoff/domain/safety/variants.py): kana readings and dropped particles."""

from __future__ import annotations

import re

import pytest

from handoff.domain.safety.lexicon import SafetyConfigError
from handoff.domain.safety.variants import MAX_VARIANTS, Spellings

SPELL = Spellings({"全部": ["ぜんぶ"], "終わ": ["おわ"], "意識": ["いしき"], "血": ["ち"]})


def test_every_mix_of_kanji_and_kana_is_a_variant() -> None:
    expected = {"ぜんぶ終わりにしたい", "全部おわりにしたい", "ぜんぶおわりにしたい"}
    assert set(SPELL.variants("全部終わりにしたい")) == expected


def test_a_particle_after_a_kanji_may_be_dropped_also_in_the_kana_spelling() -> None:
    found = SPELL.variants("意識がもうろう")
    assert "意識もうろう" in found and "いしきもうろう" in found and "いしきがもうろう" in found


def test_a_particle_inside_a_kana_word_stays() -> None:
    assert Spellings({}).variants("さがしてる") == []


def test_variants_too_short_to_be_safe_are_left_out() -> None:
    assert "ちが" not in SPELL.variants("血が")


def test_a_long_term_has_a_bounded_number_of_variants() -> None:
    many = Spellings({ch: ["か", "き"] for ch in "一二三四五六七八"})
    assert len(many.variants("一二三四五六七八")) <= MAX_VARIANTS


def test_a_pattern_accepts_the_kana_spelling_outside_character_classes() -> None:
    rx = re.compile(SPELL.expand_pattern("(全部|みんな)[血]終わ"))
    assert rx.search("ぜんぶ血おわ") and rx.search("全部血終わ")
    assert not rx.search("ぜんぶちおわ")  # inside [..] the kanji stays as written


def test_a_lookbehind_is_left_as_written() -> None:
    assert SPELL.expand_pattern("(?<!全部)血") == "(?<!全部)血"


def test_a_reading_table_entry_without_a_reading_is_an_error() -> None:
    with pytest.raises(SafetyConfigError, match=r"spellings\.血"):
        Spellings.from_data({"血": []})


def test_a_pattern_of_plain_alternatives_becomes_its_list_of_strings() -> None:
    from handoff.domain.safety.lexicon import finite_language

    assert sorted(finite_language("(目|め)(が|)さめ") or []) == ["めがさめ", "めさめ", "目がさめ", "目さめ"]
    assert finite_language("(薬|くすり).{0,4}飲") is None  # a gap: stays a regex
    assert finite_language("(?<!右)手") is None


def test_a_pattern_is_skipped_only_when_none_of_its_required_first_words_is_in_the_text() -> None:
    from handoff.domain.safety.lexicon import Lexicon, lead_words

    assert lead_words("(薬|くすり).{0,4}(飲|の)") == {"薬", "くすり"}
    assert lead_words("(薬|くすり)?飲") is None and lead_words("(薬|くすり)飲|のんだ") is None
    lexicon = Lexicon({}, {"od": ["(薬|くすり).{0,4}(飲|の)んだ", "(薬|くすり)?ぜんぶのんだ"]})
    assert [h.text for h in lexicon.hits("ぜんぶのんだ")] == ["ぜんぶのんだ"]
    assert [h.text for h in lexicon.hits("くすりをのんだ")] == ["くすりをのんだ"]
