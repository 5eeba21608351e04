"""`ycc forget-withdrawn` (issue 18.1): what a contact told the bot before withdrawing consent leaves Rasa's tracker,
on SQLite and PostgreSQL; what came after stays, other contacts are untouched, a contact still talking is left for
the next run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from handoff.lifecycle import trackers
from handoff.lifecycle.withdrawn import forget_withdrawn
from handoff.settings import Settings
from tests.handoff.lifecycle_data import AT, seed, settings_for, write_tracker_events
from tests.support.databases import execute, rows

WITHDRAWN_AT = AT + timedelta(hours=1)
NOW = AT + timedelta(days=1)


def _sync(url: str) -> str:
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg2")


def _events(settings: Settings, said: list[tuple[str, datetime]]) -> trackers.Store:
    return write_tracker_events(settings, [
        {"sender_id": sender, "type_name": "slot", "timestamp": at.timestamp(),
         "data": json.dumps({"event": "slot", "name": "age_band"})} for sender, at in said])


def _left(store: trackers.Store) -> list[tuple[str, float]]:
    table = f'"{store.schema}".events' if store.schema else "events"
    return [(r["sender_id"], r["timestamp"]) for r in
            rows(_sync(store.url), f"SELECT sender_id, timestamp FROM {table} ORDER BY id")]


def _withdraw(url: str, key: str, line_user: str, seen: datetime) -> None:
    execute(url, "INSERT INTO contacts (key, line_user_id, created_at, following, consent, consent_at, profile, "
            "eligibility, last_seen_at) VALUES (:k, :u, :at, true, false, :w, '{}', 'unknown', :seen)",
            k=key, u=line_user, at=AT, w=WITHDRAWN_AT, seen=seen)
    contact_id = rows(url, "SELECT id FROM contacts WHERE key = :k", k=key)[0]["id"]
    for granted, at in ((True, AT), (False, WITHDRAWN_AT)):
        execute(url, "INSERT INTO consent_events (contact_id, granted, at, source) VALUES (:c, :g, :at, 'bot')",
                c=contact_id, g=granted, at=at)


async def test_the_events_before_a_withdrawal_are_forgotten_and_the_rest_kept(db_url: str, tmp_path: Path) -> None:
    await seed(db_url)  # contact c-7f3a: consent given and kept
    _withdraw(db_url, "c-gone", "U" + "1" * 32, seen=WITHDRAWN_AT)
    _withdraw(db_url, "c-talking", "U" + "2" * 32, seen=NOW - timedelta(minutes=5))
    settings = settings_for(db_url, tmp_path)
    before, after = WITHDRAWN_AT - timedelta(minutes=10), WITHDRAWN_AT + timedelta(seconds=1)
    store = _events(settings, [("c-gone", before), ("c-gone", before), ("c-gone", after),
                               ("c-7f3a", before), ("c-talking", before)])

    result = await forget_withdrawn(settings, NOW)

    assert (result.contacts, result.events, result.waiting) == (1, 2, 1)
    assert _left(store) == [("c-gone", after.timestamp()), ("c-7f3a", before.timestamp()),
                            ("c-talking", before.timestamp())]
    again = await forget_withdrawn(settings, NOW + timedelta(hours=1))  # c-talking is idle by now
    assert (again.contacts, again.events, again.waiting) == (2, 1, 0)
    assert [sender for sender, _ in _left(store)] == ["c-gone", "c-7f3a"]


async def test_nothing_to_forget_when_rasa_never_wrote_a_tracker(sqlite_url: str, tmp_path: Path) -> None:
    await seed(sqlite_url)
    _withdraw(sqlite_url, "c-gone", "U" + "1" * 32, seen=WITHDRAWN_AT)
    settings = settings_for(sqlite_url, tmp_path)
    result = await forget_withdrawn(settings, NOW.astimezone(UTC))
    assert (result.contacts, result.events) == (1, 0)
    store = trackers.locate(settings)
    assert store is not None and store.sqlite_file is not None and not store.sqlite_file.exists()
