"""The trained model scored on the NLU dev set (tests/bot/nlu_dev), which nothing trains on.

Why: cross-validation splits the training data, so it only tells how well the model recalls phrasings written by
the same trainers in the same style. The dev set holds messages written apart, the way young carers and guardians
type on LINE (kana for kanji, no punctuation, emoji, dialect, long stories), and measures what a new user meets:
per-intent recall and precision, macro-F1, crisis recall, crisis false alarms on everything else, and how often the
bot falls back (FallbackClassifier: top confidence under its threshold, or the two best too close).

The dev set only stays a fair test while it is unseen, so a dev message whose normalised form (the twin check's,
tests/bot/check_nlu_twins.py) equals a training example or a persona line fails the run; close ones are listed.

Usage (the bot venv, project root on PYTHONPATH; `make nlu-eval` does both):
    python tests/bot/nlu_eval.py [--model models/ycc.tar.gz] [--dev tests/bot/nlu_dev] [--out results/nlu_dev.json]
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import logging
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_nlu_twins import Example, load_examples, normalise

FALLBACK = "nlu_fallback"
CRISIS = "crisis"
# The gateway raises `concern` from the bot's crisis intent only from this confidence on
# (YCC_NLU_CONCERN_MIN_CONFIDENCE).
CONCERN_MIN_CONFIDENCE = 0.8
# Normalised forms this close (difflib ratio) are near-twins: listed, not refused (short messages collide often).
NEAR_TWIN_RATIO = 0.9
# FallbackClassifier thresholds tried on the same parses (report only).
# IntentGuard keeps crisis from this confidence on, whatever the threshold (bot/components/intent_guard.py).
CRISIS_FLOOR = 0.25
SWEEP = (0.25, 0.3, 0.35, 0.4, 0.45, 0.5)


def fallback_settings(config: Path) -> tuple[float, float]:
    """FallbackClassifier's threshold and ambiguity threshold, read from config.yml so the figures follow it."""
    pipeline = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("pipeline") or []
    for component in pipeline:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3)), float(component.get("ambiguity_threshold", 0.1))
    return 0.0, 0.0


def persona_lines(personas: Path) -> list[Example]:
    """Every typed persona turn: the e2e suite's messages are as unseen as the dev set's, so neither may copy."""
    if not personas.exists():
        return []
    data = yaml.safe_load(personas.read_text(encoding="utf-8")) or {}
    return [
        Example("persona", str(turn["say"]), str(personas))
        for persona in data.get("personas") or []
        for turn in persona.get("turns") or []
        if "say" in turn
    ]


def leaks(dev: list[Example], seen: list[Example]) -> tuple[list[str], list[str]]:
    """(twins, near-twins) of dev messages among training examples and persona lines, as printable lines."""
    forms: dict[str, Example] = {normalise(e.text): e for e in seen}
    twins, near = [], []
    for example in dev:
        form = normalise(example.text)
        if form in forms:
            twins.append(f"{example.text!r} = {forms[form].text!r} ({Path(forms[form].file).name})")
            continue
        matcher = difflib.SequenceMatcher(a=form, autojunk=False)
        for other, source in forms.items():
            matcher.set_seq2(other)
            if matcher.real_quick_ratio() >= NEAR_TWIN_RATIO and matcher.ratio() >= NEAR_TWIN_RATIO:
                near.append(f"{example.text!r} ~ {source.text!r} ({Path(source.file).name})")
                break
    return twins, near


