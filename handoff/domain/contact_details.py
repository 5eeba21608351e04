"""Contact details asked for in a crisis (R13, issue 16.4): what the form holds, and how it is sealed at rest.

Why sealed and not just stored: the answers (a minor's name, phone, where they are now) are the most sensitive
data the service ever holds, and a database backup or an export travels further than the application. They are
encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under keys from the environment (`YCC_CONTACT_KEYS`, checked at
start-up in handoff/settings.py; the first encrypts, all decrypt), so a dump without the keys holds only tokens.
Rotation: put a new key first, run `ycc contacts rotate-key`, then drop the old key (docs/deploy.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.store.models_contact import ContactDetails
from handoff.store.types import utcnow

# Field id → (the label the young person reads, the longest answer kept). Ordered as the form shows them.
FIELDS: dict[str, tuple[str, int]] = {
    "name": ("名前（呼んでほしい名前でもOK）", 60),
    "phone": ("電話番号", 20),
    "whereabouts": ("住所、またはいまいる場所", 200),
    "school": ("学校", 60),
    "with_whom": ("いま一緒にいる人", 100),
}
_PHONE = re.compile(r"^\+?[0-9０-９][0-9０-９\-‐ー－ ()（）]{5,18}$")
REQUESTED, SUBMITTED = "requested", "submitted"


class DetailsInvalid(ValueError):
    """Field id → a short Japanese reason the young person reads under the field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


def new_key() -> str:
    return Fernet.generate_key().decode()


@dataclass(frozen=True)
class Sealer:
    keys: tuple[str, ...]

    def _fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(k.encode()) for k in self.keys])

    def seal(self, answers: dict[str, str]) -> bytes:
        return self._fernet().encrypt(json.dumps(answers, ensure_ascii=False).encode("utf-8"))

    def unseal(self, token: bytes) -> dict[str, str] | None:
        """None when no configured key opens it (a key dropped before `rotate-key` ran): shown as unreadable."""
        try:
            return dict(json.loads(self._fernet().decrypt(bytes(token))))
        except InvalidToken:
            return None

    def rotate(self, token: bytes) -> bytes:
        return self._fernet().rotate(bytes(token))


def validate(body: Any) -> dict[str, str]:
    """The answers as stored: known fields only, trimmed, within length; at least one given; a phone that is one."""
    if not isinstance(body, dict):
        raise DetailsInvalid({"form": "フォームの内容を送ってください。"})
    problems: dict[str, str] = {}
    answers: dict[str, str] = {}
    for name, (_label, limit) in FIELDS.items():
        value = body.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str) or "\x00" in value or _has_lone_surrogate(value):
            problems[name] = "文字で書いてください。"
            continue
        value = value.strip()
        if len(value) > limit:
            problems[name] = f"{limit}文字までで書いてください。"
        elif name == "phone" and value and not _PHONE.match(value):
            problems[name] = "数字とハイフンで書いてください（例：090-1234-5678）。"
        elif value:
            answers[name] = value
    if not problems and not answers:
        problems["form"] = "わかるところだけで大丈夫なので、ひとつ以上書いてください。"
    if problems:
        raise DetailsInvalid(problems)
    return answers


def _has_lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def form_fields() -> list[dict[str, Any]]:
    """What a form renders: id, label, maximum length."""
    return [{"name": name, "label": label, "max_length": limit} for name, (label, limit) in FIELDS.items()]


async def open_request(session: AsyncSession, conversation_id: int, requested_by: int | None) -> ContactDetails:
    """A counsellor asks; the form is what the secure chat then shows the young person (one open request at a time:
    asking again while one is unanswered returns that one)."""
    waiting = await pending(session, conversation_id)
    if waiting is not None:
        return waiting
    request = ContactDetails(conversation_id=conversation_id, requested_by=requested_by, requested_at=utcnow(),
                             status=REQUESTED)
    session.add(request)
    await session.flush()
    return request


async def pending(session: AsyncSession, conversation_id: int) -> ContactDetails | None:
    """The request still waiting for an answer, if any: the secure chat shows its form while there is one."""
    return await session.scalar(select(ContactDetails).where(
        ContactDetails.conversation_id == conversation_id, ContactDetails.status == REQUESTED)
        .order_by(ContactDetails.id.desc()).limit(1))


async def submit(session: AsyncSession, sealer: Sealer, conversation_id: int, body: Any) -> ContactDetails:
    """The young person's answers to the open request of their conversation, sealed before they reach the row.

    Raises DetailsInvalid (field → reason) and LookupError when nothing was asked (the form is not shown then)."""
    answers = validate(body)
    request = await pending(session, conversation_id)
    if request is None:
        raise LookupError("no contact details were asked for in this conversation")
    request.sealed, request.status, request.submitted_at = sealer.seal(answers), SUBMITTED, utcnow()
    return request


async def for_conversation(session: AsyncSession, sealer: Sealer | None, conversation_id: int
                           ) -> list[dict[str, Any]]:
    """Every request of a conversation, newest first, with the answers opened (`unreadable` when no key opens
    them); times as aware datetimes for the caller to show."""
    rows = await session.scalars(select(ContactDetails).where(ContactDetails.conversation_id == conversation_id)
                                 .order_by(ContactDetails.id.desc()))
    items = []
    for row in rows:
        answers = sealer.unseal(row.sealed) if sealer is not None and row.sealed is not None else None
        items.append({
            "id": row.id, "status": row.status, "requested_at": row.requested_at, "submitted_at": row.submitted_at,
            "unreadable": row.sealed is not None and answers is None,
            "answers": [{"name": n, "label": FIELDS[n][0], "value": v} for n, v in (answers or {}).items()
                        if n in FIELDS],
        })
    return items


async def rotate_all(session: AsyncSession, sealer: Sealer) -> int:
    """Re-seal every answer under the newest key (`ycc contacts rotate-key`); returns how many rows changed."""
    rows = list(await session.scalars(select(ContactDetails).where(ContactDetails.sealed.is_not(None))))
    for row in rows:
        assert row.sealed is not None
        row.sealed = sealer.rotate(row.sealed)
    return len(rows)
