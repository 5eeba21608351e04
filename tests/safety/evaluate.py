"""Measure the safety screen like a model: recall and false alarms per level and category on a labelled set.

    .venv/bin/python -m tests.safety.evaluate [tests/safety/data/dev.yml] [--show-errors] [--rules-only] [--json OUT]

`make safety-eval` runs it on every dev set (written for evaluation only, never trained on). By default the screen
runs as the gateway runs it (rules, then the learned second opinion where they found nothing) and the closing
summary prints each set, and all of them pooled, with and without the second opinion; `--rules-only` measures the
rules alone. The held-out set's texts are never printed: engineers tune on the dev sets and only read its figures.
What the figures mean (issue 13's targets):
- danger to self (gold crisis): share flagged at crisis or concern (target 100 %), share at crisis (≥ 90 %);
- someone else in danger (gold emergency_other): share whose reply carries 119 (crisis or emergency_other; 100 %);
- harmless (gold none): crisis false alarms (≤ 5 %) and concern false alarms (≤ 15 %).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

from handoff.domain.safety import CONCERN, CRISIS, EMERGENCY_OTHER, SafetyScreen
from handoff.domain.safety.learned import CATEGORY as LEARNED
from handoff.settings import DATA_DIR

GOLD_LEVELS = (CRISIS, EMERGENCY_OTHER, CONCERN, "none")
DEV = Path(__file__).parent / "data" / "dev.yml"


def load_items(path: Path) -> list[dict[str, str]]:
    items = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("items") or []
    for i, item in enumerate(items):
        if item.get("level") not in GOLD_LEVELS or not isinstance(item.get("text"), str):
            raise SystemExit(f"{path}: item {i} needs a text and a level in {GOLD_LEVELS}")
    return items


def evaluate(screen: SafetyScreen, items: list[dict[str, str]], rules_only: bool = False) -> dict[str, Any]:
    """Predictions, timings and the figures; pure, so tests can gate on it. `rules_only` leaves out the learned
    second opinion (handoff/domain/safety/learned.py) to show what it adds."""
    preds: list[str] = []
    times: list[float] = []
    learned = 0
    run = screen.rules_only if rules_only else screen.screen
    for item in items:
        start = time.perf_counter()
        result = run(item["text"])
        times.append(time.perf_counter() - start)
        preds.append(result.level or "none")
        learned += result.category == LEARNED
    return {**figures(items, preds, times), "learned_concerns": learned}


def figures(items: list[dict[str, str]], preds: list[str], times: list[float]) -> dict[str, Any]:
    by_gold: dict[str, Counter[str]] = defaultdict(Counter)
    by_cat: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for item, pred in zip(items, preds, strict=True):
        by_gold[item["level"]][pred] += 1
        by_cat[(item["level"], item.get("category") or "-")][pred] += 1

    def share(gold: str, *levels: str) -> float | None:
        total = sum(by_gold[gold].values())
        return sum(by_gold[gold][lv] for lv in levels) / total if total else None

    ms = sorted(t * 1000 for t in times)
    return {
        "n": len(items),
        "self_flagged": share(CRISIS, CRISIS, CONCERN, EMERGENCY_OTHER),
        "self_at_crisis": share(CRISIS, CRISIS),
        "concern_flagged": share(CONCERN, CRISIS, CONCERN, EMERGENCY_OTHER),
        "concern_at_crisis": share(CONCERN, CRISIS),
        "other_119": share(EMERGENCY_OTHER, CRISIS, EMERGENCY_OTHER),
        "other_at_emergency": share(EMERGENCY_OTHER, EMERGENCY_OTHER),
        "none_crisis_fa": share("none", CRISIS, EMERGENCY_OTHER),
        "none_concern_fa": share("none", CONCERN),
        "confusion": {gold: dict(by_gold[gold]) for gold in GOLD_LEVELS},
        "categories": {f"{lv}/{cat}": dict(c) for (lv, cat), c in sorted(by_cat.items())},
        "p50_ms": statistics.median(ms) if ms else 0.0,
        "p95_ms": ms[int(0.95 * (len(ms) - 1))] if ms else 0.0,
        "preds": preds,
    }


def report(name: str, fig: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return "   -  " if v is None else f"{100 * v:5.1f}%"

    lines = [
        f"== {name}: {fig['n']} messages",
        f"danger to self      flagged (crisis|concern) {pct(fig['self_flagged'])}   at crisis "
        f"{pct(fig['self_at_crisis'])}"
        "   (targets 100 % / ≥ 90 %)",
        f"concern             flagged {pct(fig['concern_flagged'])}   raised to crisis {pct(fig['concern_at_crisis'])}",
        f"someone else        119 in the reply {pct(fig['other_119'])}   at emergency_other "
        f"{pct(fig['other_at_emergency'])}   (target 100 %)",
        f"harmless            crisis/119 false alarms {pct(fig['none_crisis_fa'])} (≤ 5 %)   concern "
        f"{pct(fig['none_concern_fa'])} (≤ 15 %)",
        f"latency per message p50 {fig['p50_ms']:.3f} ms   p95 {fig['p95_ms']:.3f} ms   (target p95 < 30 ms)",
        f"concerns added by the learned second opinion: {fig.get('learned_concerns', 0)}",
        "",
        "confusion (rows gold, columns predicted)",
        f"{'':>16}" + "".join(f"{p:>17}" for p in GOLD_LEVELS),
    ]
    for gold in GOLD_LEVELS:
        row = fig["confusion"].get(gold, {})
        lines.append(f"{gold:>16}" + "".join(f"{row.get(p, 0):>17}" for p in GOLD_LEVELS))
    lines += ["", f"{'category':<36}{'n':>4}{'crisis':>8}{'emerg':>7}{'concern':>9}{'none':>6}  ok"]
    for key, c in fig["categories"].items():
        n = sum(c.values())
        gold = key.split("/")[0]
        ok = _ok(gold, c) / n
        lines.append(
            f"{key:<36}{n:>4}{c.get(CRISIS, 0):>8}{c.get(EMERGENCY_OTHER, 0):>7}{c.get(CONCERN, 0):>9}"
            f"{c.get('none', 0):>6}  {100 * ok:5.1f}%"
        )
    return "\n".join(lines)


def _ok(gold: str, c: Counter[str] | dict[str, int]) -> int:
    """What counts as right for a category's row: flagged for danger, 119 for others, no crisis for harmless."""
    if gold == CRISIS:
        return c.get(CRISIS, 0) + c.get(CONCERN, 0) + c.get(EMERGENCY_OTHER, 0)
    if gold == CONCERN:
        return c.get(CONCERN, 0) + c.get(CRISIS, 0)
    if gold == EMERGENCY_OTHER:
        return c.get(EMERGENCY_OTHER, 0) + c.get(CRISIS, 0)
    return c.get("none", 0)


