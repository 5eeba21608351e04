"""A known November 2026 for the monthly statistics tests (issue 17 item 6), written straight into the tables.

Times are JST; hours are the default policy (weekdays 11:00–20:00). Each person is one line below, so every
expected figure in tests/console/test_statistics.py can be traced to the rows that make it:

p1  returning (wrote in October); 2 Nov 12:00 two texts, queued, taken after 5 min, resolved after 15; record
    school+care_burden, a referral, follow-up.
p2  new friend 2 Nov 10:00; 13:00 two texts (the second flagged emergency_other, a case opened), wait 20, 5 min.
p3  new friend 4 Nov 20:59; 21:00 text off hours (concern), queued off hours, taken 5 Nov 11:10, resolved after
    100 min; writes again 5 Nov 11:15 (in hours). Record care_burden, follow-up.
p4  guardian; 5 Nov 14:00 crisis (case opened), wait 2, resolved after 60 min; record health, a referral.
p5  consent withdrawn (a stale profile that must not be counted); 6 Nov 15:00, queued, nobody took it, back to
    the bot at 15:30: the one unanswered request.
p6  returning, only an age band; 9 Nov 10:00 (before opening), the bot answers: bot only.
p7  adds the account 1 Nov 00:01 (still 31 Oct in UTC), blocks 30 Nov 23:59.
p8  adds the account 31 Oct 23:59 and writes 1 Dec 00:01: neither is November's.
p9  16 Nov 19:50 queued, taken at 19:58 (wait 8), released 20:05, taken again 20:10 (the same request), resolved
    20:30 (32 min from the first take-over); record relationships.
p10 30 Nov 19:30 queued, answered 1 Dec 11:05 (wait 935 min, counted in November), resolved 11:30 (25 min).
p11 queued on 30 Oct, answered and resolved 2 Nov: October's request, but its record (career) is November's.
LINE's insight: 412 followers, 301 targeted reaches, 2 blocks on 27 Nov, the last day counted.
Referrals: p1's to a municipal office (connected), p4's to a 児童相談所 (open); p11's in October.
Surveys: p1's answered (helped, will) with a comment (standing in: p1's 12:01 message), p2's sent and not answered.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.store.models import Contact, Conversation, Escalation, Message, Record, StatusChange, User
from handoff.store.models_insight import FollowerInsight
from handoff.store.models_referral import Referral
from handoff.store.models_survey import Survey
from handoff.timeutil import TOKYO

MONTH = date(2026, 11, 1)


def jst(month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO)


def _profile(age: str, gender: str, town: str, care: list[str], role: str) -> dict[str, Any]:
    return {"age_band": age, "gender": gender, "municipality": town, "care_recipients": care, "role": role}


PROFILES: dict[str, tuple[bool | None, dict[str, Any]]] = {
    "p1": (True, _profile("16_18", "female", "金沢市", ["mother"], "self")),
    "p2": (True, _profile("16_18", "female", "金沢市", ["mother", "grandparent"], "self")),
    "p3": (True, _profile("16_18", "male", "白山市", ["sibling"], "self")),
    "p4": (True, _profile("19_22", "other", "金沢市", ["father"], "guardian")),
    "p5": (False, {"age_band": "30_39"}),
    "p6": (True, {"age_band": "13_15"}),
    "p9": (True, _profile("23_29", "female", "野々市市", ["mother"], "self")),
    "p10": (True, _profile("16_18", "female", "金沢市", ["mother"], "self")),
}
# (who, when, kind, risk level) for what users sent; "agent"/"bot" rows are the other side.
IN = [
    ("p1", jst(10, 20, 12, 0), "text", None), ("p1", jst(11, 2, 12, 0), "text", None),
    ("p1", jst(11, 2, 12, 1), "text", None),
    ("p2", jst(11, 2, 10, 0), "follow", None), ("p2", jst(11, 2, 13, 0), "text", None),
    ("p2", jst(11, 2, 13, 1), "text", "emergency_other"),
    ("p3", jst(11, 4, 20, 59), "follow", None), ("p3", jst(11, 4, 21, 0), "text", "concern"),
    ("p3", jst(11, 5, 11, 15), "text", None),
    ("p4", jst(11, 5, 14, 0), "text", "crisis"),
    ("p5", jst(11, 6, 15, 0), "text", None),
    ("p6", jst(10, 9, 12, 0), "sticker", None), ("p6", jst(11, 9, 10, 0), "text", None),
    ("p7", jst(11, 1, 0, 1), "follow", None), ("p7", jst(11, 30, 23, 59), "unfollow", None),
    ("p8", jst(10, 31, 23, 59), "follow", None), ("p8", jst(12, 1, 0, 1), "text", None),
    ("p9", jst(11, 16, 19, 50), "text", None),
    ("p10", jst(11, 30, 19, 30), "text", None),
    ("p11", jst(10, 30, 15, 0), "text", None),
]
OUT = [("p1", jst(11, 2, 12, 6), "agent"), ("p2", jst(11, 2, 13, 21), "agent"), ("p3", jst(11, 5, 11, 11), "agent"),
       ("p4", jst(11, 5, 14, 3), "agent"), ("p6", jst(11, 9, 10, 0), "bot"), ("p9", jst(11, 16, 19, 59), "agent"),
       ("p10", jst(12, 1, 11, 6), "agent"), ("p11", jst(11, 2, 11, 1), "agent"), ("p6", jst(11, 9, 10, 5), "note")]
# Each person's status history as (when, to); from is the previous one.
MOVES: dict[str, list[tuple[datetime, str]]] = {
    "p1": [(jst(11, 2, 12, 0), "queued"), (jst(11, 2, 12, 5), "open"), (jst(11, 2, 12, 20), "resolved")],
    "p2": [(jst(11, 2, 13, 0), "queued"), (jst(11, 2, 13, 20), "open"), (jst(11, 2, 13, 25), "resolved")],
    "p3": [(jst(11, 4, 21, 0), "queued"), (jst(11, 5, 11, 10), "open"), (jst(11, 5, 12, 50), "resolved")],
    "p4": [(jst(11, 5, 14, 0), "queued"), (jst(11, 5, 14, 2), "open"), (jst(11, 5, 15, 2), "resolved")],
    "p5": [(jst(11, 6, 15, 0), "queued"), (jst(11, 6, 15, 30), "bot")],
    "p9": [(jst(11, 16, 19, 50), "queued"), (jst(11, 16, 19, 58), "open"), (jst(11, 16, 20, 5), "queued"),
           (jst(11, 16, 20, 10), "open"), (jst(11, 16, 20, 30), "resolved")],
    "p10": [(jst(11, 30, 19, 30), "queued"), (jst(12, 1, 11, 5), "open"), (jst(12, 1, 11, 30), "resolved")],
    "p11": [(jst(10, 30, 15, 0), "queued"), (jst(11, 2, 11, 0), "open"), (jst(11, 2, 11, 30), "resolved")],
}
RECORDS = [("p1", jst(11, 2, 12, 20), ["school", "care_burden"], "市の子育て支援の窓口", True),
           ("p2", jst(11, 2, 13, 25), ["care_burden"], None, False),
           ("p3", jst(11, 5, 12, 50), ["care_burden"], None, True),
           ("p4", jst(11, 5, 15, 2), ["health"], "児童相談所", False),
           ("p9", jst(11, 16, 20, 30), ["relationships"], None, False),
           ("p10", jst(12, 1, 11, 30), ["school"], None, False),
           ("p11", jst(11, 2, 11, 30), ["career"], None, False)]
CASES = [("p2", jst(11, 2, 13, 1), "emergency_other"), ("p4", jst(11, 5, 14, 0), "crisis"),
         ("p11", jst(10, 30, 15, 0), "crisis")]
PEOPLE = [f"p{n}" for n in range(1, 12)]


async def seed_november(session: AsyncSession, tag: str = "st") -> dict[str, int]:
    """Write the month; returns person → conversation id (for tests that add rows of their own)."""
    agent = User(name=f"st_agent_{tag}", display_name="相談員", role="counsellor", password_hash="x")
    session.add(agent)
    await session.flush()
    ids: dict[str, int] = {}
    for person in PEOPLE:
        consent, values = PROFILES.get(person, (None, {}))
        contact = Contact(key=f"{tag}{person}", line_user_id=f"U{tag}{person}x".ljust(33, "0"),
                          created_at=jst(9, 1, 0, 0), consent=consent, profile=values)
        session.add(contact)
        await session.flush()
        conversation = Conversation(contact_id=contact.id, created_at=jst(9, 1, 0, 0), updated_at=jst(9, 1, 0, 0))
        session.add(conversation)
        await session.flush()
        ids[person] = conversation.id
    for person, at, kind, level in IN:
        session.add(Message(conversation_id=ids[person], direction="in", sender="user", kind=kind,
                            text="本文は統計に載らない" if kind == "text" else None, event_at=at, created_at=at,
                            risk_level=level))
    for person, at, sender in OUT:
        internal = sender == "note"
        session.add(Message(conversation_id=ids[person], direction="out", sender="agent" if internal else sender,
                            kind="note" if internal else "text", text="返事", event_at=at, created_at=at,
                            agent_id=None if sender == "bot" else agent.id, internal=internal))
    for person, moves in MOVES.items():
        previous = "bot"
        for at, to in moves:
            session.add(StatusChange(conversation_id=ids[person], from_status=previous, to_status=to,
                                     actor=agent.name, reason="seed", at=at))
            previous = to
    for person, at, topics, referral, follow_up in RECORDS:
        session.add(Record(conversation_id=ids[person], author_id=agent.id, created_at=at, topics=topics,
                           care_recipients=["mother"], referral=referral, follow_up=follow_up, summary="概要"))
    for person, at, level in CASES:
        session.add(Escalation(conversation_id=ids[person], opened_at=at, source="lexicon", level=level,
                               in_hours=True))
    await session.flush()
    comment = await session.scalar(select(Message.id).where(Message.conversation_id == ids["p1"],
                                                            Message.event_at == jst(11, 2, 12, 1)))
    session.add_all([
        Survey(conversation_id=ids["p1"], sent_at=jst(11, 2, 12, 20), step="done", answered_at=jst(11, 2, 12, 22),
               answers={"helpful": "helped", "again": "will"}, comment_message_id=comment),
        Survey(conversation_id=ids["p2"], sent_at=jst(11, 2, 13, 25), step="helpful", answers={}),
    ])
    for person, at, kind, outcome in (("p1", jst(11, 2, 12, 19), "municipal", "connected"),
                                      ("p4", jst(11, 5, 15, 0), "child_guidance", None),
                                      ("p11", jst(10, 30, 15, 30), "support_group", None)):
        session.add(Referral(conversation_id=ids[person], created_at=at, author_id=agent.id, kind=kind,
                             service_kind=kind, recipient="つなぎ先", consent_at=at, shared=["age_band"],
                             note="", outcome=outcome, outcome_note="", outcome_at=jst(11, 20, 10, 0) if outcome
                             else None))
    # LINE's figures: the 27th is the last day counted in November (the 28th was not yet when fetched). One row per
    # day: a second seeding of the same database keeps the first's.
    for insight in (FollowerInsight(day=date(2026, 11, 26), status="ready", followers=410, targeted_reaches=300,
                                    blocks=2, fetched_at=jst(11, 27, 10, 0)),
                    FollowerInsight(day=date(2026, 11, 27), status="ready", followers=412, targeted_reaches=301,
                                    blocks=2, fetched_at=jst(11, 28, 10, 0)),
                    FollowerInsight(day=date(2026, 11, 28), status="unready", fetched_at=jst(11, 29, 10, 0))):
        if await session.get(FollowerInsight, insight.day) is None:
            session.add(insight)
    await session.flush()
    return ids
