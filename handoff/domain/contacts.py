"""Contacts: the LINE user behind a conversation, with consent and the consented profile (R20)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain import profile
from handoff.domain.eligibility import assess
from handoff.store.models import ConsentEvent, Contact, Conversation, Record

# The accepted values per field (handoff/domain/profile.yml); municipality (None) is checked against data/services.yml.
PROFILE_FIELDS: dict[str, set[str] | None] = {
    field: None if vocabulary is None else set(vocabulary) for field, vocabulary in profile.FIELDS.items()
}
LIST_FIELDS = profile.LIST_FIELDS
SEEN_STEP = timedelta(minutes=1)


class ProfileError(ValueError):
    pass


def new_contact(line_user_id: str, at: datetime) -> Contact:
    """A contact for a LINE user heard from for the first time; the caller's flush stores it (seen now, so
    `seen` has nothing to update in the same turn)."""
    return Contact(
        key="c-" + secrets.token_hex(8), line_user_id=line_user_id, created_at=at, last_seen_at=at, profile={}
    )


def seen(contact: Contact, at: datetime) -> None:
    """Record when the user was last heard from, to the minute: every turn would otherwise rewrite the contact
    row for a time nobody needs to the second (the conversation keeps the exact time of the last message)."""
    if contact.last_seen_at is None or at - contact.last_seen_at >= SEEN_STEP:
        contact.last_seen_at = at


async def contact_by_key(session: AsyncSession, key: str) -> Contact | None:
    return await session.scalar(select(Contact).where(Contact.key == key))


async def with_returning(session: AsyncSession, key: str) -> tuple[Contact, bool] | None:
    """The contact and whether they are returning, in one query: the bot asks on every greeting, while the user
    waits."""
    row = (await session.execute(select(Contact, returning(Contact.id)).where(Contact.key == key))).first()
    return None if row is None else (row[0], bool(row[1]))


async def conversation_of(session: AsyncSession, contact_id: int) -> Conversation | None:
    """The contact's one conversation (a contact has at most one; it is reused across visits)."""
    return await session.scalar(select(Conversation).where(Conversation.contact_id == contact_id))


async def set_consent(session: AsyncSession, contact: Contact, granted: bool, at: datetime, source: str) -> None:
    """Store the decision with its time; withdrawing also forgets the profile collected under it."""
    contact.consent = granted
    contact.consent_at = at
    if not granted:
        contact.profile = {}
        contact.eligibility = "unknown"
    session.add(ConsentEvent(contact_id=contact.id, granted=granted, at=at, source=source))
    await session.flush()


def set_profile_field(contact: Contact, field: str, value: Any, municipalities: list[str]) -> None:
    """Validate one answer (None = skipped) and recompute eligibility from the whole profile."""
    if field not in PROFILE_FIELDS:
        raise ProfileError(f"unknown profile field {field!r}")
    allowed = PROFILE_FIELDS[field] if field != "municipality" else set(municipalities)
    if value is not None:
        values = value if isinstance(value, list) else [value]
        if field not in LIST_FIELDS and isinstance(value, list):
            raise ProfileError(f"{field} takes one value")
        bad = [v for v in values if not isinstance(v, str) or (allowed is not None and v not in allowed)]
        if bad:
            raise ProfileError(f"{field}: not an allowed value: {bad!r}")
    profile = dict(contact.profile or {})
    profile[field] = value
    contact.profile = profile
    contact.eligibility = assess(profile).level


def returning(contact_id: ColumnElement[int]) -> Exists:
    """A returning user: a counsellor has written a consultation record for one of the contact's conversations
    before. The bot greets them back and the console marks them 再相談; both ask this, as a correlated EXISTS on
    the contact id of the row they are reading."""
    return (
        select(Record.id)
        .join(Conversation, Conversation.id == Record.conversation_id)
        .where(Conversation.contact_id == contact_id)
        .exists()
    )
