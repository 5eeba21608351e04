"""A learned second opinion for the safety screen: character n-grams and a logistic regression, concern only.

Why: the lexicon and its context rules reach ~100 % on the sets they were tuned on, but each set written after a
tuning round showed new wordings of danger to self that no term listed (about 84 % flagged blind). A small
statistical model generalises over wordings without a dictionary. It is only ever a second opinion: when the rules
found nothing, a score above the threshold gives `concern` (a counsellor looks; the writer gets no crisis
message). It never gives crisis and never lowers a level the rules gave, so the deterministic lexicon stays the
floor for explicit statements and the only way to 110/119.

Why this model and no library: pure Python, no new dependency in the gateway venv, no weights to download. The
model is trained when the screen loads, from the bot's NLU examples (intent `crisis` = positive, every other
intent = negative; bot/data/nlu/*.yml) and data/safety_concern_train.yml. Training is deterministic (fixed order
from a seeded shuffle, fixed epochs) and takes a few seconds, so there is no artifact that can go stale when
another team edits the bot's data. A message's score is the highest of its sentences' scores, so one risky
sentence inside a long care story is not diluted by the rest.

A second model of the same kind, trained only on data/safety_crisis_train.yml (danger to the writer now against
hard negatives: hyperbole, care talk, quoted relatives, worries without intent), may confirm a concern as crisis.
Why: on each blind set about one danger-to-self message in four reached only concern, because no rule knew its
wording, and adding rules per set did not carry over to the next set (dev12's round moved none of dev13's figures).
It only ever raises a concern that did not come from a context rule lowering a hit (`crisis_from`: the learned
concern, hopelessness, farewell words, a hint), so laughter, the past, quotes and questions keep their say, and a
message with no sign at all is never raised. The threshold was chosen on the tuned sets; docs/decisions/0002.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any

import yaml

from handoff.domain.safety.lexicon import SafetyConfigError
from handoff.domain.safety.normalise import JAPANESE, Sentence, sentences

CATEGORY = "learned"  # the risk reason of a concern raised by this model (console label in common.js)
NGRAMS = (1, 2, 3)
EPOCHS = 5
L2 = 1e-5  # per-update weight decay: small, the training set is small and already regularised by its diversity
RATE = 0.5  # Adagrad base rate
SEED = 13
QUOTE_MARK = "「」"  # brackets never survive folding, so the mark cannot be confused with a written word
_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")  # Rasa's [text](entity) and [text]{"entity": …}


def features(text: str) -> list[str]:
    """Character n-grams of the folded text with its edges marked, unique and in first-seen order; training
    sentences have their quotations masked as messages do."""
    parts = sentences(text)
    return grams("".join(_unquoted(p) for p in parts)) if parts else []


def grams(folded: str) -> list[str]:
    """Character n-grams of an already folded text (normalise.sentences folds each sentence)."""
    if not folded:
        return []
    padded = f"^{folded}$"
    size = len(padded)
    # dict.fromkeys keeps first-seen order (a set would not across processes: training must be reproducible)
    return list(dict.fromkeys(padded[i : i + n] for n in NGRAMS for i in range(size - n + 1)))


@dataclass(frozen=True)
class Model:
    """Weights of a binary logistic regression over n-gram presence, each vector scaled to unit length."""

    weights: dict[str, float]
    bias: float

    def score(self, text: str) -> float:
        """Probability-like score of one sentence (0–1)."""
        return self._score(features(text))

    def _score(self, feats: list[str]) -> float:
        if not feats:
            return 0.0
        scale = 1.0 / math.sqrt(len(feats))
        w = self.weights
        z = self.bias + scale * sum(map(w.get, feats, repeat(0.0)))
        return _sigmoid(z)

    def message_score(self, text: str) -> float:
        """The highest sentence score of a message (a risky sentence in a long story counts on its own)."""
        return self.sentences_score(sentences(text))

    def sentences_score(self, parts: Sequence[Sentence]) -> float:
        """message_score of already split and folded sentences (the screen splits a message once for both)."""
        return max((self._score(grams(_unquoted(p))) for p in parts), default=0.0)


def _unquoted(sentence: Sentence) -> str:
    """The sentence with each quotation replaced by one mark: whose words those are (an ill elder's 「死にたい」) is
    the rules' call, already made; the model reads the writer's own words around them (「…」って言われた)."""
    if not sentence.quotes:
        return sentence.folded
    out, pos = [], 0
    for start, end in sentence.quotes:
        out += [sentence.folded[pos:start], QUOTE_MARK]
        pos = end
    return "".join([*out, sentence.folded[pos:]])


def train(positives: Sequence[str], negatives: Sequence[str], epochs: int = EPOCHS, seed: int = SEED) -> Model:
    """Fit the model with Adagrad on the logistic loss, classes weighted to balance; same data → same weights."""
    vocab: dict[str, int] = {}
    rows: list[tuple[list[int], float]] = []
    for texts, y in ((positives, 1.0), (negatives, 0.0)):
        for text in texts:
            ids = [vocab.setdefault(f, len(vocab)) for f in features(text)]
            if ids:
                rows.append((ids, y))
    n_pos = sum(1 for _, y in rows if y)
    n_neg = len(rows) - n_pos
    if not n_pos or not n_neg:
        raise SafetyConfigError("learned: training needs positive and negative examples")
    class_weight = {1.0: len(rows) / (2 * n_pos), 0.0: len(rows) / (2 * n_neg)}
    w = [0.0] * len(vocab)
    grad_sq = [1e-8] * len(vocab)
    bias, bias_sq = 0.0, 1e-8
    order = list(range(len(rows)))
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(order)
        for idx in order:
            ids, y = rows[idx]
            scale = 1.0 / math.sqrt(len(ids))
            g = (_sigmoid(bias + scale * sum([w[i] for i in ids])) - y) * class_weight[y]
            gs = g * scale
            for i in ids:
                gf = gs + L2 * w[i]
                sq = grad_sq[i] + gf * gf
                grad_sq[i] = sq
                w[i] -= RATE * gf / math.sqrt(sq)
            bias_sq += g * g
            bias -= RATE * g / math.sqrt(bias_sq)
    weights = {f: w[i] for f, i in vocab.items()}
    return Model({f: w for f, w in weights.items() if abs(w) > 1e-4}, bias)


def nlu_examples(nlu_dir: Path) -> tuple[list[str], list[str]]:
    """The bot's NLU examples: intent `crisis` (positive) and every other intent (negative), entity markup removed."""
    positives: list[str] = []
    negatives: list[str] = []
    files = sorted(nlu_dir.glob("*.yml"))
    if not files:
        raise SafetyConfigError(f"learned: no NLU files in {nlu_dir}")
    for path in files:
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            intent = block.get("intent") if isinstance(block, dict) else None
            if not intent:
                continue
            target = positives if intent == "crisis" else negatives
            target.extend(_examples(block.get("examples") or ""))
    return positives, negatives


def _examples(block: str) -> Iterable[str]:
    for line in block.splitlines():
        text = _ENTITY.sub(r"\1", re.sub(r"^\s*-\s*", "", line)).strip()
        if text:
            yield text


def own_examples(path: Path) -> tuple[list[str], list[str]]:
    """data/safety_concern_train.yml: `positive:` and `negative:` lists of sentences."""
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pos, neg = raw.get("positive"), raw.get("negative")
    if not isinstance(pos, list) or not isinstance(neg, list):
        raise SafetyConfigError(f"{path}: needs `positive:` and `negative:` lists")
    return [str(t) for t in pos], [str(t) for t in neg]


MIN_CHARS = 7
MIN_LATIN_WORDS = 3
# Raising a concern to crisis needs a little more to go on: 「もういい、ありがと」 (eight) closes many chats.
CRISIS_MIN_CHARS = 10


@dataclass(frozen=True)
class SecondOpinion:
    """The model with its threshold, as the screen uses it; optionally the crisis model that confirms a concern."""

    model: Model
    threshold: float
    category: str = CATEGORY
    crisis: Model | None = None
    crisis_threshold: float = 1.0
    crisis_from: frozenset[str] = frozenset()

    def flags(self, parts: Sequence[Sentence]) -> bool:
        """Whether the message, split and folded by normalise.sentences, scores at or above the threshold.

        A message of fewer than MIN_CHARS folded characters is left to the rules: a character n-gram model has too
        little to go on there, and it flagged 「before」 as concern (the rules catch the short explicit statements,
        「しにたい」 among them). Seven, not more: 「もうぜんぶやめたい」 (nine) is what it is there to catch; at ten no
        dev-set recall was lost but that row of test_safety_learned was."""
        if sum(len(_unquoted(p)) for p in parts) < MIN_CHARS or _few_latin_words(parts):
            return False
        return self.model.sentences_score(parts) >= self.threshold

    def confirms_crisis(self, parts: Sequence[Sentence], category: str | None) -> bool:
        """Whether a concern of `category` reads as danger to the writer now: a category that may be raised, and a
        crisis-model score at or above its threshold (short messages are left to the rules, as in `flags`)."""
        if self.crisis is None or category not in self.crisis_from:
            return False
        if sum(len(_unquoted(p)) for p in parts) < CRISIS_MIN_CHARS:
            return False
        return self.crisis.sentences_score(parts) >= self.crisis_threshold


def _few_latin_words(parts: Sequence[Sentence]) -> bool:
    """A message in latin letters only and of fewer than MIN_LATIN_WORDS words: its letters folded together
    (「66-first」 → 66first) give the character n-grams nothing to read; the rules' English terms still apply."""
    if any(JAPANESE.search(p.folded) for p in parts):
        return False
    return sum(len(p.latin.split()) for p in parts) < MIN_LATIN_WORDS


def from_config(raw: Any, base: Path) -> SecondOpinion | None:
    """Build the second opinion from safety.yml's `learned:` section (paths relative to safety.yml's folder)."""
    if raw is None or raw is False:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("threshold"), int | float):
        raise SafetyConfigError("learned needs `threshold:` (0–1), `train:` and `nlu:`")
    threshold = float(raw["threshold"])
    if not 0.0 < threshold < 1.0:
        raise SafetyConfigError("learned.threshold must be between 0 and 1")
    train_files = _files(raw.get("train") or "safety_concern_train.yml", base)
    nlu_dir = (base / str(raw.get("nlu") or "../bot/data/nlu")).resolve()
    if not nlu_dir.exists():
        raise SafetyConfigError(f"learned: {nlu_dir} not found")
    category = str(raw.get("category") or CATEGORY)
    crisis, crisis_threshold, crisis_from = _crisis_config(raw, base, category)
    return SecondOpinion(trained(train_files, nlu_dir), threshold, category, crisis, crisis_threshold, crisis_from)


