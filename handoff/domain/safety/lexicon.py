"""The compiled lexicon: every place in a folded sentence where a signal's term or pattern occurs.

Speed: all plain terms form one prefix-tree regex whose first characters the regex engine can skip to, so a
sentence costs a few microseconds. Latin terms (od, kms) need word boundaries and are searched separately; the
few regex patterns run one by one. Exclusions (「死ぬほど」「心中お察し」) are masked out before anything is looked
for, and a masked span can never be part of a match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from handoff.domain.safety.normalise import FOLD, fold_pattern_bars, latin_words, normalise

_LATIN_TERM = re.compile(r"[a-z0-9 ]+")
# Regex patterns from the data file get the same kana folding, minus anything that would break the regex.
_PATTERN_FOLD = FOLD | {ord("〜"): None}
_MASK = "|"  # never produced by normalise()
_LONG = 300  # characters from which `_leads_in` filters by first character


class SafetyConfigError(ValueError):
    """safety.yml is malformed; the message names the entry so staff can fix it."""


@dataclass(frozen=True)
class Hit:
    """One occurrence of a signal in a folded sentence."""

    signal: str
    start: int
    end: int
    text: str


class Lexicon:
    """Terms and patterns per signal name, compiled once."""

    def __init__(
        self,
        terms: dict[str, list[str]],
        patterns: dict[str, list[str]] | None = None,
        exclusions: Iterable[str] = (),
        exclusion_patterns: Iterable[str] = (),
    ) -> None:
        patterns = patterns or {}
        self._plain: dict[str, str] = {}  # folded term -> signal (first listed wins)
        self._latin: dict[str, str] = {}
        for signal in list(terms) + [s for s in patterns if s not in terms]:
            plain, latin = fold_terms(terms.get(signal, []), signal)
            for term in sorted(plain):
                self._plain.setdefault(term, signal)
            for term in sorted(latin):
                self._latin.setdefault(term, signal)
        self._patterns = []
        for signal, ps in patterns.items():
            spelled: set[str] = set()
            for p in ps:
                rx = compile_pattern(p, f"{signal} pattern")
                strings_of = finite_language(rx.pattern)
                if strings_of is None:
                    self._patterns.append((signal, rx))
                else:
                    spelled.update(strings_of)
            if spelled:  # a signal's patterns of plain alternatives: one prefix tree, not one scan each
                self._patterns.append((signal, re.compile(trie_regex(spelled))))
        # A pattern opening with a group of plain words can only match where one of them stands.
        self._pattern_leads = [lead_words(rx.pattern) for _, rx in self._patterns]
        self._all_leads = frozenset(w for lead in self._pattern_leads if lead for w in lead)
        if not (self._plain or self._latin or self._patterns):
            raise SafetyConfigError("the lexicon has no terms")
        self._plain_rx = re.compile(trie_regex(self._plain)) if self._plain else None
        self._latin_rx = re.compile(rf"\b(?:{trie_regex(self._latin)})\b") if self._latin else None
        plain_masks, latin_masks = fold_terms(list(exclusions), "exclusions")
        masks = plain_masks | latin_masks
        self._masks = [re.compile(trie_regex(masks))] if masks else []
        finite: set[str] = set()
        for p in exclusion_patterns:
            rx = compile_pattern(p, "exclusion pattern")
            if (spelled := finite_language(rx.pattern)) is None:
                self._masks.append(rx)
            else:
                finite.update(spelled)
        if finite:
            self._masks.append(re.compile(trie_regex(finite)))

    def mask(self, folded: str) -> str:
        """The sentence with harmless phrases replaced by a character no term contains (same length)."""
        for mask in self._masks:
            folded = mask.sub(lambda m: _MASK * len(m.group()), folded)
        return folded

    def hits(self, folded: str, latin: str = "") -> Iterator[Hit]:
        """Every match in an already masked, folded sentence, and among its latin words (whole words only)."""
        if self._plain_rx is not None:
            for match in self._plain_rx.finditer(folded):
                yield Hit(self._plain[match.group()], match.start(), match.end(), match.group())
        if self._latin_rx is not None and latin:
            for match in self._latin_rx.finditer(latin):
                # Context is read in the folded sentence: place the hit where its letters are there.
                term = match.group().replace(" ", "")
                start = folded.find(term)
                if start < 0:
                    continue  # its letters were masked by an exclusion (「OD、オーバードライブの…」): not a hit
                yield Hit(self._latin[match.group()], start, start + len(term), match.group())
        leads = self._leads_in(folded)
        for (signal, pattern), lead in zip(self._patterns, self._pattern_leads, strict=True):
            if lead is not None and lead.isdisjoint(leads):
                continue  # its first words are nowhere in the text: it cannot match
            for match in pattern.finditer(folded):
                yield Hit(signal, match.start(), match.end(), match.group())

    def _leads_in(self, folded: str) -> frozenset[str]:
        """Which patterns' first words occur in the text: on a long story most of the regexes need not run. On a
        long text a word whose first character is nowhere in it is skipped before the substring search (about half
        of them on a 5 000-character story, 2–3 times faster); on a short one the plain search is cheaper."""
        if len(folded) < _LONG:
            return frozenset(word for word in self._all_leads if word in folded)
        chars = set(folded)
        return frozenset(word for word in self._all_leads if word[0] in chars and word in folded)


def fold_terms(raw_terms: list[str], where: str) -> tuple[set[str], set[str]]:
    """Normalise terms like messages; latin-only ones ("OD", "want to die") are kept as words, matched whole."""
    plain: set[str] = set()
    latin: set[str] = set()
    for term in raw_terms:
        folded = normalise(term)
        if not folded:
            raise SafetyConfigError(f"{where}: {term!r} is empty after normalisation")
        words = latin_words(term)
        if _LATIN_TERM.fullmatch(words) and words.replace(" ", "") == folded:
            latin.add(words)
        else:
            plain.add(folded)
    return plain, latin


_SPECIAL = frozenset(".*+?{}[]^$\\")
MAX_LANGUAGE = 512


def finite_language(pattern: str) -> list[str] | None:
    """Every string a regex of only literals, groups and | can match (「(目|め)(が|)さめ」 → 4 strings), or None
    when it has anything else (a class, a repeat, an anchor, a look-around) or more than MAX_LANGUAGE strings.
    Such patterns are written to be read by staff; matching them as terms costs one scan for all of them."""
    pos = 0

    def alternatives() -> list[str] | None:
        nonlocal pos
        found = sequence()
        while found is not None and pos < len(pattern) and pattern[pos] == "|":
            pos += 1
            more = sequence()
            found = None if more is None else found + more
        return found if found is None or len(found) <= MAX_LANGUAGE else None

    def sequence() -> list[str] | None:
        nonlocal pos
        found = [""]
        while pos < len(pattern) and pattern[pos] not in "|)":
            ch = pattern[pos]
            if ch == "(":
                pos += 3 if pattern.startswith("(?:", pos) else 1
                if pattern.startswith("?", pos):
                    return None  # a look-around or a named group
                inner = alternatives()
                if inner is None or pos >= len(pattern) or pattern[pos] != ")":
                    return None
                pos += 1
                found = [a + b for a in found for b in inner]
            elif ch in _SPECIAL:
                return None
            else:
                pos += 1
                found = [a + ch for a in found]
            if len(found) > MAX_LANGUAGE:
                return None
        return found

    result = alternatives()
    return result if result is not None and pos == len(pattern) and all(result) else None


_LEAD_GROUP = re.compile(r"\((?:\?:)?([^()\[\]\\.*+?{}^$|]+(?:\|[^()\[\]\\.*+?{}^$|]+)*)\)")


def lead_words(pattern: str) -> frozenset[str] | None:
    """The words a regex must start with, when it opens with a group of plain words (「(薬|くすり)…」), else None:
    also when that group may be skipped (a quantifier after it) or the regex has another branch at its top."""
    match = _LEAD_GROUP.match(pattern)
    if match is None or pattern[match.end() : match.end() + 1] in ("?", "*", "{") or _top_level_bar(pattern):
        return None
    return frozenset(match.group(1).split("|"))


def _top_level_bar(pattern: str) -> bool:
    depth, escaped, in_class = 0, False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
    return False


def trie_regex(words: Iterable[str]) -> str:
    """One regex for many literals, shared prefixes factored out; far faster than a flat alternation."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 and not ends else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if ends else body

    return build(trie)


def compile_pattern(pattern: str, where: str) -> re.Pattern[str]:
    """A data-file regex in the folded alphabet (katakana written in it match hiragana in messages)."""
    folded = fold_pattern_bars(unicodedata.normalize("NFKC", pattern)).translate(_PATTERN_FOLD)
    try:
        return re.compile(folded, re.MULTILINE)  # `$` ends each sentence of a joined message
    except re.error as exc:
        raise SafetyConfigError(f"{where} {pattern!r} is not a valid regular expression: {exc}") from None


def strings(value: object, where: str) -> list[str]:
    """A list of phrases from the data file, or a clear error naming the entry."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise SafetyConfigError(f"{where}: expected a list of phrases")
    return [str(v) for v in value]
