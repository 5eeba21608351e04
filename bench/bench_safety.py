"""Crisis screen speed: µs per message over a mix of typical LINE messages (target < 50 µs).

Run: .venv/bin/python bench/bench_safety.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handoff.safety import SafetyScreen, normalise
from handoff.settings import DATA_DIR

MESSAGES = [
    "こんにちは。相談してもいいですか？",
    "お母さんが病気で、毎日ごはんを作ったり弟の面倒をみたりしています。",
    "学校の勉強と家のことの両立がしんどいです😢",
    "死ぬほど眠い",
    "おばあちゃんの介護で部活をやめることになって、将来のこともよくわからなくなってきた",
    "ｼﾆﾀｲ",
    "ありがとうございました！また相談します",
    "昨日ODしちゃった",
    "父に殴られる",
    "友だちに言えないことがあって、誰かに話を聞いてほしいです。夜になると不安になります。",
]


def main(rounds: int = 20000) -> None:
    lexicon = SafetyScreen.load(DATA_DIR / "safety.yml")
    for text in MESSAGES:  # warm up
        lexicon.screen(text)
    rows = []
    for label, fn in (("normalise", normalise), ("screen", lexicon.screen)):
        start = time.perf_counter()
        for _ in range(rounds):
            for text in MESSAGES:
                fn(text)
        elapsed = time.perf_counter() - start
        rows.append((label, elapsed / (rounds * len(MESSAGES)) * 1e6))
    avg_len = sum(map(len, MESSAGES)) / len(MESSAGES)
    print(f"{'step':<10} {'µs/message':>10}   ({len(MESSAGES)} messages, avg {avg_len:.0f} chars, {rounds} rounds)")
    for label, micros in rows:
        print(f"{label:<10} {micros:>10.2f}")


if __name__ == "__main__":
    main()