def _files(value: Any, base: Path) -> tuple[Path, ...]:
    """One training file or a list of them (several writers' files, each written apart from the others)."""
    paths = tuple((base / str(f)).resolve() for f in (value if isinstance(value, list) else [value]))
    for path in paths:
        if not path.exists():
            raise SafetyConfigError(f"learned: {path} not found")
    return paths


def _crisis_config(raw: dict[str, Any], base: Path, category: str) -> tuple[Model | None, float, frozenset[str]]:
    """`crisis_train`, `crisis_threshold`, `crisis_from` of the learned section; no crisis model without them."""
    if not raw.get("crisis_train"):
        return None, 1.0, frozenset()
    threshold = raw.get("crisis_threshold")
    if not isinstance(threshold, int | float) or not 0.0 < float(threshold) < 1.0:
        raise SafetyConfigError("learned.crisis_threshold must be between 0 and 1")
    raised = raw.get("crisis_from")
    if not isinstance(raised, list) or not raised:
        raise SafetyConfigError("learned.crisis_from must list the concern categories the crisis model may raise")
    paths = _files(raw["crisis_train"], base)
    names = frozenset(category if str(c) == "learned" else str(c) for c in raised)
    stamp = tuple(p.stat().st_mtime_ns for p in paths)
    return _trained_crisis(paths, stamp), float(threshold), names


