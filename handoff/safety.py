"""Deterministic crisis screen (R13) that runs on every user text, whatever the conversation's state.

Why a lexicon and not the NLU model: the screen must be predictable, explainable to staff and the prefecture,
fast enough to run before anything else, and editable by staff without retraining (`data/safety.yml`).
Recall matters more than precision — a counsellor reviews every flag — but everyday exaggerations such as
「死ぬほど眠い」 must not page anyone, so harmless phrases are masked out before terms are looked for.

The text is normalised first so that width, script and decoration variants (ｼﾆﾀｲ, シニタイ, し に た い, 死にたい〜〜)
meet the same lexicon entry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from handoff.settings import DATA_DIR

CATEGORIES = ("suicide", "self_harm", "abuse_violence", "danger_other")

# Katakana → hiragana, and small kana → full size (「しにたぃ」 is common slang); っ stays, it changes words.
_KANA = {cp: cp - 0x60 for cp in range(0x30A1, 0x30F7)}
_SMALL = dict(zip(map(ord, "ぁぃぅぇぉゃゅょゎ"), map(ord, "あいうえおやゆよわ"), strict=True))
_FOLD = {k: _SMALL.get(v, v) for k, v in _KANA.items()} | _SMALL
# Everything that is not a letter or digit, plus the elongation mark (a letter to Unicode) and underscore.
_STRIP = re.compile(r"[\W_ー]+")
# Regex patterns from the data file get the same kana folding, minus anything that would break the regex.
_PATTERN_FOLD = _FOLD | {ord("ー"): None, ord("〜"): None}
_KANA_RUN = re.compile("[ァ-ヶぁぃぅぇぉゃゅょゎ]+")
_LATIN_TERM = re.compile(r"[a-z0-9]+")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
# Never produced by normalise(), so a masked span can never be part of a match.
_MASK = "|"


class SafetyConfigError(ValueError):
    """safety.yml is malformed; the message names the entry so staff can fix it."""


# Risk levels, most urgent first; the queue orders conversations the same way (crisis, emergency_other, concern).
CRISIS = "crisis"  # danger to the writer's life or body now or soon: 110/119 and 24 h lines at once
EMERGENCY_OTHER = "emergency_other"  # someone else (usually the person cared for) in immediate medical danger: 119
CONCERN = "concern"  # possible risk a counsellor must look at; the user gets no crisis message
LEVELS = (CRISIS, EMERGENCY_OTHER, CONCERN)


@dataclass(frozen=True)
class SafetyResult:
    """Outcome of the screen: a level (None = nothing found), a category id for staff and records, and `term`, the
    normalised text that matched, for staff and tests only, never for logs or alerts."""

    level: str | None = None
    category: str | None = None
    term: str | None = None

    @property
    def crisis(self) -> bool:
        return self.level == CRISIS


NO_CRISIS = SafetyResult()


def normalise(text: str) -> str:
    """Fold a message to the form the lexicon is written in.

    NFKC folds width (ｼﾆﾀｲ → シニタイ, ＯＤ → OD); katakana become hiragana; latin is lower-cased; spaces,
    punctuation, emoji and elongation marks (ー 〜 ~) are removed.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    # str.translate with a dict costs a lookup per character; folding only the kana runs is ~10x faster.
    folded = _KANA_RUN.sub(_fold_run, folded)
    return _STRIP.sub("", folded)


def _fold_run(match: re.Match[str]) -> str:
    return match.group().translate(_FOLD)


