"""Typed answers to the profile questions (issue 14, item 3): 「17」「中2」「ののいち」「自分」 instead of a tap.

Why a lexicon and not the NLU: an answer is only an answer to the question just asked (「親」 answers "who is
using LINE" but not "how old are you"), and it must be the whole message, so 「親と話したい」 or 「自分が嫌」 is
never taken for an answer. The words live in actions/data/typed_answers.yml.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

WORDS_FILE = Path(__file__).with_name("data") / "typed_answers.yml"
SKIP = "skip"
# Letters and digits only: marks, emoji and spaces carry tone, not the answer.
_NOISE = re.compile(r"[\W_]+", re.UNICODE)
_KANJI_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6"}
_AGE = re.compile(r"(\d{1,2})(?:歳|才|さい)?")
# 「十七」「二十三歳」「はたち」: ages written in kanji numerals, as some type them on a phone.
_KANJI_AGE = re.compile(r"(?:([二三四五六七八九])?(十))?([一二三四五六七八九])?(?:歳|才|さい)?")
_KANJI_VALUE = {k: i for i, k in enumerate("一二三四五六七八九", start=1)}
_TWENTY = {"はたち", "二十歳", "20歳"}
_YEAR = r"([1-6一二三四五六])?(?:年生|年|回生)?(?:生)?"
_KANA_YEAR = r"(?:[1-6]|いち|に|さん|よん|ご|ろく)(?:ねんせい|ねん|年生|年)?"
# Longer than this, a message is somebody talking, not an answer.
MAX_ANSWER_CHARS = 16


@lru_cache(maxsize=1)
def words() -> dict[str, Any]:
    """The lexicon, read once."""
    with open(WORDS_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def fold(text: str) -> str:
    """NFKC, lower case, katakana → hiragana, marks and spaces removed."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in text)
    return _NOISE.sub("", text)


def _strip(text: str, affixes: Iterable[str], at_start: bool) -> str:
    folded = sorted({fold(a) for a in affixes}, key=len, reverse=True)
    changed = True
    while changed:
        changed = False
        for affix in folded:
            if not affix or len(text) <= len(affix):
                continue
            if at_start and text.startswith(affix):
                text, changed = text[len(affix):], True
            elif not at_start and text.endswith(affix):
                text, changed = text[: -len(affix)], True
    return text


def core(text: str) -> str:
    """The answer inside a short message: 「えっと、自分です！」 → 自分 (folded); '' for buttons and long messages."""
    if not text or text.startswith("/"):
        return ""
    folded = fold(text)
    if len(folded) > MAX_ANSWER_CHARS:
        return ""
    lexicon = words()
    return _strip(_strip(folded, lexicon["openers"], True), lexicon["endings"], False)


def _lookup(answer: str, table: dict[str, list[str]]) -> str | None:
    for value, spellings in table.items():
        if answer in {fold(s) for s in spellings}:
            return str(value)
    return None


def is_skip(answer: str) -> bool:
    return answer in {fold(s) for s in words()["skip"]}


def parse_role(text: str) -> str | None:
    """自分/本人/私 → self; 親/保護者/母親 → guardian; スキップ → skip."""
    answer = core(text)
    if not answer:
        return None
    return _lookup(answer, words()["role"]) or (SKIP if is_skip(answer) else None)


def parse_gender(text: str) -> str | None:
    """男/男子/女性/その他/答えたくない → the contract's gender values."""
    answer = core(text)
    if not answer:
        return None
    return _lookup(answer, words()["gender"]) or (SKIP if is_skip(answer) else None)


def school_band(answer: str) -> str | None:
    """「中2」「高校1年」「大学生」 → an age band (a one-letter word like 中 needs its year: 中2, not 中); kana school
    words only with their year, in digits or kana (「ちゅう3」「こうに」「しょう6ねん」)."""
    answer = "".join(_KANJI_DIGITS.get(ch, ch) for ch in answer)
    for band, spellings in words()["school"].items():
        for spelling in sorted((fold(s) for s in spellings), key=len, reverse=True):
            match = re.fullmatch(re.escape(spelling) + _YEAR, answer)
            if match and (len(spelling) > 1 or match.group(1)):
                return str(band)
    for band, spellings in (words().get("school_with_year") or {}).items():
        for spelling in sorted((fold(s) for s in spellings), key=len, reverse=True):
            if re.fullmatch(re.escape(spelling) + _KANA_YEAR, answer):
                return str(band)
    return None


def kanji_age(answer: str) -> int | None:
    """「十七」→ 17, 「二十三歳」→ 23, 「九」→ 9, 「はたち」→ 20; None for anything else (「十」 alone is 10)."""
    if answer in _TWENTY:
        return 20
    match = _KANJI_AGE.fullmatch(answer)
    if not match or not (match.group(2) or match.group(3)):
        return None
    tens = (_KANJI_VALUE[match.group(1)] if match.group(1) else 1) if match.group(2) else 0
    return tens * 10 + (_KANJI_VALUE[match.group(3)] if match.group(3) else 0)


def parse_age(text: str, to_band: Any) -> str | None:
    """「17」「１７歳」「17さい」 → band by `to_band(age)`; school years → their band; スキップ → skip."""
    answer = core(text)
    if not answer:
        return None
    match = _AGE.fullmatch(answer)
    if match:
        return str(to_band(int(match.group(1))))
    age = kanji_age(answer)
    if age is not None:
        return str(to_band(age))
    return school_band(answer) or (SKIP if is_skip(answer) else None)


def _spellings() -> list[tuple[str, str]]:
    """(folded spelling, municipality), longest first, the official names included."""
    pairs = [(fold(m), m) for m in words()["municipalities"]]
    for municipality, spellings in words()["municipalities"].items():
        pairs += [(fold(s), municipality) for s in spellings]
    return sorted(set(pairs), key=lambda p: len(p[0]), reverse=True)


def parse_municipality(text: str) -> str | None:
    """「野々市」「ののいち」「金沢に住んでる」「富山です」 → 野々市市, 金沢市, 県外; スキップ → skip.

    A spelling of three letters or more may sit inside the message; shorter ones (すず, かが, のみ, 志賀) must be
    the whole answer.
    """
    answer = core(text)
    if not answer:
        return None
    for spelling, municipality in _spellings():
        if answer == spelling or (len(spelling) >= 3 and spelling in answer):
            return municipality
    for spelling, municipality in _spellings():
        if len(spelling) == 2 and not spelling.isascii() and _is_kanji(spelling) and spelling in answer:
            return municipality
    return SKIP if is_skip(answer) else None


def _is_kanji(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" or ch == "々" for ch in text)