def crisis_examples(path: Path) -> tuple[list[str], list[str]]:
    """data/safety_crisis_train.yml: `crisis:` (danger to the writer now) and `not_crisis:` lists of sentences."""
    raw: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pos, neg = raw.get("crisis"), raw.get("not_crisis")
    if not isinstance(pos, list) or not isinstance(neg, list):
        raise SafetyConfigError(f"{path}: needs `crisis:` and `not_crisis:` lists")
    return [str(t) for t in pos], [str(t) for t in neg]


@lru_cache(maxsize=2)
def _trained_crisis(paths: tuple[Path, ...], stamp: tuple[int, ...]) -> Model:
    del stamp  # part of the cache key only
    positives: list[str] = []
    negatives: list[str] = []
    for path in paths:
        pos, neg = crisis_examples(path)
        positives += pos
        negatives += neg
    return train(positives, negatives)


def trained(train_files: Path | tuple[Path, ...], nlu_dir: Path) -> Model:
    """The model of these files as they are now (cached per process and file versions: one training per start)."""
    files = (train_files,) if isinstance(train_files, Path) else train_files
    stamp = tuple(p.stat().st_mtime_ns for p in [*files, *sorted(nlu_dir.glob("*.yml"))])
    return _trained(files, nlu_dir, stamp)


@lru_cache(maxsize=2)
def _trained(train_files: tuple[Path, ...], nlu_dir: Path, stamp: tuple[int, ...]) -> Model:
    del stamp  # part of the cache key only
    pos, neg = nlu_examples(nlu_dir)
    for train_file in train_files:
        own_pos, own_neg = own_examples(train_file)
        pos, neg = pos + own_pos, neg + own_neg
    return train(pos, neg)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
