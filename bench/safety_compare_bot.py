"""Bot-venv half of bench/safety_compare.py: the approaches that need Rasa, GiNZA or scikit-learn (issue 13).

    PYTHONPATH=. .venv-bot/bin/python bench/safety_compare_bot.py tests/safety/data/dev.yml OUT.json

Writes, per message of the set, each approach's prediction and its time in ms:
- intent: the trained bot's intent and confidence (models/*.tar.gz), for (a) lexicon + crisis intent;
- parse, parse_pure: (c) the new screen's lexicon hits, qualified by a GiNZA dependency parse instead of the
  regex windows (who, past tense, negation, quotation); `parse` keeps the other cue groups (laughter, fiction,
  resolved, service ...) from data/safety.yml, `parse_pure` uses the parse and the question mark only;
- tfidf, tfidf_chive: (d) crisis-vs-rest classifiers trained on bot/data/nlu/*.yml (never on the set scored).
Why a separate process: Rasa, GiNZA and the bot's scikit-learn live in .venv-bot (Python 3.10), the gateway's
screen and evaluation harness in .venv; the driver joins both sides.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handoff.domain.safety import SafetyScreen, normalise  # noqa: E402
from handoff.domain.safety.context import Qualifiers  # noqa: E402
from handoff.domain.safety.lexicon import fold_terms, trie_regex  # noqa: E402
from handoff.domain.safety.normalise import _SENTENCE_END  # noqa: E402  (the screen's own sentence split, reused)
from handoff.settings import DATA_DIR  # noqa: E402

PEOPLE = ("first_person", "elder", "peer", "child")
SPEECH = set("言う いう 叫ぶ 話す 泣く 呟く つぶやく 喚く わめく 書く 送る 騒ぐ 怒鳴る 繰り返す".split())
THOUGHT = {"思う", "考える", "感じる", "思える"}
NEGATION = {"ない", "ず", "ぬ", "ん", "無い"}
QUOTE_MARKS = {"と", "って", "とか", "っ"}
TOPIC_CASES = {"が", "は", "も", "って", "ったら"}
REPLACED = {"past", "past_after", "negation", "speech"}  # cue groups the parse decides instead of the windows


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


# (a) the bot's intent ---------------------------------------------------------------------------------------


def intents(texts: list[str], model: Path) -> list[dict[str, Any]]:
    """Intent name, confidence and ms per text from the trained bot model."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def run() -> list[dict[str, Any]]:
        await agent.parse_message("warm up")
        out = []
        for text in texts:
            start = time.perf_counter()
            parsed = await agent.parse_message(text)
            intent = parsed.get("intent") or {}
            out.append({"name": intent.get("name"), "conf": intent.get("confidence", 0.0), "ms": ms_since(start)})
        return out

    return asyncio.run(run())


# (c) qualifiers over a dependency parse ----------------------------------------------------------------------


