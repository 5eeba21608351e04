"""Which safety screen should the gateway run? Every candidate of issue 13 on one labelled set, one table.

    .venv/bin/python bench/safety_compare.py [tests/safety/data/dev.yml] [--bot-json OUT.json] [--reuse]

Approaches (docs/decisions/0002-safety-screen.md says what each is and what was chosen):
  a-lex    the lexicon as it was at commit 611313b (crisis or nothing);
  a        a-lex, or the bot's intent `crisis` at or above the FallbackClassifier threshold (config.yml): crisis;
  b        handoff/safety: lexicon + contextual qualifiers (the production screen);
  b+i      b, and the crisis intent alone as concern (what the gateway does with the bot's intent);
  c        b's lexicon hits and level rules, who / past / negation / quotation from a GiNZA dependency parse;
  c-pure   c without b's other cue groups (laughter, fiction, resolved, service ...): the parse alone;
  d-tfidf  char 1-4 TF-IDF + logistic regression trained on bot/data/nlu (crisis vs the rest);
  d-chive  d-tfidf plus the mean chiVe word vector;
  b+d      b, and d-tfidf's crisis as concern where b finds nothing (a possible later combination).
The Rasa/GiNZA/scikit-learn half runs in .venv-bot (bench/safety_compare_bot.py) and is joined here; its JSON
is kept with --bot-json and re-read with --reuse. Latency is per message, in ms, measured in the same run (a
combination costs the sum of its parts). Figures come from tests/safety/evaluate.py's `figures`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handoff.domain.safety import CONCERN, CRISIS, SafetyScreen  # noqa: E402
from handoff.settings import DATA_DIR  # noqa: E402
from tests.safety.evaluate import DEV, _ok, figures, load_items  # noqa: E402

LEGACY = "611313b"
BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"


def legacy_screen(workdir: Path) -> Callable[[str], bool]:
    """The lexicon screen of commit 611313b, loaded from git with its own safety.yml; True means crisis."""

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{LEGACY}:{path}"], check=True, capture_output=True, text=True
        ).stdout

    (workdir / "safety.yml").write_text(show("data/safety.yml"), encoding="utf-8")
    source = show("handoff/domain/safety.py").replace(
        "from handoff.settings import DATA_DIR", "DATA_DIR = Path(__file__).parent  # bench: the copied data file"
    )
    module_path = workdir / "legacy_safety.py"
    module_path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("legacy_safety", module_path)
    assert spec and spec.loader
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules["legacy_safety"] = module
    spec.loader.exec_module(module)
    screen = module.SafetyScreen.load(workdir / "safety.yml")
    return lambda text: bool(screen.screen(text).crisis)


def timed(fn: Callable[[str], Any], texts: list[str]) -> tuple[list[Any], list[float]]:
    fn("warm up")
    out, ms = [], []
    for text in texts:
        start = time.perf_counter()
        out.append(fn(text))
        ms.append((time.perf_counter() - start) * 1000)
    return out, ms


def fallback_threshold() -> float:
    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    return float(next(c["threshold"] for c in pipeline if c["name"] == "FallbackClassifier"))


def bot_half(items_path: Path, out: Path, reuse: bool) -> dict[str, Any]:
    if not (reuse and out.exists()):
        env = {"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}
        subprocess.run(
            [str(BOT_PYTHON), str(ROOT / "bench" / "safety_compare_bot.py"), str(items_path), str(out)],
            check=True,
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return json.loads(out.read_text(encoding="utf-8"))


def approaches(items: list[dict[str, str]], bot: dict[str, Any]) -> dict[str, tuple[list[str], list[float]]]:
    """Predicted level and ms per message for every approach."""
    texts = [i["text"] for i in items]
    with tempfile.TemporaryDirectory() as tmp:
        legacy, legacy_ms = timed(legacy_screen(Path(tmp)), texts)
    screen = SafetyScreen.load(DATA_DIR / "safety.yml")
    new, new_ms = timed(lambda t: screen.screen(t).level or "none", texts)
    rows: dict[str, tuple[list[str], list[float]]] = {
        "a-lex": ([CRISIS if x else "none" for x in legacy], legacy_ms),
        "b": (new, new_ms),
    }
    if "intent" in bot:
        threshold = fallback_threshold()
        said = [r["name"] == "crisis" and r["conf"] >= threshold for r in bot["intent"]]
        intent_ms = [r["ms"] for r in bot["intent"]]
        both = [a + b for a, b in zip(legacy_ms, intent_ms, strict=True)]
        rows["a"] = ([CRISIS if x or s else "none" for x, s in zip(legacy, said, strict=True)], both)
        rows["b+i"] = (
            [CONCERN if lv == "none" and s else lv for lv, s in zip(new, said, strict=True)],
            [a + b for a, b in zip(new_ms, intent_ms, strict=True)],
        )
    for key, name in (("parse", "c"), ("parse_pure", "c-pure"), ("tfidf", "d-tfidf"), ("tfidf_chive", "d-chive")):
        rows[name] = ([r["level"] for r in bot[key]], [r["ms"] for r in bot[key]])
    rows["b+d"] = (
        [CONCERN if lv == "none" and d == CRISIS else lv for lv, d in zip(new, rows["d-tfidf"][0], strict=True)],
        [a + b for a, b in zip(new_ms, rows["d-tfidf"][1], strict=True)],
    )
    order = ["a-lex", "a", "b", "b+i", "c", "c-pure", "d-tfidf", "d-chive", "b+d"]
    return {name: rows[name] for name in order if name in rows}


def table(figs: dict[str, dict[str, Any]]) -> str:
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}"

    head = (
        "approach",
        "self flagged",
        "self@crisis",
        "concern flagged",
        "other 119",
        "none crisis FA",
        "none concern FA",
        "p50 ms",
        "p95 ms",
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, f in figs.items():
        cells = (
            name,
            pct(f["self_flagged"]),
            pct(f["self_at_crisis"]),
            pct(f["concern_flagged"]),
            pct(f["other_119"]),
            pct(f["none_crisis_fa"]),
            pct(f["none_concern_fa"]),
            f"{f['p50_ms']:.2f}",
            f"{f['p95_ms']:.2f}",
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def slices(figs: dict[str, dict[str, Any]]) -> str:
    """Per category, share right (evaluate.py's rule), only where some approach differs from b."""
    names = list(figs)
    lines = ["| category | n | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 2)]
    for cat, base in figs["b"]["categories"].items():
        n = sum(base.values())
        oks = [_ok(cat.split("/")[0], figs[name]["categories"].get(cat, {})) for name in names]
        if len(set(oks)) > 1:
            lines.append(f"| {cat} | {n} | " + " | ".join(str(k) for k in oks) + " |")
    return "\n".join(lines)


def sweep(items: list[dict[str, str]], bot: dict[str, Any], b: list[str]) -> str:
    """b+i with the intent counted only from a confidence on: what the intent adds to b, and what it costs."""
    lines = ["| intent ≥ | self flagged | concern flagged | none concern FA |", "|---|---|---|---|"]
    for threshold in (fallback_threshold(), 0.7, 0.8, 0.9, 0.99):
        said = [r["name"] == "crisis" and r["conf"] >= threshold for r in bot["intent"]]
        f = figures(items, [CONCERN if lv == "none" and s else lv for lv, s in zip(b, said, strict=True)], [0.0])
        cells = (f["self_flagged"], f["concern_flagged"], f["none_concern_fa"])
        lines.append(f"| {threshold:g} | " + " | ".join(f"{100 * v:.1f}" for v in cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", nargs="?", type=Path, default=DEV)
    parser.add_argument("--bot-json", type=Path, default=Path(tempfile.gettempdir()) / "safety_compare_bot.json")
    parser.add_argument("--reuse", action="store_true", help="re-read --bot-json instead of running the bot half")
    parser.add_argument("--slices", action="store_true", help="also print categories where approaches differ")
    parser.add_argument("--sweep", action="store_true", help="also print b+i for several intent confidences")
    args = parser.parse_args(argv)
    if "heldout" in args.set.name:
        raise SystemExit("the held-out set is for the final report only (make safety-eval), not for comparisons")
    items = load_items(args.set)
    bot = bot_half(args.set, args.bot_json, args.reuse)
    runs = approaches(items, bot)  # figures() takes seconds
    figs = {name: figures(items, preds, [m / 1000 for m in ms]) for name, (preds, ms) in runs.items()}
    print(f"{args.set.name}: {len(items)} messages; shares in %; {json.dumps(bot.get('meta'), ensure_ascii=False)}")
    print(table(figs))
    if args.slices:
        print("\nright per category (count), where approaches differ\n" + slices(figs))
    if args.sweep and "intent" in bot:
        print("\nb + the crisis intent alone as concern, by intent confidence\n" + sweep(items, bot, runs["b"][0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
