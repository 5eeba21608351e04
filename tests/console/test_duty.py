"""Duty check-ins and the staffing rule in the work log (issue 17 item 9; R9, 3-(7)②), on SQLite and PostgreSQL,
and checking in and out in the console."""

from __future__ import annotations

from datetime import date, datetime

from console.duty_report import FEW_LINES, NO_AB, NO_C
from console.worklog_report import month_log
from handoff.domain.hours import HoursPolicy
from handoff.store.db import Database
from handoff.store.models import User
from handoff.store.models_duty import DutyShift
from handoff.timeutil import TOKYO
from tests.console.conftest import Gateway, wait_for


def jst(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO)


async def seed_shifts(db: Database) -> None:
    async with db.session() as session:
        people = {name: User(name=f"duty_{name}", display_name=name, role="counsellor", password_hash="x",
                             qualifications=quals, max_chats=chats)
                  for name, quals, chats in [("安田", "A,B", 2), ("千葉", "C", 1), ("全", "A,B,C", 3),
                                             ("浅野", "A,B", 1)]}
        session.add_all(people.values())
        await session.flush()

        def shift(who: str, start: datetime, end: datetime | None) -> None:
            session.add(DutyShift(user_id=people[who].id, started_at=start, ended_at=end))

        shift("安田", jst(2, 10, 30), jst(2, 20, 30))  # Mon 2: A∧B and C all day, 2 + 1 lines
        shift("千葉", jst(2, 10, 50), jst(2, 20, 10))
        shift("安田", jst(4, 11), jst(4, 20))  # Wed 4: A∧B alone
        shift("全", jst(5, 11), jst(5, 20))  # Thu 5: one person with A, B and C is not two people
        shift("安田", jst(6, 11), jst(6, 15))  # Fri 6: A∧B leaves at 15:00; C stays past midnight
        shift("千葉", jst(6, 11), jst(7, 1))
        shift("浅野", jst(9, 10), jst(9, 21))  # Mon 9: both roles, but 1 + 1 lines < 3
        shift("千葉", jst(9, 10), jst(9, 21))
        shift("安田", jst(10, 10), None)  # Tue 10: still on duty at `now` (15:00)
        shift("千葉", jst(10, 10), None)


async def test_the_work_log_names_who_was_on_duty_and_marks_short_days(db: Database) -> None:
    await seed_shifts(db)
    async with db.session() as session:
        log = await month_log(session, date(2026, 11, 1), HoursPolicy(), lines=3, now=jst(10, 15))
    by_day = {d.day.day: (d.value("on_duty"), d.value("staffing")) for d in log.days if d.day is not None}
    assert by_day[2] == ("安田、千葉", "")
    assert by_day[3] == ("", "")  # 文化の日: closed, not judged
    assert by_day[4] == ("安田", "・".join([NO_C, FEW_LINES]))
    assert by_day[5] == ("全", NO_C)
    assert by_day[6] == ("安田、千葉", "・".join([NO_AB, FEW_LINES]))
    assert by_day[7] == ("千葉", "")  # Saturday: on duty past midnight, but no hours to judge
    assert by_day[9] == ("浅野、千葉", FEW_LINES)
    assert by_day[10] == ("安田、千葉", "")  # judged up to now
    assert by_day[11] == ("", "")  # to come
    assert log.total.value("staffing") == "4日"
    async with db.session() as session:
        october = await month_log(session, date(2026, 10, 1), HoursPolicy(), lines=3, now=jst(10, 15))
    assert all(d.value("staffing") == "" for d in october.days)  # before the first check-in: not judged
    async with db.session() as session:
        one_line = await month_log(session, date(2026, 11, 1), HoursPolicy(), lines=1, now=jst(10, 15))
    assert one_line.days[8].value("staffing") == ""  # Mon 9 with YCC_LINES=1


def test_counsellors_check_in_and_out_in_the_console(gateway: Gateway) -> None:
    counsellor = gateway.login(gateway.add_user("counsellor", quals="A,B"))
    assert "勤務外です" in counsellor.get("/console/duty").text
    form = {"csrf_token": counsellor.csrf}
    done = counsellor.client.post("/console/duty/check-in", data=form)
    assert done.status_code == 302
    page = counsellor.get("/console/duty").text
    assert "勤務中です" in page and counsellor.account.name in page
    again = counsellor.client.post("/console/duty/check-in", data=form)
    assert again.status_code == 409 and "すでに勤務中です" in again.text
    assert counsellor.client.post("/console/duty/check-in", data={}).status_code == 403  # no CSRF token
    sup = gateway.login(gateway.add_user("supervisor"))
    today = datetime.now(TOKYO)
    worklog = sup.get(f"/console/worklog/{today:%Y-%m}").text
    assert counsellor.account.name in worklog  # today's row names who is on duty
    assert counsellor.client.post("/console/duty/check-out", data=form).status_code == 302
    assert "勤務外です" in counsellor.get("/console/duty").text
    assert counsellor.client.post("/console/duty/check-out", data=form).status_code == 409
    wait_for(lambda: {r["action"] for r in gateway.rows(
        "SELECT action FROM audit_log WHERE actor = :a", a=counsellor.account.name)} >= {"duty_check_in",
                                                                                          "duty_check_out"})
    rows = gateway.rows("SELECT ended_at FROM duty_shifts s JOIN users u ON u.id = s.user_id WHERE u.name = :n",
                        n=counsellor.account.name)
    assert len(rows) == 1 and rows[0]["ended_at"] is not None
