"""Fails when two NLU examples are "twins": the same message once punctuation, spacing and endings are ignored.

Why: cross-validation is only honest if a test fold holds messages the model has not effectively seen. A copy of
「しにたい」 as 「しにたい…」, 「しにたいです」 or 「ｼﾆﾀｲ」 puts the same message in training and test folds, and the
scores (macro-F1, crisis recall) then measure recall of the training set instead of generalisation (issue 3).
Twins also add nothing at run time: the featurizers already see through most of these differences.

Normalisation (deliberately narrow — only differences that do not change what a person is saying):
1. Unicode NFKC (full/half width: ｼﾆﾀｲ → シニタイ, ！ → !), lower case, katakana folded to hiragana.
2. Every punctuation mark, symbol (emoji included), separator and control character is dropped, and so is the
   long-vowel mark ー (「つらーい」 is 「つらい」) — 。、！？!?…・〜~ and spaces carry tone, not content.
3. Trailing laughter (w, 笑, 草) and sentence-final particles and politeness endings are dropped, repeatedly:
   です, ます, よ, ね, わ, ぞ, ぜ, の, かな, けど, よね, よな, なあ … (see ENDINGS). They change tone or politeness,
   not intent: 「死にたいです」 is 「死にたい」.
4. Openers that only soften or hedge are dropped from the start the same way: ねえ, あの, すみません, ちょっと,
   やっぱり, なんか, 最近, 聞きたいんですが … (see OPENERS) — 「すみません、相談したい」 is 「相談したい」.
A stem never shrinks below two characters (「あのー」 stays あの), and a message of symbols only (？, 👍) is
compared as written.
Not normalised, on purpose: kanji versus kana (死にたい / しにたい — different character n-grams a real user
produces, worth their own example), 「な」 alone (死ぬな "don't die" is not 死ぬ), 「か」 (a question), other
words at the start (もう死にたい is a different message), and anything inside the sentence but the marks above.

Two examples of the same intent with one form are twins (keep the most natural one); two of different intents
are a contradiction (one label is wrong) and reported first.

Usage: python tests/bot/check_nlu_twins.py [NLU_DIR]   (default bot/data/nlu; exit 1 if anything is found)
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import yaml

# Longest first, so 「ですよね」 goes in one step; stripping repeats until nothing matches.
ENDINGS: tuple[str, ...] = tuple(
    sorted(
        "です ます よ ね わ ぞ ぜ の さ かな かなあ けど けどね よね よな なあ なぁ ねえ w 笑 草".split(),
        key=len,
        reverse=True,
    )
)
# Openers that only soften or hedge (「ねえ、」「すみません、」「やっぱり」); stripped the same way from the start.
OPENERS: tuple[str, ...] = tuple(
    sorted(
        (
            "ねえ ねぇ ねー あの えっと えーと すみません すいません ちょっと やっぱり なんか 最近 "
            "聞きたいんですが 質問なんですが"
        ).split(),
        key=len,
        reverse=True,
    )
)
# [金沢市](municipality) or [金沢市]{"entity": "municipality"} → 金沢市
ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
DROPPED_CHARS = {"ー"}
# A stem is never shortened below two characters: 「あの」 is a filler, not 「あ」 + の.
MIN_STEM = 2
KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(ord("ァ"), ord("ヶ") + 1)}


class Example(NamedTuple):
    """One NLU example and where it comes from."""

    intent: str
    text: str
    file: str


def normalise(text: str) -> str:
    """The form two twins share (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text).lower().translate(KATAKANA_TO_HIRAGANA)
    text = "".join(
        ch for ch in folded if ch not in DROPPED_CHARS and unicodedata.category(ch)[0] not in {"P", "S", "Z", "C"}
    )
    if not text:  # only symbols (？, 👍, 😂😂): these are the message, so they are compared as written
        return "".join(folded.split())
    stripped = True
    while stripped:
        stripped = False
        for ending in ENDINGS:
            if text.endswith(ending) and len(text) - len(ending) >= MIN_STEM:
                text = text[: -len(ending)]
                stripped = True
                break
        for opener in OPENERS:
            if text.startswith(opener) and len(text) - len(opener) >= MIN_STEM:
                text = text[len(opener) :]
                stripped = True
                break
    return text


def load_examples(nlu_dir: Path) -> list[Example]:
    """All intent examples of the YAML files under `nlu_dir`, entity annotations reduced to their text."""
    examples: list[Example] = []
    for path in sorted(nlu_dir.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples.append(Example(block["intent"], ENTITY.sub(r"\1", line[2:].strip()), str(path)))
    return examples


def find_twins(examples: list[Example]) -> dict[str, list[Example]]:
    """Normalised form → its examples, only forms held by more than one example."""
    groups: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        groups[normalise(example.text)].append(example)
    return {form: group for form, group in groups.items() if len(group) > 1}


def main(argv: list[str]) -> int:
    """Prints contradictions, then twins; exit status 1 if there is any."""
    nlu_dir = Path(argv[0] if argv else "bot/data/nlu")
    examples = load_examples(nlu_dir)
    twins = find_twins(examples)
    contradictions = {f: g for f, g in twins.items() if len({e.intent for e in g}) > 1}
    for title, groups in (("CONTRADICTION (different intents)", contradictions), ("twins", twins)):
        for form, group in groups.items():
            if title == "twins" and form in contradictions:
                continue
            listed = " | ".join(f"{e.intent}: {e.text!r} ({Path(e.file).name})" for e in group)
            print(f"{title}: [{form}] {listed}")
    same_intent = len(twins) - len(contradictions)
    print(
        f"{len(examples)} examples, {len(twins)} normalised forms held by more than one example "
        f"({len(contradictions)} across intents, {same_intent} within one intent)"
    )
    if twins:
        print(
            "NLU twins found: remove all but the most natural variant; fix the label of contradictions.",
            file=sys.stderr,
        )
        return 1
    print("No NLU twins.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