class SafetyScreen:
    """A compiled lexicon. Build it once (`SafetyScreen.load`) and reuse it for every message.

    Speed: all plain terms form one prefix-tree regex whose first characters the regex engine can skip to, so
    a typical message costs a few microseconds. Latin terms and the few regex patterns are searched separately,
    because mixing them into the tree would disable that skip.
    """

    def __init__(
        self,
        terms: dict[str, list[str]],
        patterns: dict[str, list[str]] | None = None,
        exclusions: Iterable[str] = (),
        exclusion_patterns: Iterable[str] = (),
    ) -> None:
        patterns = patterns or {}
        unknown = (set(terms) | set(patterns)) - set(CATEGORIES)
        if unknown:
            raise SafetyConfigError(f"unknown categories {sorted(unknown)}; use only {', '.join(CATEGORIES)}")
        self._rank = {name: i for i, name in enumerate(CATEGORIES)}
        self._plain: dict[str, str] = {}  # folded term -> category (first, i.e. most serious, wins)
        self._latin: dict[str, str] = {}
        for category in CATEGORIES:
            plain, latin = _fold_terms(terms.get(category, []), category)
            for term in plain:
                self._plain.setdefault(term, category)
            for term in latin:
                self._latin.setdefault(term, category)
        self._patterns = [
            (category, _compile_pattern(p, f"{category} pattern"))
            for category in CATEGORIES
            for p in patterns.get(category, [])
        ]
        if not (self._plain or self._latin or self._patterns):
            raise SafetyConfigError("the lexicon has no terms")
        self._plain_rx = re.compile(_trie_regex(self._plain)) if self._plain else None
        self._latin_rx = re.compile(_trie_regex(self._latin)) if self._latin else None
        plain_masks, latin_masks = _fold_terms(list(exclusions), "exclusions")
        masks = plain_masks | latin_masks
        self._masks = [re.compile(_trie_regex(masks))] if masks else []
        self._masks += [_compile_pattern(p, "exclusion pattern") for p in exclusion_patterns]

    @classmethod
    def load(cls, path: Path | str) -> SafetyScreen:
        """Read and compile safety.yml; errors name the entry that is wrong."""
        path = Path(path)
        try:
            raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise SafetyConfigError(f"{path}: not valid YAML: {exc}") from None
        categories = raw.get("categories") if isinstance(raw, dict) else None
        if not isinstance(categories, dict):
            raise SafetyConfigError(f"{path}: expected `categories:` with {', '.join(CATEGORIES)}")
        terms: dict[str, list[str]] = {}
        patterns: dict[str, list[str]] = {}
        for name, entry in categories.items():
            if not isinstance(entry, dict):
                raise SafetyConfigError(f"{path}: categories.{name} needs `terms:` and/or `patterns:`")
            terms[name] = _strings(entry.get("terms"), f"{path}: categories.{name}.terms")
            patterns[name] = _strings(entry.get("patterns"), f"{path}: categories.{name}.patterns")
        excl = raw.get("exclusions") or {}
        if not isinstance(excl, dict):
            raise SafetyConfigError(f"{path}: exclusions needs `phrases:` and/or `patterns:`")
        try:
            return cls(
                terms,
                patterns,
                _strings(excl.get("phrases"), f"{path}: exclusions.phrases"),
                _strings(excl.get("patterns"), f"{path}: exclusions.patterns"),
            )
        except SafetyConfigError as exc:
            raise SafetyConfigError(f"{path}: {exc}") from None

    def screen(self, text: str) -> SafetyResult:
        """Screen one message; the most serious category found wins (order of CATEGORIES)."""
        folded = normalise(text)
        if not folded:
            return NO_CRISIS
        for mask in self._masks:
            folded = mask.sub(_MASK, folded)
        best: tuple[int, str, str] | None = None  # (rank, category, matched text)
        if self._plain_rx is not None:
            for match in self._plain_rx.finditer(folded):
                category = self._plain[match.group()]
                best = _better(best, self._rank[category], category, match.group())
                if best[0] == 0:
                    return SafetyResult(CRISIS, best[1], best[2])
        if self._latin_rx is not None:
            for match in self._latin_rx.finditer(folded):
                start, end = match.span()
                if (start and folded[start - 1] in _ASCII_LETTERS) or folded[end : end + 1] in _ASCII_LETTERS:
                    continue  # "od" inside "good" or "method"
                category = self._latin[match.group()]
                best = _better(best, self._rank[category], category, match.group())
        for category, pattern in self._patterns:
            if best is not None and best[0] <= self._rank[category]:
                continue
            found = pattern.search(folded)
            if found:
                best = (self._rank[category], category, found.group())
        if best is None:
            return NO_CRISIS
        return SafetyResult(CRISIS, best[1], best[2])


def _better(best: tuple[int, str, str] | None, rank: int, category: str, term: str) -> tuple[int, str, str]:
    return (rank, category, term) if best is None or rank < best[0] else best


@lru_cache(maxsize=4)
def default_screen(path: Path = DATA_DIR / "safety.yml") -> SafetyScreen:
    """The shipped lexicon, compiled once per process (the gateway may also inject its own)."""
    return SafetyScreen.load(path)


def screen(text: str, lexicon: SafetyScreen | None = None) -> SafetyResult:
    """Screen `text` with `lexicon`, or with the shipped data/safety.yml."""
    return (lexicon or default_screen()).screen(text)


def _fold_terms(raw_terms: list[str], where: str) -> tuple[set[str], set[str]]:
    """Normalise terms like messages; split latin-only ones, which need word boundaries ("od" ≠ "good")."""
    plain: set[str] = set()
    latin: set[str] = set()
    for term in raw_terms:
        folded = normalise(term)
        if not folded:
            raise SafetyConfigError(f"{where}: {term!r} is empty after normalisation")
        (latin if _LATIN_TERM.fullmatch(folded) else plain).add(folded)
    return plain, latin


def _trie_regex(words: Iterable[str]) -> str:
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


def _compile_pattern(pattern: str, where: str) -> re.Pattern[str]:
    folded = unicodedata.normalize("NFKC", pattern).translate(_PATTERN_FOLD)
    try:
        return re.compile(folded)
    except re.error as exc:
        raise SafetyConfigError(f"{where} {pattern!r} is not a valid regular expression: {exc}") from None


def _strings(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise SafetyConfigError(f"{where}: expected a list of phrases")
    return [str(v) for v in value]
