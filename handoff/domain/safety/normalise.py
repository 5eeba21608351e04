"""Text folding shared by the lexicon, the context rules and the data file's own entries.

Matching happens on a folded form so that width, script and decoration variants (ｼﾆﾀｲ, シニタイ, し に た い,
死にたい〜〜) meet the same entry. Laughing emoji are turned into 笑 first: laughter is a context cue (hyperbole)
and must survive the folding that removes every other symbol.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from handoff.domain.safety.romaji import romaji_sentence

# Katakana → hiragana, and small kana → full size (「しにたぃ」 is common slang); っ stays, it changes words.
_KANA = {cp: cp - 0x60 for cp in range(0x30A1, 0x30F7)}
_SMALL = dict(zip(map(ord, "ぁぃぅぇぉゃゅょゎ"), map(ord, "あいうえおやゆよわ"), strict=True))
FOLD = {k: _SMALL.get(v, v) for k, v in _KANA.items()} | _SMALL
# Everything that is not a letter or digit, and underscore.
_STRIP = re.compile(r"[\W_]+")
# The long-vowel mark is part of a katakana word (カッター, ストーカー): without it カッター would fold to 「かった」
# and match 「よかったです」. After anything else, or repeated, it is decoration (しにたーい, 死にたいーー) and goes.
_DECORATIVE_BAR = re.compile("(?<![ァ-ヶ])ー+|(?<=ー)ー+")
_KANA_RUN = re.compile("[ァ-ヶぁぃぅぇぉゃゅょゎ]+")
# A question without a question mark: 「聞いてもらえるんですか」「相談できますか」.
_ASKS = re.compile("(か|かな|かね|っけ|でしょう|の)$")
_QUOTE_OPEN = re.compile('[「『“"]')
_QUOTED = re.compile('「[^」]*」|『[^』]*』|“[^”]*”|"[^"]*"')
_SHORT_QUOTE = re.compile("「[^」「\n]{1,40}」|『[^』『\n]{1,40}』")
_HAS_LATIN = re.compile("[A-Za-zＡ-Ｚａ-ｚ]")
JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u9fff]")
_LATIN_WORD = re.compile("[a-z0-9]+")
_LAUGH_EMOJI = re.compile("[\U0001f602\U0001f923\U0001f606\U0001f639\U0001f605\U0001f604\U0001f601]")
# Emoji that stand for a word of the lexicon (「はやく🪦に入りたい」, 「💊ぜんぶ飲んだ」); every other emoji is removed.
_EMOJI_WORDS = str.maketrans(
    {"\U0001faa6": "墓", "\u26b0": "棺", "\U0001f48a": "薬", "\U0001fa78": "血", "\U0001f52a": "包丁"}
)
# Sentence ends; a space after laughter (「テスト死んだ笑 まじ無理」) or two spaces also end one; a single space
# does not: children write with a space between words (「むすこが　じぶんの　あたまを」), and so does English.
_SENTENCE_END = re.compile(r"[。．！？!?\n\r]+|(?<=[笑wｗ草])[ \u3000\t]+|(?<=[^\x00-\x7f])[ \u3000\t]{2,}")


def normalise(text: str) -> str:
    """Fold a message to the form the lexicon is written in.

    NFKC folds width (ｼﾆﾀｲ → シニタイ, ＯＤ → OD); katakana become hiragana; latin is lower-cased; spaces,
    punctuation, emoji and decorative elongation (しにたーい, 〜, ~) are removed, ー inside a katakana word stays
    (カッター → かったー, never 「かった」 as in よかった); laughing emoji become 笑.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    folded = _DECORATIVE_BAR.sub("", _LAUGH_EMOJI.sub("笑", folded)).translate(_EMOJI_WORDS)
    # str.translate with a dict costs a lookup per character; folding only the kana runs is ~10x faster.
    folded = _KANA_RUN.sub(_fold_run, folded)
    return _standard(_STRIP.sub("", folded))


