"""A known October 2026 for the work log tests (R21), written straight into the tables the gateway fills.

Times are JST. The cases that matter: an event at 23:59 and one at 00:01 JST the next day (the same UTC date, so a
log that counts by UTC date puts both on one day), events either side of the month's ends, a wait that began in
September and ended on 1 October, a release and second take-over that must not count as a second wait, and an
internal note by a supervisor that must not count as handling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.store.models import Contact, Conversation, Escalation, Message, Record, StatusChange, User
from handoff.store.models_worklog import WorklogNote
from handoff.timeutil import TOKYO

MONTH = date(2026, 10, 1)


def jst(month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO)


@dataclass
class Seeded:
    yamada: str
    sato: str
    line_ids: list[str]


async def seed_october(session: AsyncSession, tag: str) -> Seeded:
    """Idempotent per database: a second call with any tag finds the first seeding and returns its names."""
    existing = await session.scalar(select(User).where(User.name.like("wl_yamada_%")))
    if existing is not None:
        tag = existing.name.removeprefix("wl_yamada_")
        ids = (await session.scalars(select(Contact.line_user_id).where(Contact.key.like(f"wl{tag}%")))).all()
        return Seeded(f"wl_yamada_{tag}", f"wl_sato_{tag}", list(ids))
    yamada = User(name=f"wl_yamada_{tag}", display_name="山田", role="counsellor", password_hash="x")
    sato = User(name=f"wl_sato_{tag}", display_name="佐藤", role="counsellor", password_hash="x")
    boss = User(name=f"wl_boss_{tag}", display_name="主任", role="supervisor", password_hash="x")
    session.add_all([yamada, sato, boss])
    await session.flush()
    line_ids: list[str] = []

    async def conversation(letter: str) -> Conversation:
        line_id = f"U{tag}{letter}".ljust(33, "0")
        line_ids.append(line_id)
        contact = Contact(key=f"wl{tag}{letter}", line_user_id=line_id, created_at=jst(9, 1, 0, 0))
        session.add(contact)
        await session.flush()
        row = Conversation(contact_id=contact.id, status="bot", created_at=jst(9, 1, 0, 0),
                           updated_at=jst(9, 1, 0, 0))
        session.add(row)
        await session.flush()
        return row

    def msg(c: Conversation, at: datetime, direction: str, sender: str, kind: str = "text",
            agent: User | None = None, internal: bool = False) -> None:
        session.add(Message(conversation_id=c.id, direction=direction, sender=sender, kind=kind,
                            text="本文はログに載らない" if kind == "text" else None, event_at=at, created_at=at,
                            agent_id=agent.id if agent else None, internal=internal))

    def move(c: Conversation, at: datetime, old: str, new: str, actor: str, reason: str) -> None:
        session.add(StatusChange(conversation_id=c.id, from_status=old, to_status=new, actor=actor, reason=reason,
                                 at=at))

    a, b, cc, d, e, f, g = [await conversation(x) for x in "abcdefg"]
    # A, Monday 5 Oct: writes at 23:59 (off hours), the bot answers; nothing else.
    msg(a, jst(10, 5, 23, 59), "in", "user", "follow")
    msg(a, jst(10, 5, 23, 59), "in", "user")
    msg(a, jst(10, 5, 23, 59), "out", "bot")
    # B, Tuesday 6 Oct: friend at 00:01 (same UTC date as A's 23:59), asks for a person, Yamada after 10 minutes.
    msg(b, jst(10, 6, 0, 1), "in", "user", "follow")
    msg(b, jst(10, 6, 12, 0), "in", "user")
    msg(b, jst(10, 6, 12, 0), "out", "bot")
    move(b, jst(10, 6, 12, 0), "bot", "queued", "system", "handoff_request")
    move(b, jst(10, 6, 12, 10), "queued", "open", yamada.name, "claim")
    msg(b, jst(10, 6, 12, 11), "out", "agent", agent=yamada)
    session.add(Record(conversation_id=b.id, author_id=yamada.id, created_at=jst(10, 6, 12, 40), topics=["school"],
                       care_recipients=["mother"], summary="学校と介護の両立"))
    move(b, jst(10, 6, 12, 40), "open", "resolved", yamada.name, "resolved")
    # C, 6 Oct: crisis, Sato after 30 minutes, a supervisor's internal note, released, Yamada takes it again.
    msg(cc, jst(10, 6, 13, 0), "in", "user")
    session.add(Escalation(conversation_id=cc.id, opened_at=jst(10, 6, 13, 0), source="lexicon", in_hours=True))
    move(cc, jst(10, 6, 13, 0), "bot", "queued", "system", "crisis")
    move(cc, jst(10, 6, 13, 30), "queued", "open", sato.name, "claim")
    msg(cc, jst(10, 6, 13, 31), "out", "agent", agent=sato)
    msg(cc, jst(10, 6, 13, 35), "out", "agent", "note", agent=boss, internal=True)
    move(cc, jst(10, 6, 13, 40), "open", "queued", sato.name, "release")
    move(cc, jst(10, 6, 13, 45), "queued", "open", yamada.name, "claim")
    msg(cc, jst(10, 6, 13, 46), "out", "agent", agent=yamada)
    msg(cc, jst(10, 6, 21, 0), "in", "user", "sticker")
    # D: blocks at 23:59 on 31 Oct, adds the account again at 00:01 on 1 Nov.
    msg(d, jst(10, 31, 23, 59), "in", "user", "unfollow")
    msg(d, jst(11, 1, 0, 1), "in", "user", "follow")
    # E: queued at 19:50 on 30 Sep, taken at 11:05 on 1 Oct (915 minutes): counted on 1 Oct.
    move(e, jst(9, 30, 19, 50), "bot", "queued", "system", "handoff_request")
    move(e, jst(10, 1, 11, 5), "queued", "open", yamada.name, "claim")
    # G, 7 Oct: adds the account and gets the bot's greeting, writes nothing: a friend, not a bot-only talk.
    msg(g, jst(10, 7, 9, 0), "in", "user", "follow")
    msg(g, jst(10, 7, 9, 0), "out", "bot")
    # F: friend at 23:59 on 30 Sep: September's.
    msg(f, jst(9, 30, 23, 59), "in", "user", "follow")
    session.add(WorklogNote(day=date(2026, 10, 6), text="危機対応1件。県に電話で報告済み。", author_id=boss.id,
                            updated_at=jst(10, 6, 22, 0)))
    await session.flush()
    return Seeded(yamada.name, sato.name, line_ids)


def seed_gateway(database_url: str) -> Seeded:
    """Seed a running gateway's database from a test (in a thread: sync Playwright owns this thread's loop)."""
    import asyncio
    import secrets
    from concurrent.futures import ThreadPoolExecutor

    from handoff.settings import normalise_database_url
    from handoff.store.db import Database

    async def run() -> Seeded:
        db = Database(normalise_database_url(database_url))
        try:
            async with db.session() as session:
                return await seed_october(session, secrets.token_hex(3))
        finally:
            await db.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(run())).result()
