"""Information deliveries (issue 17 item 1, ウ): who receives one, what may be sent, and the batches it becomes.

Why segments only from the consented profile: a young person who did not agree to our keeping their answers must
not be picked out by them, so a segment never selects someone without consent; "all friends" needs no profile.
Blocked friends (unfollowed) are never recipients, and are taken out again just before each batch is sent.
The worker sends (handoff/pipeline/broadcasts.py); this module has no LINE client and no clock of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.domain import profile
from handoff.domain.eligibility import MUNICIPALITIES
from handoff.line.messages import MAX_TEXT
from handoff.store.models import Contact
from handoff.store.models_broadcasts import Broadcast, BroadcastBatch
from handoff.store.values import BatchStatus, BroadcastStatus
from handoff.timeutil import TOKYO

BATCH_SIZE = 500  # LINE's multicast takes at most 500 user ids per request
SEGMENT_FIELDS: tuple[str, ...] = ("age_band", "municipality", "care_recipients", "role")
LATEST_SEND = timedelta(days=366)
PAST_GRACE = timedelta(minutes=1)  # a form sent "now" a few seconds late is still "now"


class BroadcastError(ValueError):
    """Input a delivery cannot be made from; `field` and a Japanese reason the console shows as is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class EmptySegment(BroadcastError):
    def __init__(self) -> None:
        super().__init__("segment", "この条件に当てはまる友だちはいません。配信はしていません。")


SEGMENT_VALUES: dict[str, tuple[str, ...]] = {
    field: MUNICIPALITIES if field == "municipality" else profile.values(field) for field in SEGMENT_FIELDS
}


def parse_segment(raw: Any) -> dict[str, list[str]]:
    """`{}` / None / `{"all": true}` = all friends; otherwise field → accepted values (any of them matches)."""
    if raw is None or raw == {} or raw == {"all": True}:
        return {}
    if not isinstance(raw, dict):
        raise BroadcastError("segment", "配信先は項目ごとの値の一覧で指定してください。")
    segment: dict[str, list[str]] = {}
    for field, chosen in raw.items():
        if field not in SEGMENT_FIELDS:
            usable = ", ".join(SEGMENT_FIELDS)
            raise BroadcastError("segment", f"配信先に使えない項目です: {field}（使えるのは {usable}）")
        if not isinstance(chosen, list) or not chosen or not all(isinstance(v, str) for v in chosen):
            raise BroadcastError("segment", f"{field} は値の一覧（1つ以上）で指定してください。")
        unknown = sorted(set(chosen) - set(SEGMENT_VALUES[field]))
        if unknown:
            raise BroadcastError("segment", f"{field} に使えない値です: {', '.join(unknown)}")
        segment[field] = sorted(set(chosen))
    return segment


def check_text(raw: Any) -> str:
    """The text as LINE will take it; refused (not cut) when it is empty or over LINE's limit."""
    if not isinstance(raw, str) or not raw.strip():
        raise BroadcastError("text", "配信する文章を入力してください。")
    length = len(raw.encode("utf-16-le")) // 2  # LINE counts UTF-16 code units
    if length > MAX_TEXT:
        raise BroadcastError("text", f"文章が長すぎます（{length}文字）。LINEで送れるのは{MAX_TEXT}文字までです。")
    return raw


def parse_send_at(raw: Any, now: datetime) -> datetime:
    """None or "" = now; an ISO time with an offset, or without one read as Asia/Tokyo (the console's form)."""
    if raw is None or raw == "":
        return now
    if not isinstance(raw, str):
        raise BroadcastError("send_at", "配信日時は 2026-12-24T18:00 のような形で指定してください。")
    try:
        at = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BroadcastError("send_at", "配信日時は 2026-12-24T18:00 のような形で指定してください。") from None
    at = at.replace(tzinfo=TOKYO) if at.tzinfo is None else at
    if at < now - PAST_GRACE:
        raise BroadcastError("send_at", "配信日時が過ぎています。今より後の日時を指定してください。")
    if at > now + LATEST_SEND:
        raise BroadcastError("send_at", "配信日時は1年以内にしてください。")
    return at


def check_silent(raw: Any) -> bool:
    if raw is None:
        return False
    if not isinstance(raw, bool):
        raise BroadcastError("silent", "silent は true か false で指定してください。")
    return raw


def matches(segment: Mapping[str, list[str]], consent: bool | None, answers: Mapping[str, Any] | None) -> bool:
    """Whether a friend is in the segment: all friends for an empty one, else consented and every field matching."""
    if not segment:
        return True
    if consent is not True:
        return False
    answers = answers or {}
    for field, accepted in segment.items():
        value = answers.get(field)
        given = set(value) if isinstance(value, list) else {value}
        if not given & set(accepted):
            return False
    return True


async def audience(session: AsyncSession, segment: Mapping[str, list[str]]) -> list[str]:
    """LINE user ids of the friends in the segment, oldest friend first (batches are then stable)."""
    rows = await session.execute(
        select(Contact.line_user_id, Contact.consent, Contact.profile)
        .where(Contact.following.is_(True), Contact.line_user_id.like("U%"))
        .order_by(Contact.id)
    )
    return [user for user, consent, answers in rows if matches(segment, consent, answers)]


