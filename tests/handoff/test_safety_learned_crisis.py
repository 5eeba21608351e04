"""The crisis model of the learned second opinion (handoff/domain/safety/learned.py, issue 13).

It may raise a concern to crisis only where the concern is a sign no context rule lowered (the learned concern,
hopelessness, farewell words, a hint) and its score reaches `crisis_threshold`; a message with no sign, a hit that
laughter, the past, a quote or a question lowered, and short texts stay as they were. The sentences here were
written for this test, not taken from a dev set or the training file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from handoff.domain.safety import CONCERN, CRISIS, SafetyConfigError, SafetyScreen, default_screen, learned
from handoff.settings import DATA_DIR

# Danger to the writer now, told in words no rule lists: the rules or the learned concern see a sign, the crisis
# model reads it as now.
RAISED = [
    "もう何もかも終わりにしたいし、その準備もしてる",
    "この世界からいなくなる方法ばっかり調べてる",
]
# Harmless or lowered on purpose: must not become crisis.
KEPT = [
    "テスト終わった、人生終わった笑",  # laughter
    "昔は毎日消えたいって思ってたけど、今は平気",  # the past, resolved
    "ばあちゃんが「もう死にたい」っていつも言う",  # an elder's words
    "父が脳梗塞で倒れてから介護していて、毎日へとへと",  # care talk
    "おとうとがまだ2さいで、夜泣きがすごい",  # plain care
    "え、けいさつ？？おこられる？",  # a worried child's question
    "もう限界かも",  # hopelessness alone, short: a concern for a counsellor
]


def _raw() -> Any:
    return yaml.safe_load((DATA_DIR / "safety.yml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", RAISED)
def test_a_sign_the_crisis_model_reads_as_danger_now_is_crisis(text: str) -> None:
    screen = default_screen()
    assert screen.rules_only(text).level != CRISIS, "the rules catch this already; pick a text they do not"
    assert screen.screen(text).level == CRISIS


@pytest.mark.parametrize("text", KEPT)
def test_lowered_hits_care_talk_and_short_worries_are_not_raised(text: str) -> None:
    assert default_screen().screen(text).level != CRISIS


def test_without_the_crisis_model_the_same_signs_stay_concern() -> None:
    raw = _raw()
    for key in ("crisis_train", "crisis_threshold", "crisis_from"):
        raw["learned"].pop(key)
    screen = SafetyScreen.from_data(raw)
    assert [screen.screen(t).level for t in RAISED] == [CONCERN] * len(RAISED)


def test_it_never_raises_a_category_outside_crisis_from() -> None:
    """A model that scores everything 1.0: only concerns of the listed categories become crisis."""
    rules = default_screen()
    opinion = learned.SecondOpinion(
        learned.Model({}, -10.0), 0.5, crisis=learned.Model({}, 10.0), crisis_threshold=0.5,
        crisis_from=frozenset({"hopelessness"}),
    )
    screen = SafetyScreen(rules._signals, rules._lexicon, rules._context, opinion)
    assert screen.screen("もう限界、ほんとに限界です").level == CRISIS  # hopelessness: may be raised
    assert screen.screen("前は死にたいって思ってた").level == CONCERN  # the past lowered it: kept
    assert screen.screen("今日は雨で部活が休みだった").level is None  # no sign at all: never raised


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"crisis_threshold": 1.5}, "crisis_threshold"),
        ({"crisis_threshold": None}, "crisis_threshold"),
        ({"crisis_from": []}, "crisis_from"),
        ({"crisis_train": "missing.yml"}, "not found"),
        ({"crisis_train": ["safety_crisis_train.yml", "missing.yml"]}, "not found"),
    ],
)
def test_a_bad_crisis_setting_is_a_clear_config_error(change: dict[str, Any], message: str) -> None:
    raw = _raw()
    raw["learned"].update(change)
    with pytest.raises(SafetyConfigError, match=message):
        SafetyScreen.from_data(raw, DATA_DIR)


def test_a_training_file_without_its_two_lists_is_a_clear_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "crisis.yml"
    bad.write_text("crisis: [a]\n", encoding="utf-8")
    with pytest.raises(SafetyConfigError, match="not_crisis"):
        learned.crisis_examples(bad)