# Dialect and spoken verb endings folded to the standard form the lexicon is written in, on both sides, so one
# term meets 「おらんくなりたい」 (いなくなりたい), 「息しとらん」 (息してない),
# 「生きとる意味ない」, 「消えてえ」 (消えたい), 「起きん」 (起きない).
# The service is in Ishikawa: Kanazawa and Kansai forms (おらん, 〜とる, 〜ん) are everyday writing, not slang.
_VERB = "しっきみけれえべいせちにびぎじ見来"
_NEG_END = "(?=$|[^ぁ-ゖ]|し|わ|よ|け|の|か|がや|やろ)"
# Each rule starts with what it needs (a class or a word, captured and written back), never with a look-behind:
# the regex engine then skips ahead by first character, which keeps folding a long story cheap. Applied in order.
_DIALECT: tuple[tuple[str, str], ...] = (
    ("おらん(?=く|かった)", "いな"),
    ("(目)[えぇ]+", r"\1"),  # 目ぇ覚めん
    ("おらん(?!だ)", "いない"),  # not オランダ
    (f"([{_VERB}])とらん(?!ぷ)", r"\1てない"),  # しとらん, 知っとらん; not トランプ
    ("んどらん", "んでない"),
    (f"([{_VERB}])とっ(?=[たて])", r"\1て"),  # しとった → してた
    (f"([{_VERB}])とる", r"\1てる"),  # しとる, 生きとる
    ("んどる", "んでる"),  # 死んどる, 飲んどる
    ("([えきしにびみりちぎけせてねべめれ])てえ(?=$|な|よ|わ|し)", r"\1たい"),  # 消えてえ, 死にてえ
    ("([知し])らん(?!ぷ|かお|顔)", r"\1らない"),  # 知らん人; not 知らんぷり
    # 殺したる → 殺してやる; not かったるい
    ("([しっ])たる(?=$|[^ぁ-ゖ]|わ|ぞ|で|から|し|な|よ|って|っちゅ)", r"\1てやる"),
    ("(起き|おき|動か|耐え|止まら|とまら|うごか)ん(?=かった|く)", r"\1な"),  # 起きんかった, 動かんくなった
    ("([れせめけえき])ん(?=く[なて]|かった)", r"\1な"),  # しゃべれんくなった, 覚めんかった
    (f"(起き|おき|動か|耐え|くれ|止まら|とまら|うごか)ん{_NEG_END}", r"\1ない"),  # 起きん, 動かん, くれん
)
_DIALECT_RULES = tuple((re.compile(p), r) for p, r in _DIALECT)


# What every rule above needs in the text; most messages have none of it.
_DIALECT_CUE = re.compile("[しっ]たる|おらん|[とど]ら|[とど]る|とっ|てえ|らん|[きかえらまれせめけ]ん|目[えぇ]")


def _standard(folded: str) -> str:
    if not _DIALECT_CUE.search(folded):
        return folded
    for rule, replacement in _DIALECT_RULES:
        folded = rule.sub(replacement, folded)
    return folded


@dataclass(frozen=True)
class Sentence:
    """One folded sentence and whether it was asked as a question (the question mark is folded away)."""

    folded: str
    question: bool
    latin: str = ""  # the sentence's latin words, lower-cased and space-separated, for English and romaji terms
    quotes: tuple[tuple[int, int], ...] = ()  # spans of `folded` written inside 「」『』 or quotation marks

    def quoted(self, start: int) -> bool:
        return any(a <= start < b for a, b in self.quotes)


def sentences(text: str) -> list[Sentence]:
    """The folded sentences of a message, in order, empty ones dropped.

    Context (who, when, laughter, a question) is read inside one sentence, so that the one risky sentence in
    the middle of a long care story is judged on its own words and not on the story around it.
    """
    raw = unicodedata.normalize("NFKC", text)
    found: list[Sentence] = []
    pos = 0
    # An end mark inside a short quotation does not end the sentence: 「この泥棒！」って怒鳴る is one sentence, so
    # the quote keeps its speaker and its speech verb.
    inside = [m.span() for m in _SHORT_QUOTE.finditer(raw)] if _QUOTE_OPEN.search(raw) else []
    ends = [e for e in _SENTENCE_END.finditer(raw) if not any(a < e.start() < b for a, b in inside)]
    for end in [*ends, None]:
        part = raw[pos : end.start()] if end else raw[pos:]
        folded = normalise(part)
        latin = latin_words(part)
        if latin and not JAPANESE.search(part) and (kana := romaji_sentence(latin)):
            # 「obaachan taoreta」 meets 倒れた's kana spelling; the letters stay after it for the romaji and
            # English terms, which are placed (and their context read) where their letters are
            folded = normalise(kana) + folded
        if folded:
            question = bool(end and "?" in end.group()) or bool(_ASKS.search(folded))
            found.append(Sentence(folded, question, latin, quote_spans(part)))
        if end:
            pos = end.end()
    return found


def quote_spans(part: str) -> tuple[tuple[int, int], ...]:
    """Where quoted words lie in the folded sentence. The brackets are folded away with all punctuation, yet they
    are the surest sign that words are someone's speech (「死ね」ってLINE, 「殺されるー」ってベッドから)."""
    if not _QUOTE_OPEN.search(part):
        return ()
    spans = []
    for match in _QUOTED.finditer(part):
        start = len(normalise(part[: match.start()]))
        spans.append((start, start + len(normalise(match.group()))))
    return tuple(spans)


def latin_words(text: str) -> str:
    """Latin words of a text, lower-cased, apostrophes dropped ("don't" → "dont"), one space between words, so
    that English and romaji terms can be matched as whole words ("rape" is not in "grape")."""
    if not _HAS_LATIN.search(text):
        return ""
    lowered = unicodedata.normalize("NFKC", text).lower().replace("'", "").replace("’", "")
    return " ".join(_LATIN_WORD.findall(lowered))


def _fold_run(match: re.Match[str]) -> str:
    return match.group().translate(FOLD)


def fold_pattern_bars(pattern: str) -> str:
    """The same long-vowel rule for a data-file regex, so a pattern written in katakana meets the folded text."""
    return _DECORATIVE_BAR.sub("", pattern)
