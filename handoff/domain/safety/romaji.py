"""Japanese typed in romaji, read as kana so that the whole lexicon applies to it.

Why: a phone without a Japanese keyboard, a teen abroad, or a writer in a hurry types 「obaachan taoreta」 or
「shinitai」. Listing a romaji copy of every term (as the first rounds did) misses most of them; reading the words as
kana once makes every kana term and context cue meet them. Only a sentence whose words all read as romaji is
converted, so English ("is not breathing") and Tagalog keep their own terms.
"""

from __future__ import annotations

import re

_VOWELS = {"a": "あ", "i": "い", "u": "う", "e": "え", "o": "お"}
_ROWS = {
    "k": "かきくけこ", "g": "がぎぐげご", "s": "さしすせそ", "z": "ざじずぜぞ", "t": "たちつてと", "d": "だぢづでど",
    "n": "なにぬねの", "h": "はひふへほ", "b": "ばびぶべぼ", "p": "ぱぴぷぺぽ", "m": "まみむめも", "r": "らりるれろ",
}
_YOON = {
    "ky": "き", "gy": "ぎ", "sh": "し", "j": "じ", "ch": "ち", "ny": "に", "hy": "ひ", "by": "び", "py": "ぴ",
    "my": "み", "ry": "り", "zy": "じ", "jy": "じ", "cy": "ち", "dy": "ぢ",
}
_SYLLABLES: dict[str, str] = {}
for _c, _row in _ROWS.items():
    _SYLLABLES.update({_c + v: k for v, k in zip("aiueo", _row, strict=True)})
for _c, _kana in _YOON.items():
    _SYLLABLES.update({_c + v: _kana + small for v, small in zip("auo", "ゃゅょ", strict=True)})
_SYLLABLES.update(
    {
        **_VOWELS,
        "shi": "し", "chi": "ち", "tsu": "つ", "fu": "ふ", "ji": "じ", "she": "しぇ", "che": "ちぇ", "je": "じぇ",
        "ya": "や", "yu": "ゆ", "yo": "よ", "wa": "わ", "wo": "を",
        "fa": "ふぁ", "fi": "ふぃ", "fe": "ふぇ", "fo": "ふぉ",
        "ti": "ち", "tu": "つ", "si": "し", "zi": "じ", "hu": "ふ", "di": "ぢ", "du": "づ", "nn": "ん", "n'": "ん",
    }
)
_LONGEST = max(map(len, _SYLLABLES))
_WORD = re.compile("[a-z']+")
# Short words that read as romaji and are English too; a sentence made of them alone stays English.
_ENGLISH = frozenset({"i", "a", "no", "to", "so", "go", "me", "be", "we", "he", "do", "mama", "papa", "oh", "hi"})


def to_kana(word: str) -> str | None:
    """One romaji word as hiragana, or None when it does not read as romaji (an English word)."""
    out: list[str] = []
    i = 0
    while i < len(word):
        ch = word[i]
        nxt = word[i + 1] if i + 1 < len(word) else ""
        if ch == nxt and ch not in "aiueon'":  # a doubled consonant: っ (motte, kitte)
            out.append("っ")
            i += 1
            continue
        if ch == "t" and word.startswith("tch", i):  # matcha
            out.append("っ")
            i += 1
            continue
        for size in range(min(_LONGEST, len(word) - i), 0, -1):
            kana = _SYLLABLES.get(word[i : i + size])
            if kana is not None:
                out.append(kana)
                i += size
                break
        else:
            if ch == "n" and (not nxt or nxt not in "aiueoy"):  # ん before a consonant or at the end
                out.append("ん")
                i += 1
                continue
            return None
    return "".join(out)


def romaji_sentence(latin: str) -> str | None:
    """A sentence's latin words as kana when every word reads as romaji and there are at least two; None otherwise.
    A single word is left alone: too many English words read as romaji (「before」), and the romaji terms of the
    lexicon already catch 「shinitai」 alone."""
    words = _WORD.findall(latin)
    if not words:
        return None
    kana = [to_kana(w) for w in words]
    if any(k is None for k in kana):
        return None
    if len(words) < 2:
        return None
    if all(w in _ENGLISH for w in words):
        return None
    return "".join(k for k in kana if k)
