"""Retention (issue 17 item 3): LINE's daily follower figures fetched through the fake LINE's insight API and
stored, beside our own follow/unfollow counts; new friends still friends after 30 and 90 days (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import httpx

from console.retention import cohorts, month_days
from handoff.store.db import Database
from handoff.store.models import Contact, Conversation, Message
from handoff.store.models_insight import FollowerInsight
from handoff.timeutil import TOKYO
from tests.console.conftest import Gateway
from tests.support.databases import execute


def jst(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=TOKYO)


HISTORIES = {  # person → follow/unfollow events
    "c1": [(jst(8, 1), "follow")],
    "c2": [(jst(8, 5), "follow"), (jst(8, 20), "unfollow")],
    "c3": [(jst(8, 10), "follow"), (jst(8, 15), "unfollow"), (jst(9, 1), "follow")],
    "c4": [(jst(8, 20), "follow"), (jst(10, 30), "unfollow")],
    "c5": [(jst(7, 2), "follow"), (jst(7, 9), "unfollow"), (jst(8, 3), "follow")],  # July's, not August's
    "c6": [(jst(11, 20), "follow")],
}


async def seed(db: Database) -> None:
    async with db.session() as session:
        for person, events in HISTORIES.items():
            contact = Contact(key=f"rt{person}", line_user_id=f"Urt{person}".ljust(33, "0"))
            session.add(contact)
            await session.flush()
            conversation = Conversation(contact_id=contact.id)
            session.add(conversation)
            await session.flush()
            for at, kind in events:
                session.add(Message(conversation_id=conversation.id, direction="in", sender="user", kind=kind,
                                    event_at=at, created_at=at))
        session.add(FollowerInsight(day=date(2026, 8, 3), status="ready", followers=120, targeted_reaches=90,
                                    blocks=7, fetched_at=jst(8, 4)))
        session.add(FollowerInsight(day=date(2026, 8, 4), status="unready", fetched_at=jst(8, 4)))


async def test_new_friends_still_friends_after_30_and_90_days(db: Database) -> None:
    await seed(db)
    async with db.session() as session:
        july, august, november = await cohorts(session, [date(2026, 7, 1), date(2026, 8, 1), date(2026, 11, 1)],
                                               jst(12, 2))
    assert (august.new_friends, august.judged, august.still) == (4, {30: 4, 90: 4}, {30: 3, 90: 2})
    assert (august.rate(30), august.rate(90)) == (75.0, 50.0)
    assert (july.new_friends, july.still) == (1, {30: 0, 90: 1})  # c5: blocked on day 30, back again by day 90
    assert (november.new_friends, november.judged, november.rate(30)) == (1, {30: 0, 90: 0}, None)
    async with db.session() as session:
        days = await month_days(session, date(2026, 8, 1))
    third = days[2]
    assert (third.day, third.follows, third.unfollows) == (date(2026, 8, 3), 1, 0)
    assert third.line is not None and (third.line.followers, third.line.targeted_reaches, third.line.blocks) == (
        120, 90, 7)
    assert days[3].line is not None and days[3].line.status == "unready"
    assert (days[19].follows, days[19].unfollows) == (1, 1)  # 20 Aug: c4 in, c2 out


def test_ycc_insight_fetch_stores_what_line_counted(gateway_sqlite: Gateway) -> None:
    gw = gateway_sqlite
    today = datetime.now(TOKYO).date()
    counted, pending, derived = (today - timedelta(days=n) for n in (3, 2, 1))
    fake = f"{gw.url}/simulator/line/_fake"
    execute(gw.database_url, "DELETE FROM line_follower_insights WHERE day >= :d", d=counted)  # other tests' seeds
    httpx.post(f"{fake}/insight", json={"date": f"{counted:%Y%m%d}", "followers": 321, "targetedReaches": 250,
                                        "blocks": 12}).raise_for_status()
    httpx.post(f"{fake}/insight", json={"date": f"{pending:%Y%m%d}", "status": "unready"}).raise_for_status()
    assert httpx.post(f"{fake}/insight", json={"date": "2026-11-01"}).status_code == 400
    done = gw.ycc("insight", "fetch", "--days", "3")
    assert done.returncode == 0, done.stderr
    assert "stored 2 day(s); 1 not counted by LINE yet" in done.stdout
    rows = {r["day"] if isinstance(r["day"], str) else r["day"].isoformat(): r for r in gw.rows(
        "SELECT day, status, followers, targeted_reaches, blocks FROM line_follower_insights")}
    assert {k: rows[counted.isoformat()][k] for k in ("status", "followers", "targeted_reaches", "blocks")} == {
        "status": "ready", "followers": 321, "targeted_reaches": 250, "blocks": 12}
    assert rows[pending.isoformat()]["status"] == "unready" and rows[derived.isoformat()]["status"] == "ready"
    assert len(gw.line_requests("insight")) == 3

    gw.fault("insight", [{"status": 500}])  # the next run asks only for the day LINE had not counted
    again = gw.ycc("insight", "fetch", "--days", "3")
    assert again.returncode == 1 and f"{pending}: LINE answered 500" in again.stderr
    assert len(gw.line_requests("insight")) == 4
    assert gw.ycc("insight", "fetch", "--days", "0").returncode == 2

    sup = gw.login(gw.add_user("supervisor"))
    page = sup.get(f"/console/retention/{counted:%Y-%m}")
    assert page.status_code == 200 and "321" in page.text
    pending_page = sup.get(f"/console/retention/{pending:%Y-%m}")  # another month when today is the 1st or 2nd
    assert pending_page.status_code == 200 and "集計中" in pending_page.text
    assert gw.login(gw.add_user("counsellor")).get(f"/console/retention/{counted:%Y-%m}").status_code == 403
