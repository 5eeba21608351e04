"""Fails the build when the NLU cross-validation report is below the agreed thresholds.

Why: crisis recall is a safety property (R13), not a nice-to-have metric; macro-F1 keeps the other intents honest.
Issue 3 also asks for enough data behind those figures: at least 25 examples per intent and at least 150 crisis
examples, counted from the report's support (every example is tested once in cross-validation).
Reads the intent report written by `rasa test nlu --cross-validation` (results/intent_report.json).

The gate (`--macro-f1`, `--crisis-recall`) and issue 3's targets (`--target-*`) are separate on purpose: `make
crossval` gates on a regression floor while the targets are not yet met reliably (Rasa's folds are unseeded and
move the figures by about ±0.005), and the targets are always printed as met or NOT MET, never hidden.

Usage: python tests/bot/check_nlu_report.py [REPORT] [--macro-f1 0.90] [--crisis-recall 0.98]
       [--min-examples 25] [--min-crisis 150] [--target-macro-f1 0.90] [--target-crisis-recall 0.98]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def intent_rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The per-intent rows of the report (no averages, no accuracy)."""
    return {k: v for k, v in report.items() if isinstance(v, dict) and "support" in v and " avg" not in k}


def check(report: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """The failed conditions, empty if the report meets every threshold."""
    intents = intent_rows(report)
    macro_f1 = float(report["macro avg"]["f1-score"])
    crisis = intents.get("crisis", {})
    failed = []
    if macro_f1 < args.macro_f1:
        failed.append(f"macro-F1 {macro_f1:.4f} < {args.macro_f1}")
    if float(crisis.get("recall", 0.0)) < args.crisis_recall:
        failed.append(f"crisis recall {float(crisis.get('recall', 0.0)):.4f} < {args.crisis_recall}")
    if int(crisis.get("support", 0)) < args.min_crisis:
        failed.append(f"{int(crisis.get('support', 0))} crisis examples < {args.min_crisis}")
    few = {name: int(row["support"]) for name, row in intents.items() if int(row["support"]) < args.min_examples}
    if few:
        listed = ", ".join(f"{name} {n}" for name, n in sorted(few.items()))
        failed.append(f"intents with fewer than {args.min_examples} examples: {listed}")
    return failed


def main(argv: list[str]) -> int:
    """Prints the per-intent table and the thresholds; exit status 1 if any is not met."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("report", nargs="?", default="results/intent_report.json")
    parser.add_argument("--macro-f1", type=float, default=0.90)
    parser.add_argument("--crisis-recall", type=float, default=0.98)
    parser.add_argument("--min-examples", type=int, default=25, help="examples (support) every intent needs")
    parser.add_argument("--min-crisis", type=int, default=150, help="crisis examples (support) needed")
    parser.add_argument("--target-macro-f1", type=float, default=0.90, help="issue 3's target, reported")
    parser.add_argument("--target-crisis-recall", type=float, default=0.98, help="issue 3's target, reported")
    args = parser.parse_args(argv)

    with open(args.report, encoding="utf-8") as fh:
        report: dict[str, Any] = json.load(fh)

    intents = intent_rows(report)
    print(f"{'intent':<20} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}")
    for name, row in sorted(intents.items(), key=lambda kv: kv[1].get("f1-score", 0)):
        print(f"{name:<20} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1-score']:>6.3f} {row['support']:>7}")
    crisis = intents.get("crisis", {})
    print(
        f"macro-F1 {float(report['macro avg']['f1-score']):.4f} (min {args.macro_f1}) · "
        f"crisis recall {float(crisis.get('recall', 0.0)):.4f} (min {args.crisis_recall}) · "
        f"crisis examples {int(crisis.get('support', 0))} (min {args.min_crisis}) · "
        f"fewest examples {min((int(r['support']) for r in intents.values()), default=0)} (min {args.min_examples})"
    )

    macro_f1, recall = float(report["macro avg"]["f1-score"]), float(crisis.get("recall", 0.0))
    for name, value, target in (
        ("macro-F1", macro_f1, args.target_macro_f1),
        ("crisis recall", recall, args.target_crisis_recall),
    ):
        print(f"issue 3 target {name} ≥ {target}: {'met' if value >= target else 'NOT MET'} ({value:.4f})")

    failed = check(report, args)
    if failed:
        print("NLU thresholds not met: " + "; ".join(failed), file=sys.stderr)
        return 1
    print("NLU gate met (regression floor; see the issue 3 target lines above).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