async def predict(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    """The model's parse of each text, through the whole NLU pipeline (fallback and IntentGuard included)."""
    import structlog
    from rasa.core.agent import Agent

    # Rasa's structlog debug lines carry each parsed text; only warnings and errors are wanted here.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def best_intent(parse: dict[str, Any]) -> str:
    """The best intent but the fallback: what `rasa test nlu` (and so crossval) scores."""
    ranking = [r["name"] for r in parse.get("intent_ranking") or [] if r["name"] != FALLBACK]
    return ranking[0] if ranking else FALLBACK


def per_intent_figures(gold: list[str], predicted: list[str]) -> dict[str, dict[str, Any]]:
    """Precision, recall, F1, support and the commonest confusions of each gold intent."""
    figures: dict[str, dict[str, Any]] = {}
    for intent in sorted(set(gold)):
        tp = sum(g == intent and p == intent for g, p in zip(gold, predicted, strict=True))
        support, claimed = gold.count(intent), predicted.count(intent)
        precision, recall = (tp / claimed if claimed else 0.0), tp / support
        errors = Counter(p for g, p in zip(gold, predicted, strict=True) if g == intent and p != intent)
        figures[intent] = {
            "precision": precision,
            "recall": recall,
            "f1": f1(precision, recall),
            "support": support,
            "confused_with": dict(errors.most_common(3)),
        }
    return figures


def macro_f1(figures: dict[str, dict[str, Any]]) -> float:
    """Mean F1 over the gold intents."""
    return sum(row["f1"] for row in figures.values()) / len(figures)


def sweep(gold: list[str], parses: list[dict[str, Any]], ambiguity: float) -> dict[str, dict[str, float]]:
    """Fallback rate and accuracy of the answered messages at other FallbackClassifier thresholds (crisis never
    falls back from CRISIS_FLOOR on): what moving the threshold in config.yml would trade, without retraining."""
    rows: dict[str, dict[str, float]] = {}
    for threshold in SWEEP:
        answered, right = 0, 0
        for intent, parse in zip(gold, parses, strict=True):
            ranking = [r for r in parse.get("intent_ranking") or [] if r["name"] != FALLBACK]
            first = float(ranking[0]["confidence"]) if ranking else 0.0
            second = float(ranking[1]["confidence"]) if len(ranking) > 1 else 0.0
            kept = ranking and ranking[0]["name"] == CRISIS and first >= CRISIS_FLOOR
            if kept or (first >= threshold and first - second >= ambiguity):
                answered += 1
                right += ranking[0]["name"] == intent
        rows[f"{threshold:.2f}"] = {
            "fallback_rate": 1 - answered / len(gold),
            "answered_accuracy": right / answered if answered else 0.0,
        }
    return rows


def score(gold: list[str], parses: list[dict[str, Any]], threshold: float, ambiguity: float) -> dict[str, Any]:
    """Per-intent figures on the bot's final intent (a fallback counts as a miss), crisis and fallback rates."""
    predicted = [p["intent"]["name"] for p in parses]
    confidence = [float(p["intent"].get("confidence") or 0.0) for p in parses]
    top = [
        max((float(r["confidence"]) for r in p.get("intent_ranking") or [] if r["name"] != FALLBACK), default=0.0)
        for p in parses
    ]
    per_intent = per_intent_figures(gold, predicted)
    crisis = [i for i, g in enumerate(gold) if g == CRISIS]
    others = [i for i, g in enumerate(gold) if g != CRISIS]
    high = [predicted[i] == CRISIS and confidence[i] >= CONCERN_MIN_CONFIDENCE for i in range(len(gold))]
    return {
        "messages": len(gold),
        "accuracy": sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold),
        "macro_f1": macro_f1(per_intent),
        "macro_f1_top_intent": macro_f1(per_intent_figures(gold, [best_intent(p) for p in parses])),
        "crisis_recall": sum(predicted[i] == CRISIS for i in crisis) / len(crisis) if crisis else None,
        "crisis_recall_at_concern": sum(high[i] for i in crisis) / len(crisis) if crisis else None,
        "crisis_false_alarms": sum(predicted[i] == CRISIS for i in others) / len(others),
        "crisis_false_alarms_at_concern": sum(high[i] for i in others) / len(others),
        "fallback_rate": predicted.count(FALLBACK) / len(gold),
        "below_threshold_rate": sum(t < threshold for t in top) / len(gold),
        "threshold_sweep": sweep(gold, parses, ambiguity),
        "per_intent": per_intent,
        "errors": [
            {"text": p["text"], "intent": g, "predicted": pr, "confidence": round(c, 3)}
            for g, pr, c, p in zip(gold, predicted, confidence, parses, strict=True)
            if g != pr
        ],
    }