class ParseContext:
    """Stands in for handoff.domain.safety.context.Context inside SafetyScreen: same hits, same level rules
    (screen.decide), but who / past / negation / quotation come from GiNZA's parse of the hit's sentence."""

    def __init__(self, base: Any, mask: Any, nlp: Any, people: dict[str, list[str]], pure: bool) -> None:
        self._base, self._mask, self._nlp, self._pure = base, mask, nlp, pure
        self._people = {}
        for name in PEOPLE:
            plain, latin = fold_terms(people.get(name) or [], name)
            self._people[name] = re.compile(trie_regex(plain | latin))
        self._raw: dict[str, str] = {}  # masked folded sentence -> raw sentence, for the message being screened
        self._docs: dict[str, tuple[Any, list[int]]] = {}
        self.unaligned = 0  # hits whose sentence could not be aligned (reported in the output's meta)

    def prepare(self, text: str) -> None:
        """Remember the raw sentences of the next message; they are parsed only if a hit needs them."""
        self._raw, self._docs, pos = {}, {}, 0
        import unicodedata

        raw = unicodedata.normalize("NFKC", text)
        for end in [*_SENTENCE_END.finditer(raw), None]:
            part = raw[pos : end.start()] if end else raw[pos:]
            self._raw.setdefault(self._mask(normalise(part)), part)
            if end:
                pos = end.end()

    def message_cues(self, sentences: list[str]) -> frozenset[str]:
        return frozenset() if self._pure else self._base.message_cues(sentences)

    def fiction(self, sentence: str) -> bool:
        return False if self._pure else self._base.fiction(sentence)

    def qualify(
        self, sentence: str, start: int, end: int, question: bool, inherited: frozenset[str] = frozenset()
    ) -> Qualifiers:
        window = self._base.qualify(sentence, start, end, question, inherited)
        parsed = self._parse(sentence)
        if parsed is None:  # the folded text could not be aligned with the raw one: keep the windows
            self.unaligned += 1
            return window
        cues, who = self._read(*parsed, start, end)
        kept = {"question"} & window.cues if self._pure else window.cues - REPLACED
        return Qualifiers(frozenset(kept | cues), who)

    def _parse(self, folded: str) -> tuple[Any, list[int]] | None:
        if folded not in self._docs:
            raw = self._raw.get(folded)
            if raw is None:
                return None
            offsets = [i for i, ch in enumerate(raw) for _ in normalise(ch)]  # folded position -> raw position
            if "".join(normalise(ch) for ch in raw) != normalise(raw):
                return None
            self._docs[folded] = (self._nlp(raw), offsets)
        return self._docs[folded]

    def _read(self, doc: Any, offsets: list[int], start: int, end: int) -> tuple[set[str], str | None]:
        if not offsets:
            return set(), None
        lo, hi = offsets[min(start, len(offsets) - 1)], offsets[min(end, len(offsets)) - 1] + 1
        span = [t for t in doc if t.idx < hi and t.idx + len(t.text) > lo] or [doc[-1]]
        ids = {t.i for t in span}
        pred = next((t for t in span if t.head.i not in ids or t.head.i == t.i), span[-1])
        for _ in range(3):  # a noun hit (自殺, 薬) is qualified by the verb it belongs to
            if pred.pos_ in ("VERB", "ADJ") or pred.head.i == pred.i:
                break
            pred = pred.head
        cues: set[str] = set()
        heads = [pred]
        if pred.head.i != pred.i and pred.head.pos_ in ("ADJ", "AUX") and pred.head.lemma_ in NEGATION:
            cues.add("negation")  # 死にたくない: GiNZA makes ない the head
            heads.append(pred.head)
        quote = next((c for c in pred.children if c.dep_ in ("mark", "case") and c.lemma_ in QUOTE_MARKS), None)
        if quote is not None and pred.head.i != pred.i:
            if pred.head.lemma_ in SPEECH:
                cues.add("speech")
            if pred.head.lemma_ in SPEECH | THOUGHT:
                heads.append(pred.head)  # 「死にたいと思った」: the tense is the thinking's
        for head in heads:
            for child in head.children:
                if child.dep_ == "aux" and child.lemma_ in ("た", "だ") and child.text in ("た", "だ"):
                    cues.add("past")
                if child.dep_ == "aux" and child.lemma_ in NEGATION:
                    cues.add("negation")
        speaker = heads[-1] if "speech" in cues else pred
        return cues, self._who(speaker) or (self._who(pred) if speaker is not pred else None)

    def _who(self, head: Any) -> str | None:
        for child in head.children:
            cases = {c.text for c in child.children if c.dep_ == "case"}
            if child.dep_ == "nsubj" or (child.dep_ == "obl" and cases & TOPIC_CASES):
                phrase = normalise("".join(t.text for t in child.subtree if t.dep_ != "case"))
                found = [(m.end(), name) for name in PEOPLE for m in self._people[name].finditer(phrase)]
                if found:
                    return max(found)[1]  # the head noun is the last one: うちの母 → elder
        return None


