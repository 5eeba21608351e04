"""Garbage-collector settings for the gateway's long-running processes.

Why: after start-up each process holds objects that live as long as it does (SQLAlchemy mappers, line-bot-sdk's
pydantic models, Sanic's router, the loaded content). With CPython's defaults every older-generation collection
walks them again, and those pauses were the webhook's slowest acknowledgements: at 300 events/s on SQLite (one
process) p99 went from 69–111 ms to 30–35 ms with these settings (bench/bench_pipeline.py, alternating runs).
`gc.freeze()` moves what exists at start-up out of the collector's sight; a larger first-generation threshold
makes young collections rarer, and cycles in request garbage are still collected.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 50, 1_000)


def tune_gc() -> None:
    """Call once, after start-up (resources opened), before serving."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