def report(figures: dict[str, Any], threshold: float, ambiguity: float) -> None:
    """The table and headline figures, in the order a trainer reads them."""
    print(f"{'intent':22} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>4}  confused with")
    for intent, row in sorted(figures["per_intent"].items(), key=lambda kv: kv[1]["f1"]):
        confused = ", ".join(f"{k} {v}" for k, v in row["confused_with"].items())
        figures_row = f"{row['precision']:6.3f} {row['recall']:6.3f} {row['f1']:6.3f} {row['support']:4}"
        print(f"{intent:22} {figures_row}  {confused}")
    print("\nerrors (text, gold → predicted, confidence):")
    for error in figures["errors"]:
        print(f"  {error['intent']} → {error['predicted']} {error['confidence']:.2f}  {error['text']}")
    crisis, crisis_high = figures["crisis_recall"], figures["crisis_recall_at_concern"]
    print(
        f"\n{figures['messages']} dev messages, {len(figures['per_intent'])} intents\n"
        f"macro-F1 {figures['macro_f1']:.4f} (a fallback counts as a miss; on the best non-fallback intent, as "
        f"crossval scores: {figures['macro_f1_top_intent']:.4f})   accuracy {figures['accuracy']:.4f}\n"
        f"crisis recall {crisis:.4f} (at confidence ≥ {CONCERN_MIN_CONFIDENCE}: {crisis_high:.4f})\n"
        f"crisis false alarms on non-crisis messages {figures['crisis_false_alarms']:.4f} "
        f"(at confidence ≥ {CONCERN_MIN_CONFIDENCE}: {figures['crisis_false_alarms_at_concern']:.4f})\n"
        f"fallback rate {figures['fallback_rate']:.4f} (nlu_fallback: top confidence < {threshold}, or the best two "
        f"within {ambiguity}; top confidence < {threshold} before IntentGuard keeps crisis: "
        f"{figures['below_threshold_rate']:.4f})"
    )


def main(argv: list[str]) -> int:
    """Refuses a leaked dev set (exit 2), else prints and stores the figures (exit 0)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("models/ycc.tar.gz"))
    parser.add_argument("--dev", type=Path, default=Path("tests/bot/nlu_dev"))
    parser.add_argument("--train", type=Path, default=Path("bot/data/nlu"))
    parser.add_argument("--personas", type=Path, default=Path("tests/e2e/personas/personas.yml"))
    parser.add_argument("--config", type=Path, default=Path("config.yml"))
    parser.add_argument("--out", type=Path, default=Path("results/nlu_dev.json"))
    args = parser.parse_args(argv)

    dev = load_examples(args.dev)
    twins, near = leaks(dev, load_examples(args.train) + persona_lines(args.personas))
    for line in near:
        print(f"near-twin (keep the dev set apart): {line}")
    if twins:
        for line in twins:
            print(f"DEV SET LEAK: {line}")
        print("The dev set must stay unseen: remove these from the training data (or rewrite the dev message).")
        return 2

    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    threshold, ambiguity = fallback_settings(args.config)
    parses = asyncio.run(predict(args.model, [e.text for e in dev]))
    figures = score([e.intent for e in dev], parses, threshold, ambiguity)
    report(figures, threshold, ambiguity)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    sweep_line = "  ".join(
        f"{t}: {row['fallback_rate']:.3f} / {row['answered_accuracy']:.3f}"
        for t, row in figures["threshold_sweep"].items()
    )
    print(f"fallback threshold → fallback rate / accuracy of the answered: {sweep_line}")
    print(f"figures and errors: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
