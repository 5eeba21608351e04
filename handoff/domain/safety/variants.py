"""Spelling variants of lexicon entries: the same word written in kana, in kanji, or with its particle dropped.

Teenagers on LINE write 「おわりにしたい」「たおれた」「いしきもうろう」 as often as 終わりにしたい, 倒れた,
意識がもうろう. Listing every spelling by hand does not scale and was the largest kind of miss on text written in
that voice, so each entry is expanded once, at load time, from a small reading table in data/safety.yml
(`spellings:`, kanji word → kana): every combination of kanji kept or replaced by its reading, and a particle
(が を は に) right after a kanji dropped (「血が止まらない」 → 「血止まらない」). Nothing changes at run time: the
expanded terms go into the same prefix tree, so the cost per message stays the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from handoff.domain.safety.lexicon import SafetyConfigError, strings

# A particle right after a kanji is a particle, not part of a word (「さがし」「ながら」 stay whole).
_DROPPABLE = re.compile("(?<=[\u4e00-\u9fff])[がをはに](?=.)")
# Variants per entry are capped: a long term with many kanji words would otherwise grow exponentially.
MAX_VARIANTS = 32
# A variant shorter than this many characters is too likely to occur inside everyday words.
MIN_LENGTH = 3


class Spellings:
    """The reading table, longest kanji word first so that 睡眠薬 is read before 薬."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self._table = dict(sorted(table.items(), key=lambda kv: -len(kv[0])))
        self._rx = re.compile("|".join(map(re.escape, self._table))) if self._table else None

    @classmethod
    def from_data(cls, raw: object) -> Spellings:
        if raw is None:
            return cls({})
        if not isinstance(raw, dict):
            raise SafetyConfigError("spellings: expected a mapping of kanji word → kana reading(s)")
        table: dict[str, list[str]] = {}
        for word, readings in raw.items():
            found = strings(readings if isinstance(readings, list) else [readings], f"spellings.{word}")
            if not found:
                raise SafetyConfigError(f"spellings.{word}: needs at least one reading")
            table[str(word)] = found
        return cls(table)

    def expand(self, terms: Iterable[str], drop_particles: bool = True) -> list[str]:
        """The terms and their variants, each once, in a stable order (first listed first)."""
        out: dict[str, None] = {}
        for term in terms:
            out[term] = None
            for variant in self.variants(term, drop_particles):
                out.setdefault(variant, None)
        return list(out)

    def variants(self, term: str, drop_particles: bool = True) -> list[str]:
        bases = [term]
        if drop_particles and (dropped := _DROPPABLE.sub("", term)) != term:
            bases.append(dropped)  # dropped on the kanji spelling, so 「いしきもうろう」 is reached too
        found = dict.fromkeys(v for base in bases for v in self._readings(base))
        return [v for v in found if v != term and len(v) >= MIN_LENGTH][:MAX_VARIANTS]

    def _readings(self, term: str) -> list[str]:
        """Every combination of each kanji word in `term` kept or replaced by one of its readings."""
        if self._rx is None:
            return [term]
        results = [""]
        pos = 0
        for match in self._rx.finditer(term):
            choices = [match.group(), *self._table[match.group()]]
            results = [r + term[pos : match.start()] + c for r in results for c in choices][:MAX_VARIANTS]
            pos = match.end()
        return [r + term[pos:] for r in results]

    def expand_pattern(self, pattern: str) -> str:
        """A data-file regex with each kanji word outside a character class also accepted in kana
        (「(漂白剤|洗剤)を飲」 also meets 「せんざいのんじゃった」). A pattern with a look-around is left as written: a
        look-behind needs a fixed width, and a look-ahead guards a spelling the kana would escape."""
        if self._rx is None or any(look in pattern for look in ("(?<", "(?=", "(?!")):
            return pattern  # 「今(?!日)」 would become 「(?:今|いま)(?!日)」 and meet ばいばいまたね
        out: list[str] = []
        for part in _CLASS.split(pattern):
            if part.startswith("[") and part.endswith("]"):
                out.append(part)
                continue
            pos = 0
            for group in _PLAIN_GROUP.finditer(part):  # 「(母|家族)」 → 「(母|家族|いえ族)」, flat
                out.append(self._rx.sub(self._alternatives, part[pos : group.start()]))
                spelled = dict.fromkeys(v for alt in group.group(1).split("|") for v in self._readings(alt))
                out.append("(" + "|".join(spelled) + ")")
                pos = group.end()
            out.append(self._rx.sub(self._alternatives, part[pos:]))
        return "".join(out)

    def _alternatives(self, match: re.Match[str]) -> str:
        """「(薬|錠剤)」 becomes 「(薬|くすり|錠剤)」, not 「((?:薬|くすり)|錠剤)」: a nested group at the start of a
        pattern stops the regex engine from skipping ahead by first character, five times slower on a long story."""
        spellings = "|".join([match.group(), *self._table[match.group()]])
        text, start, end = match.string, match.start(), match.end()
        opens = text[start - 1 : start] in ("(", "|") and text[start - 2 : start - 1] != "\\"
        if opens and text[end : end + 1] in ("|", ")"):
            return spellings
        return f"(?:{spellings})"


_CLASS = re.compile(r"(\[(?:\\.|[^\]])*\])")
# A capturing group of plain alternatives, nothing but text and |: its kana spellings can be listed beside it.
_PLAIN_GROUP = re.compile(r"\(([^()\[\]\\.*+?{}^$]*)\)")
