"""Fails the build when the NLU cross-validation report is below the agreed thresholds.

Why: crisis recall is a safety property (R13), not a nice-to-have metric; macro-F1 keeps the other intents honest.
Reads the intent report written by `rasa test nlu --cross-validation` (results/intent_report.json).

Usage: python tests/bot/check_nlu_report.py [REPORT] [--macro-f1 0.90] [--crisis-recall 0.98]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Dict, List


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", default="results/intent_report.json")
    parser.add_argument("--macro-f1", type=float, default=0.90)
    parser.add_argument("--crisis-recall", type=float, default=0.98)
    args = parser.parse_args(argv)

    with open(args.report, encoding="utf-8") as fh:
        report: Dict[str, Dict] = json.load(fh)

    macro_f1 = float(report["macro avg"]["f1-score"])
    crisis = report.get("crisis", {})
    crisis_recall = float(crisis.get("recall", 0.0))

    intents = {k: v for k, v in report.items() if isinstance(v, dict) and "support" in v and " avg" not in k}
    print(f"{'intent':<20} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>7}")
    for name, row in sorted(intents.items(), key=lambda kv: kv[1].get("f1-score", 0)):
        print(
            f"{name:<20} {row['precision']:>9.3f} {row['recall']:>7.3f} {row['f1-score']:>6.3f} {row['support']:>7}"
        )
    print(f"macro-F1 {macro_f1:.4f} (min {args.macro_f1}) · crisis recall {crisis_recall:.4f} (min {args.crisis_recall})")

    failed = []
    if macro_f1 < args.macro_f1:
        failed.append(f"macro-F1 {macro_f1:.4f} < {args.macro_f1}")
    if crisis_recall < args.crisis_recall:
        failed.append(f"crisis recall {crisis_recall:.4f} < {args.crisis_recall}")
    if failed:
        print("NLU thresholds not met: " + "; ".join(failed), file=sys.stderr)
        return 1
    print("NLU thresholds met.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
