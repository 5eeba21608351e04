"""Safety screen speed per message: p50/p95/max over typical LINE messages, long care stories and a 5 000-character
message (issue 13's target: p95 < 30 ms per message on this machine). The screen runs on every text before
anything else, so this is on the hot path of every turn.

Run: .venv/bin/python bench/bench_safety.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handoff.domain.safety import SafetyScreen, normalise
from handoff.settings import DATA_DIR

STORY = (
    "お母さんが病気で、毎日ごはんを作ったり弟の面倒をみたりしています。学校の勉強と家のことの両立がしんどいです。"
    "部活もやめることになって、将来のこともよくわからなくなってきた。友だちには言えないし、先生にもどう話していいかわからない。"
)
MESSAGES = [
    "こんにちは。相談してもいいですか？",
    "お母さんが病気で、毎日ごはんを作ったり弟の面倒をみたりしています。",
    "学校の勉強と家のことの両立がしんどいです😢",
    "死ぬほど眠い",
    "ｼﾆﾀｲ",
    "ありがとうございました！また相談します",
    "昨日ODしちゃった",
    "父に殴られる",
    "おばあちゃんが「もう死にたい」って言うのがつらい",
    "i dont wanna wake up tomorrow lol",
    STORY,
    STORY * 2 + "昨日の夜、母の薬を20錠くらい飲んだ。" + STORY,
    (STORY * 40)[:5000],
]


def main(rounds: int = 300) -> None:
    screen = SafetyScreen.load(DATA_DIR / "safety.yml")
    for text in MESSAGES:  # warm up
        screen.screen(text)
    print(f"{'message':<28}{'chars':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}   ({rounds} rounds)")
    everything: list[float] = []
    for text in MESSAGES:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            screen.screen(text)
            times.append((time.perf_counter() - start) * 1000)
        everything += times
        times.sort()
        label = text[:12].replace("\n", " ")
        print(f"{label:<28}{len(text):>6}{statistics.median(times):>9.3f}{times[int(0.95 * len(times))]:>9.3f}"
              f"{times[-1]:>9.3f}")
    everything.sort()
    print(f"{'all messages':<28}{'':>6}{statistics.median(everything):>9.3f}"
          f"{everything[int(0.95 * len(everything))]:>9.3f}{everything[-1]:>9.3f}")
    start = time.perf_counter()
    for _ in range(rounds):
        for text in MESSAGES[:10]:
            normalise(text)
    print(f"normalise alone, short messages: {(time.perf_counter() - start) / (rounds * 10) * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
