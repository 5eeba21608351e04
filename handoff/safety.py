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
_LATIN_TERM = re.compile(r"[a-z0-9]+")
# Never produced by normalise(), so a masked span can never be part of a match.
_MASK = "|"


class SafetyConfigError(ValueError):
    """safety.yml is malformed; the message names the entry so staff can fix it."""


@dataclass(frozen=True)
class SafetyResult:
    """Outcome of the screen. `term` is the normalised text that matched, for staff, never for logs."""

    crisis: bool
    category: str | None = None
    term: str | None = None


NO_CRISIS = SafetyResult(False)


def normalise(text: str) -> str:
    """Fold a message to the form the lexicon is written in.

    NFKC folds width (ｼﾆﾀｲ → シニタイ, ＯＤ → OD); katakana become hiragana; latin is lower-cased; spaces,
    punctuation, emoji and elongation marks (ー 〜 ~) are removed.
    """
    return _STRIP.sub("", unicodedata.normalize("NFKC", text).lower().translate(_FOLD))


class SafetyScreen:
    """A compiled lexicon. Build it once (`SafetyScreen.load`) and reuse it for every message."""

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
        self._order = {name: i for i, name in enumerate(c for c in CATEGORIES if terms.get(c) or patterns.get(c))}
        groups = []
        for category in self._order:
            alternatives = _term_alternatives(terms.get(category, []), category)
            alternatives += [_compile_pattern(p, f"{category} pattern") for p in patterns.get(category, [])]
            groups.append(f"(?P<{category}>{'|'.join(alternatives)})")
        if not groups:
            raise SafetyConfigError("the lexicon has no terms")
        self._terms = re.compile("|".join(groups))
        masks = _term_alternatives(list(exclusions), "exclusions")
        masks += [_compile_pattern(p, "exclusion pattern") for p in exclusion_patterns]
        self._exclusions = re.compile("|".join(masks)) if masks else None

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
        if self._exclusions is not None:
            folded = self._exclusions.sub(_MASK, folded)
        best: re.Match[str] | None = None
        best_rank = len(self._order)
        for match in self._terms.finditer(folded):
            rank = self._order[match.lastgroup or ""]
            if rank < best_rank:
                best, best_rank = match, rank
                if rank == 0:
                    break
        if best is None:
            return NO_CRISIS
        return SafetyResult(True, best.lastgroup, best.group())


@lru_cache(maxsize=4)
def default_screen(path: Path = DATA_DIR / "safety.yml") -> SafetyScreen:
    """The shipped lexicon, compiled once per process (the gateway may also inject its own)."""
    return SafetyScreen.load(path)


def screen(text: str, lexicon: SafetyScreen | None = None) -> SafetyResult:
    """Screen `text` with `lexicon`, or with the shipped data/safety.yml."""
    return (lexicon or default_screen()).screen(text)


def _term_alternatives(raw_terms: list[str], where: str) -> list[str]:
    """Normalise terms like messages; latin-only terms must not touch other latin letters ("od" ≠ "good")."""
    plain: set[str] = set()
    latin: set[str] = set()
    for term in raw_terms:
        folded = normalise(term)
        if not folded:
            raise SafetyConfigError(f"{where}: {term!r} is empty after normalisation")
        (latin if _LATIN_TERM.fullmatch(folded) else plain).add(folded)
    alternatives = [_trie_regex(plain)] if plain else []
    alternatives += [rf"(?<![a-z]){re.escape(t)}(?![a-z])" for t in sorted(latin)]
    return alternatives


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


def _compile_pattern(pattern: str, where: str) -> str:
    folded = unicodedata.normalize("NFKC", pattern).translate(_PATTERN_FOLD)
    try:
        compiled = re.compile(folded)
    except re.error as exc:
        raise SafetyConfigError(f"{where} {pattern!r} is not a valid regular expression: {exc}") from None
    if compiled.groupindex:
        raise SafetyConfigError(f"{where} {pattern!r}: named groups are not allowed, use (?:...)")
    return f"(?:{folded})"


def _strings(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise SafetyConfigError(f"{where}: expected a list of phrases")
    return [str(v) for v in value]