def summary(label: str, fig: dict[str, Any]) -> str:
    """One line of the headline figures, for comparing the screen with and without the learned second opinion."""

    def pct(v: float | None) -> str:
        return "  -  " if v is None else f"{100 * v:5.1f}"

    return (
        f"{label:<34} self flagged {pct(fig['self_flagged'])}  at crisis {pct(fig['self_at_crisis'])}  concern "
        f"flagged {pct(fig['concern_flagged'])}  119 {pct(fig['other_119'])}  crisis FA {pct(fig['none_crisis_fa'])}"
        f"  concern FA {pct(fig['none_concern_fa'])}  p95 {fig['p95_ms']:.2f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=[DEV])
    parser.add_argument("--lexicon", type=Path, default=DATA_DIR / "safety.yml")
    parser.add_argument("--show-errors", action="store_true", help="print misclassified texts (dev set only)")
    parser.add_argument("--rules-only", action="store_true", help="leave out the learned second opinion")
    parser.add_argument("--json", type=Path, help="write the figures of the last set as JSON")
    args = parser.parse_args(argv)
    screen = SafetyScreen.load(args.lexicon)
    fig: dict[str, Any] = {}
    lines: list[str] = []
    pooled: list[dict[str, str]] = []
    for path in args.sets:
        items = load_items(path)
        pooled += items
        screen.screen("warm up")
        fig = evaluate(screen, items, args.rules_only)
        print(report(path.name, fig))
        if args.show_errors and "heldout" not in path.name:
            for item, pred in zip(items, fig["preds"], strict=True):
                if not _ok(item["level"], {pred: 1}):
                    print(f"  {item['level']}/{item.get('category')} → {pred}: {item['text'][:160]!r}")
        print()
        lines += _comparison(screen, path.stem, items, fig, args.rules_only)
    if len(args.sets) > 1:
        lines += _comparison(screen, "pooled", pooled, evaluate(screen, pooled, args.rules_only), args.rules_only)
    print("== summary (shares in %)", *lines, sep="\n")
    if args.json:
        args.json.write_text(json.dumps({k: v for k, v in fig.items() if k != "preds"}, ensure_ascii=False, indent=1))
    return 0


def _comparison(
    screen: SafetyScreen, name: str, items: list[dict[str, str]], fig: dict[str, Any], rules_only: bool
) -> list[str]:
    """The set's headline with the screen as run and, unless --rules-only, with the rules alone beside it."""
    if rules_only:
        return [summary(f"{name} rules only", fig)]
    return [summary(f"{name} with learned", fig), summary(f"{name} rules only", evaluate(screen, items, True))]


if __name__ == "__main__":
    sys.exit(main())
