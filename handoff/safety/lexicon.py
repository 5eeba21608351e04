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

from handoff.safety.normalise import FOLD, fold_pattern_bars, latin_words, normalise

_LATIN_TERM = re.compile(r"[a-z0-9 ]+")
# Regex patterns from the data file get the same kana folding, minus anything that would break the regex.
_PATTERN_FOLD = FOLD | {ord("〜"): None}
_MASK = "|"  # never produced by normalise()


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
        self._patterns = [
            (signal, compile_pattern(p, f"{signal} pattern")) for signal, ps in patterns.items() for p in ps
        ]
        if not (self._plain or self._latin or self._patterns):
            raise SafetyConfigError("the lexicon has no terms")
        self._plain_rx = re.compile(trie_regex(self._plain)) if self._plain else None
        self._latin_rx = re.compile(rf"\b(?:{trie_regex(self._latin)})\b") if self._latin else None
        plain_masks, latin_masks = fold_terms(list(exclusions), "exclusions")
        masks = plain_masks | latin_masks
        self._masks = [re.compile(trie_regex(masks))] if masks else []
        self._masks += [compile_pattern(p, "exclusion pattern") for p in exclusion_patterns]

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
                start = max(folded.find(term), 0)
                yield Hit(self._latin[match.group()], start, start + len(term), match.group())
        for signal, pattern in self._patterns:
            for match in pattern.finditer(folded):
                yield Hit(signal, match.start(), match.end(), match.group())


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