async def blocked_among(session: AsyncSession, users: Iterable[str]) -> set[str]:
    """Those who have blocked the account since the batch was made."""
    wanted = list(users)
    rows = await session.scalars(
        select(Contact.line_user_id).where(Contact.line_user_id.in_(wanted), Contact.following.is_(False))
    )
    return set(rows)


def validated(body: Mapping[str, Any], now: datetime) -> tuple[str, dict[str, list[str]], datetime, bool]:
    """Text, segment, send time and silence from a request body, or BroadcastError naming the first bad field."""
    return (check_text(body.get("text")), parse_segment(body.get("segment")),
            parse_send_at(body.get("send_at"), now), check_silent(body.get("silent")))


async def create(
    session: AsyncSession, body: Mapping[str, Any], *, author: str, user_id: int | None, now: datetime
) -> Broadcast:
    """Validate a delivery, count its recipients and store it, to be sent at `send_at` by the worker.

    Raises BroadcastError (EmptySegment when nobody matches: nothing is stored and nothing sent)."""
    text, segment, send_at, silent = validated(body, now)
    count = len(await audience(session, segment))
    if count == 0:
        raise EmptySegment()
    broadcast = Broadcast(
        text=text, segment=segment, silent=silent, send_at=send_at, status=BroadcastStatus.SCHEDULED,
        recipients=count, next_attempt_at=send_at, created_by=user_id, author=author[:64], created_at=now,
    )
    session.add(broadcast)
    await session.flush()
    return broadcast


async def start(session: AsyncSession, broadcast: Broadcast, now: datetime) -> None:
    """Fix the recipients when the delivery is due: one batch per 500 friends, each with its own retry key."""
    users = await audience(session, broadcast.segment)
    broadcast.recipients = len(users)
    broadcast.started_at = now
    if not users:
        broadcast.status = BroadcastStatus.EMPTY
        broadcast.finished_at = now
        return
    broadcast.status = BroadcastStatus.SENDING
    for first in range(0, len(users), BATCH_SIZE):
        session.add(BroadcastBatch(
            broadcast_id=broadcast.id, recipients=users[first:first + BATCH_SIZE], retry_key=str(uuid.uuid4()),
            status=BatchStatus.PENDING, attempts=0,
        ))
    await session.flush()


def messages(broadcast: Broadcast, image: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """What LINE receives: one text (LINE makes its links tappable), then the image if it has one."""
    sent: list[dict[str, Any]] = [{"type": "text", "text": broadcast.text}]
    if image is not None:
        sent.append({"type": "image", "originalContentUrl": image[0], "previewImageUrl": image[1]})
    return sent


def cancel(broadcast: Broadcast, now: datetime) -> bool:
    """Stop a delivery that has not finished; batches already accepted by LINE stay sent. False: nothing to stop."""
    if broadcast.status not in (BroadcastStatus.SCHEDULED, BroadcastStatus.PAUSED, BroadcastStatus.SENDING):
        return False
    broadcast.status, broadcast.finished_at = BroadcastStatus.CANCELLED, now
    return True


def resume(broadcast: Broadcast, now: datetime) -> bool:
    """Staff resume a paused delivery before its pause is over: the same batches with the same retry keys."""
    if broadcast.status != BroadcastStatus.PAUSED:
        return False
    broadcast.next_attempt_at = now
    return True


def progress(broadcast: Broadcast, batch_statuses: list[str], image: tuple[str, str] | None = None) -> dict[str, Any]:
    """Status and counts for the console and `GET /api/broadcasts/{id}` (never the LINE ids)."""
    return {
        "id": broadcast.id, "status": broadcast.status, "recipients": broadcast.recipients, "sent": broadcast.sent,
        "skipped_blocked": broadcast.skipped, "failed": broadcast.failed, "silent": broadcast.silent,
        "segment": broadcast.segment, "send_at": broadcast.send_at.astimezone(TOKYO).isoformat(),
        "created_at": broadcast.created_at.astimezone(TOKYO).isoformat(), "author": broadcast.author,
        "finished_at": broadcast.finished_at.astimezone(TOKYO).isoformat() if broadcast.finished_at else None,
        "resumes_at": broadcast.next_attempt_at.astimezone(TOKYO).isoformat()
        if broadcast.status == BroadcastStatus.PAUSED else None,
        "last_error": broadcast.last_error, "text": broadcast.text,
        "image": {"url": image[0], "preview_url": image[1]} if image else None,
        "batches": {str(status): batch_statuses.count(status) for status in BatchStatus},
    }


async def newest(session: AsyncSession, limit: int) -> tuple[int, Sequence[Broadcast]]:
    """How many deliveries there are, and the newest `limit` of them."""
    total = int(await session.scalar(select(func.count(Broadcast.id))) or 0)
    return total, (await session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))).all()


async def batch_statuses(session: AsyncSession, broadcast_id: int) -> list[str]:
    """The status of each multicast batch of one delivery, for its progress."""
    return list(await session.scalars(select(BroadcastBatch.status).where(BroadcastBatch.broadcast_id == broadcast_id)))
