"""Safety alert latency: a LINE webhook with a crisis, emergency or concern message → the staff alert POST and
the user's reply, through the running gateway (fake LINE, stub Rasa: the screen runs before Rasa is asked).

    .venv/bin/python -m bench.bench_alert [--users 40] [--storage sqlite,postgres]

Target (issue 13): webhook → alert p95 under 1 s. Each user sends one message; the clock starts before the fake
LINE signs and posts the webhook and stops when the alert receiver has the alert for that conversation.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.bench_pipeline import pct
from tests.support.databases import database
from tests.support.fullstack import FullStack
from tests.support.receiver import Receiver
from tests.support.servers import free_ports

MESSAGES = {
    "crisis": "もう消えたい。今日で終わりにする",
    "emergency_other": "おばあちゃんが倒れて息してない",
    "concern": "もう限界かも",
}


def run(storage: str, users: int) -> list[tuple[str, float, float, float]]:
    (port,) = free_ports(1)
    receiver = Receiver(port)
    arrived: dict[int, float] = {}
    seen = 0

    def watch() -> None:  # the receiver keeps bodies in arrival order; stamp each as it comes
        nonlocal seen
        while not stop.is_set():
            while seen < len(receiver.bodies):
                arrived[seen] = time.perf_counter()
                seen += 1
            time.sleep(0.001)

    stop = threading.Event()
    threading.Thread(target=watch, daemon=True).start()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, database(storage, Path(tmp)) as url:
        stack = FullStack(Path(tmp), url, real=False, YCC_ALERT_WEBHOOK_URL=receiver.url).start()
        try:
            for i in range(3):  # warm up: first connections, first statements, the stub's first turn
                stack.send(f"Uwarm{i:027x}", "こんにちは")
                stack.stack.wait_delivered(f"Uwarm{i:027x}", 1, settle=False)
            for level, text in MESSAGES.items():
                alerts, replies = [], []
                for i in range(users):
                    before = len(receiver.bodies)
                    user = f"U{level[:4]}{i:028x}"
                    start = time.perf_counter()
                    stack.send(user, text)
                    stack.stack.wait_delivered(user, 1, settle=False)
                    replied = time.perf_counter()
                    receiver.wait(before + 1, timeout=10)
                    while before not in arrived and time.perf_counter() - start < 10:
                        time.sleep(0.001)
                    alerts.append((arrived.get(before, float("nan")) - start) * 1000)
                    replies.append((replied - start) * 1000)
                rows.append((level, statistics.median(alerts), pct(alerts, 0.95), pct(replies, 0.95)))
        finally:
            stop.set()
            stack.stop()
            receiver.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--storage", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"{'storage':<10}{'level':<18}{'alert p50 ms':>13}{'alert p95 ms':>13}{'reply p95 ms':>13}   "
          f"({args.users} users per level; target alert p95 < 1000 ms)")
    for storage in args.storage.split(","):
        for level, p50, p95, reply95 in run(storage, args.users):
            print(f"{storage:<10}{level:<18}{p50:>13.1f}{p95:>13.1f}{reply95:>13.1f}")


if __name__ == "__main__":
    main()
