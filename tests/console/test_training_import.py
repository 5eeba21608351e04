"""The import half of the trainers' loop (tests/bot/import_reviewed.py, `make nlu-import`): what it refuses before
the cross-validation gate runs, and that what it writes is NLU data Rasa's loader and the twin check read back."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BOT_TOOLS = Path(__file__).resolve().parents[1] / "bot"
sys.path.insert(0, str(BOT_TOOLS))
importer = importlib.import_module("import_reviewed")
twins = importlib.import_module("check_nlu_twins")
Example = twins.Example

KNOWN = {"ask_hours", "share_worry", "affirm", "deny"}
TRAIN = [Example("affirm", "はい", "greet.yml"), Example("ask_hours", "何時まで？", "hours.yml")]
UNSEEN = [Example("ask_hours", "よるってあいてる", "nlu_dev/hours.yml")]


def _check(*items: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    accepted, problems, notes = importer.check(list(items), KNOWN, TRAIN, UNSEEN)
    return [e.text for e in accepted], problems, notes


@pytest.mark.parametrize(("item", "why"), [
    ({"text": "［名前］さんのことで", "intent": "share_worry"}, "placeholders"),
    ({"text": "[金沢](municipality)に住んでる", "intent": "share_worry"}, "brackets"),
    ({"text": "相談したい", "intent": "no_such_intent"}, "intent of the bot"),
    ({"text": "", "intent": "share_worry"}, "needs a text"),
    ({"text": "はい！", "intent": "deny"}, "contradicts"),
    ({"text": "よるってあいてる？", "intent": "ask_hours"}, "dev-set or persona"),
])
def test_items_that_would_mislead_or_leak_are_refused_with_the_reason(item: dict[str, str], why: str) -> None:
    accepted, problems, _ = _check(item)
    assert accepted == [] and len(problems) == 1 and why in problems[0]


def test_good_items_are_accepted_once_and_same_intent_twins_skipped() -> None:
    accepted, problems, notes = _check(
        {"text": "土曜の夜って\nやってないの", "intent": "ask_hours"},
        {"text": "土曜の夜ってやってないの？", "intent": "ask_hours"},  # a twin of the first
        {"text": "何時まで", "intent": "ask_hours"},  # a twin of training data, same intent
    )
    assert accepted == ["土曜の夜って やってないの"] and problems == []
    assert len(notes) == 2 and all("skipped" in n for n in notes)


def test_what_it_writes_reads_back_as_the_same_examples(tmp_path: Path) -> None:
    examples = [
        Example("share_worry", "お母さんの付き添いで学校を休みがち", "x"),
        Example("ask_hours", "夜はやってる？", "x"),
    ]
    (tmp_path / "reviewed.yml").write_text(importer.render(examples), encoding="utf-8")
    back = twins.load_examples(tmp_path)
    assert sorted((e.intent, e.text) for e in back) == sorted((e.intent, e.text) for e in examples)