def parse_levels(texts: list[str], nlp: Any, pure: bool) -> tuple[list[dict[str, Any]], int]:
    """Levels and ms per text, and how many hits kept the regex windows because alignment failed."""
    base = SafetyScreen.load(DATA_DIR / "safety.yml")
    raw = yaml.safe_load((DATA_DIR / "safety.yml").read_text(encoding="utf-8"))
    ctx = ParseContext(base._context, base._lexicon.mask, nlp, raw.get("context") or {}, pure)
    screen = SafetyScreen(base._signals, base._lexicon, ctx)  # type: ignore[arg-type]
    out = []
    for text in texts:
        start = time.perf_counter()
        ctx.prepare(text)
        level = screen.screen(text).level or "none"
        out.append({"level": level, "ms": ms_since(start)})
    return out, ctx.unaligned


# (d) learned classifiers ---------------------------------------------------------------------------------------


def nlu_examples(folder: Path) -> list[tuple[str, int]]:
    """(text, 1 if crisis else 0) for every intent example in the bot's NLU data; entity markup removed."""
    found = []
    for path in sorted(folder.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", r"\1\2", line.strip()[2:].strip())
                if line.strip().startswith("- ") and text:
                    found.append((text, int(block["intent"] == "crisis")))
    return found


def learned(texts: list[str], nlp: Any) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    import numpy as np
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    scored = {normalise(t) for t in texts}
    examples = nlu_examples(ROOT / "bot" / "data" / "nlu")
    train = [(t, y) for t, y in examples if normalise(t) not in scored]  # nothing the scored set contains
    xs, ys = [normalise(t) for t, _ in train], [y for _, y in train]
    tfidf = TfidfVectorizer(analyzer="char", ngram_range=(1, 4), sublinear_tf=True, min_df=1)

    def chive(batch: list[str]) -> Any:
        vecs = np.array([nlp.make_doc(t).vector for t in batch], dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return csr_matrix(2.0 * vecs / norms)

    raw_train = [t for t, _ in train]
    variants = {
        "tfidf": (lambda batch: tfidf.transform([normalise(t) for t in batch])),
        "tfidf_chive": (lambda batch: hstack([tfidf.transform([normalise(t) for t in batch]), chive(batch)]).tocsr()),
    }
    tfidf.fit(xs)
    out: dict[str, list[dict[str, Any]]] = {}
    for name, feats in variants.items():
        clf = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
        clf.fit(feats(raw_train), ys)
        feats(["warm up"])
        rows = []
        for text in texts:
            start = time.perf_counter()
            p = float(clf.predict_proba(feats([text]))[0, 1])
            rows.append({"level": "crisis" if p >= 0.5 else "none", "p": p, "ms": ms_since(start)})
        out[name] = rows
    meta = {"train": len(train), "train_crisis": sum(ys), "dropped_same_as_scored": len(examples) - len(train)}
    return out, meta


def main(argv: list[str]) -> int:
    items_path, out_path = Path(argv[0]), Path(argv[1])
    texts = [i["text"] for i in (yaml.safe_load(items_path.read_text(encoding="utf-8")) or {})["items"]]
    result: dict[str, Any] = {"meta": {}}
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if models:
        result["intent"] = intents(texts, models[-1])
        result["meta"]["model"] = f"{models[-1].name} ({time.ctime(models[-1].stat().st_mtime)})"
    import spacy

    nlp = spacy.load("ja_ginza")
    nlp("warm up")
    result["parse"], result["meta"]["parse_unaligned_hits"] = parse_levels(texts, nlp, pure=False)
    result["parse_pure"], _ = parse_levels(texts, nlp, pure=True)
    learned_rows, result["meta"]["learned"] = learned(texts, nlp)
    result.update(learned_rows)
    out_path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
