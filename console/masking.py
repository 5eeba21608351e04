"""Mask what could identify a young person in their own words, before a trainer reads them (R20, R24).

Nobody can find every name in Japanese text, so the trainer page shows as little as it can (console/training.py:
consented contacts only, the bot's own turns, the user's turns only through this mask) and this mask errs on the
side of hiding too much. In order: e-mail addresses, URLs and ids (@handle, yui_0312); schools (〜高校, 〜中学校,
泉丘高 …); places (the municipalities of data/services.yml, 〜市/町/村/区/丁目/番地/駅); names (the word before
さん/くん/ちゃん/先生 …, common surnames and the kanji after them); then every number in any script (arabic,
full-width, kanji numerals, circled and roman), so phone numbers, postcodes, addresses and ages go even when
written 〇九〇の一二三四. The vocabulary lives in console/data/masking.yml.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

VOCABULARY = Path(__file__).resolve().parent / "data" / "masking.yml"
KANJI = r"\u3400-\u4dbf\u4e00-\u9fff々〆ヶ"
WORD = rf"[{KANJI}\u30a1-\u30fa\u30fc]"  # kanji and katakana (not ・, not hiragana)
HIRAGANA = r"[\u3041-\u3096]"
PARTICLES = "をはがで"  # "ごはんをちゃんと": a word ending in a particle is not a name
NUMERAL = r"(?:\d|[〇零一二三四五六七八九十百千万億壱弐参拾①-⑳⑴-⒇Ⅰ-Ⅻⅰ-ⅻ])"
NUMBER_GLUE = r"[\s\-‐‑–—−－ー―・.,，．:：/／()（）]"
# Placeholders from Unicode's private use area while masking, so a later rule never matches an earlier mask.
KINDS = ("name", "place", "school", "number", "mail", "url", "id")
MARK = {kind: chr(0xE000 + i) for i, kind in enumerate(KINDS)}
PRIVATE_USE = re.compile(r"[\ue000-\uf8ff]")


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


@dataclass(frozen=True)
class Masker:
    rules: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...]
    keep: tuple[str, ...]  # words no rule may touch (console/data/masking.yml keep_words)
    labels: dict[str, str]

    def __call__(self, text: str | None) -> str:
        out = PRIVATE_USE.sub("", text or "")
        for i, word in enumerate(self.keep):
            out = out.replace(word, chr(0xE100 + i))
        for pattern, replace in self.rules:
            out = pattern.sub(replace, out)
        for i, word in enumerate(self.keep):
            out = out.replace(chr(0xE100 + i), word)
        for kind, mark in MARK.items():
            out = re.sub(f"{mark}+", self.labels[kind], out)  # 金沢市泉野町 → one ［地名］
        return out


def _mark(kind: str) -> Callable[[re.Match[str]], str]:
    return lambda match: MARK[kind]


def _unless_one_of(words: list[str], kind: str) -> Callable[[re.Match[str]], str]:
    return lambda match: match.group(0) if match.group(0) in words else MARK[kind]


def _unless_ends_with(words: list[str], kind: str, group: str, *, whole: bool = False
                      ) -> Callable[[re.Match[str]], str]:
    """Mask group `group` (or, `whole`, the whole match) unless that group ends with one of `words`."""
    def replace(match: re.Match[str]) -> str:
        word = match.group(group)
        if any(word.endswith(w) for w in words):
            return match.group(0)
        return MARK[kind] if whole else match.group(0).replace(word, MARK[kind])

    return replace


def build(vocabulary: dict[str, Any], municipalities: Iterable[str]) -> Masker:
    """Compile the rules once; `municipalities` are data/services.yml's (content.municipalities())."""
    places = [m for m in municipalities if m != "県外"]
    places += [m[:-1] for m in places if len(m) > 2 and m.endswith(("市", "町"))]  # 金沢, 野々市, 津幡 …
    honorifics = _alternatives(vocabulary["honorifics"])
    rules: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
        (re.compile(r"[\w.+\-]+[@＠][\w\-]+(?:[.．][\w\-]+)+"), _mark("mail")),
        (re.compile(r"(?:https?://|www\.)[^\s、。]+", re.IGNORECASE), _mark("url")),
        # LINE and other ids: @handle, or a Latin word with a digit or an underscore in it (yui_0312).
        (re.compile(r"[@＠][\w.\-]+|\b(?=[A-Za-z0-9_.\-]*[0-9_])(?=[A-Za-z0-9_.\-]*[A-Za-z])[A-Za-z0-9_.\-]{3,}",
                    re.ASCII), _mark("id")),
        (re.compile(rf"{WORD}{{1,10}}(?:{_alternatives(vocabulary['school_suffixes'])})"),
         _unless_one_of(vocabulary["school_suffixes"], "school")),  # 泉丘高校 is masked, 小学校 alone is not
        (re.compile(rf"(?P<w>{WORD}{{2,8}})[小中高](?![{KANJI}])"),
         _unless_ends_with(vocabulary["not_schools"], "school", "w", whole=True)),
        (re.compile(_alternatives(places)), _mark("place")),
        (re.compile(rf"{WORD}{{1,8}}(?:{_alternatives(vocabulary['place_suffixes'])})"), _mark("place")),
        (re.compile(rf"(?P<w>{WORD}{{1,6}}|{HIRAGANA}{{1,4}}(?![{PARTICLES}]){HIRAGANA})(?={honorifics})"),
         _unless_ends_with(vocabulary["not_names"], "name", "w")),
        (re.compile(rf"(?:{_alternatives(vocabulary['surnames'])})(?!県)[{KANJI}]{{0,2}}"), _mark("name")),
        (re.compile(rf"{NUMERAL}(?:{NUMBER_GLUE}*{NUMERAL})*"), _mark("number")),
    ]
    return Masker(tuple(rules), tuple(vocabulary["keep_words"]), dict(vocabulary["labels"]))


@cache
def masker(municipalities: tuple[str, ...]) -> Masker:
    return build(yaml.safe_load(VOCABULARY.read_text(encoding="utf-8")), municipalities)
