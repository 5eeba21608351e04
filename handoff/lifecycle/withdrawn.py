"""`ycc forget-withdrawn`: what a contact told the bot before withdrawing consent leaves Rasa's trackers too.

Withdrawing consent makes the gateway forget the profile (handoff/domain/contacts.py) and the bot reset its slots
(actions/consent.py), but Rasa's tracker still holds the earlier events: the profile answers as slot values and the
turns that gave them. This deletes, per contact who withdrew (consent false after a grant), the tracker events older
than the withdrawal (`contacts.consent_at`); what came after it stays, so Rasa still knows where the conversation
is (the reset slots, a question in progress).

Not done while Rasa answers that contact: Rasa reads a tracker at the start of a turn and at its end appends the
events it counts as missing, so a delete in between would be written back. Contacts heard from within `idle` are
left for the next run (a timer, e.g. hourly, is enough; idempotent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.pool import NullPool

from handoff.lifecycle import trackers
from handoff.settings import Settings
from handoff.store.db import new_engine
from handoff.store.models import ConsentEvent, Contact

IDLE = timedelta(minutes=30)


@dataclass(frozen=True)
class Forgotten:
    contacts: int
    events: int
    waiting: int  # withdrawn, but heard from within `idle`: left for the next run


async def withdrawn_since(settings: Settings, now: datetime, idle: timedelta) -> tuple[dict[str, float], int]:
    """Contact key → withdrawal time (epoch) of those idle for `idle`; and how many are not idle yet."""
    granted_once = select(ConsentEvent.id).where(ConsentEvent.contact_id == Contact.id, ConsentEvent.granted)
    query = select(Contact.key, Contact.consent_at, Contact.last_seen_at).where(
        Contact.consent.is_(False), Contact.consent_at.is_not(None), granted_once.exists())
    engine = new_engine(settings.database_url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            found = (await conn.execute(query)).all()
    finally:
        await engine.dispose()
    ready = {r.key: r.consent_at.timestamp() for r in found if r.last_seen_at is None or r.last_seen_at <= now - idle}
    return ready, len(found) - len(ready)


async def forget_withdrawn(settings: Settings, now: datetime, idle: timedelta = IDLE) -> Forgotten:
    store = trackers.locate(settings)
    before, waiting = await withdrawn_since(settings, now, idle)
    if store is None or not before or not trackers.exists(store):
        return Forgotten(len(before), 0, waiting)
    engine = new_engine(store.url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            deleted = await conn.run_sync(trackers.forget_before, store, before)
    finally:
        await engine.dispose()
    return Forgotten(len(before), deleted, waiting)
