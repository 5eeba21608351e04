"""The monthly work log file for the prefecture (R21): an Excel workbook encrypted with a password.

Encryption is ECMA-376 agile encryption (AES-256, SHA-512 key derivation), the scheme Excel itself uses for "protect
with password", via msoffcrypto-tool; Excel opens the file after asking for the password, and without it the
file is an opaque OLE container, not a zip anyone can unpack. The plain workbook exists only in memory.

Sheets: 業務日誌 (one row per JST day, a total row), 相談記録 (the month's records in the same form as the CSV
export, console/records.py), 項目の説明 (how each figure is counted), then the prefecture's monthly statistics,
統計 and 統計の説明 (console/statistics_book.py).
"""

from __future__ import annotations

import asyncio
import io
from datetime import date
from typing import Any

from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from console.cells import append_row
from console.records import EXPORT_HEADERS, export_rows
from console.render import jst
from console.statistics import MonthStatistics, month_statistics
from console.statistics_book import add_sheets
from console.worklog_report import Column, MonthLog, month_log, month_range
from handoff.domain.hours import WEEKDAY_JA, HoursPolicy
from handoff.domain.survey import SurveyTexts

TITLE = "いしかわヤングケアラーチャンネル 業務日誌"
HEAD_FILL = PatternFill("solid", fgColor="DDE6F0")
BOLD = Font(bold=True)


def filename(month: date) -> str:
    return f"業務日誌_{month:%Y-%m}.xlsx"


def ascii_filename(month: date) -> str:
    """For Content-Disposition's plain `filename=`, read by clients that do not understand RFC 5987."""
    return f"worklog_{month:%Y-%m}.xlsx"


def day_rows(log: MonthLog, columns: list[Column], hours: HoursPolicy) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the daily sheet, the total row last; cells are plain values (date, int, float, str)."""
    header = ["日付", "曜日", "窓口", *(c.label for c in columns), "特記事項", "特記事項の記入者", "記入日時"]
    rows: list[list[Any]] = []
    for figures in log.days:
        day = figures.day
        assert day is not None
        rows.append([day, WEEKDAY_JA[day.weekday()], "開" if hours.window_on(day) else "休",
                     *(figures.value(c.key) for c in columns), figures.note, figures.note_by, jst(figures.note_at)])
    rows.append(["合計", "", "", *(log.total.value(c.key) for c in columns), "", "", ""])
    return header, rows


def build(log: MonthLog, columns: list[Column], hours: HoursPolicy, records: list[list[Any]],
          statistics: MonthStatistics | None = None) -> bytes:
    """The plain (unencrypted) workbook; only `encrypt` output may leave the process."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "業務日誌"
    header, rows = day_rows(log, columns, hours)
    sheet.append([f"{TITLE}（{log.month.year}年{log.month.month}月）"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(header)
    for row in rows:
        append_row(sheet, row)  # the day's note is free text: never a formula
    for cell in sheet[len(rows) + 2]:
        cell.font = BOLD
    _style(sheet, header_row=2, widths={1: 12, 2: 5, 3: 5, len(header) - 2: 40, len(header) - 1: 14,
                                        len(header): 17})
    for (cell,) in sheet.iter_rows(min_row=3, max_row=len(rows) + 1, min_col=1, max_col=1):
        cell.number_format = "yyyy/mm/dd"

    sheet = book.create_sheet("相談記録")
    sheet.append(EXPORT_HEADERS)
    for record in records:
        append_row(sheet, record)
    _style(sheet, header_row=1, widths={3: 17, len(EXPORT_HEADERS): 60})

    sheet = book.create_sheet("項目の説明")
    sheet.append(["項目", "数え方"])
    sheet.append(["日付", "日本時間の0時から24時までを1日とします。"])
    sheet.append(["窓口", "相談時間が設定されている日は「開」、休みの日は「休」。"])
    for column in columns:
        sheet.append([column.label, column.help])
    _style(sheet, header_row=1, widths={1: 22, 2: 90})
    if statistics is not None:
        add_sheets(book, statistics)

    book.properties.creator = "ycc"
    book.properties.title = f"業務日誌 {log.month:%Y-%m}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def encrypt(plain: bytes, password: str) -> bytes:
    """ECMA-376 agile encryption of an OOXML file; the password is never stored or logged."""
    source = OOXMLFile(io.BytesIO(plain))
    out = io.BytesIO()
    source.encrypt(password, out)
    return out.getvalue()


def _style(sheet: Worksheet, *, header_row: int, widths: dict[int, int]) -> None:
    for cell in sheet[header_row]:
        cell.font = BOLD
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for index in range(1, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(index)].width = widths.get(index, 11)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)


async def month_contents(session: Any, month: date, hours: HoursPolicy, survey: SurveyTexts | None = None, *,
                         lines: int = 1) -> tuple[MonthLog, list[list[Any]], MonthStatistics]:
    """The month's log, its records as export rows and its statistics: the reads, inside the caller's unit of work."""
    start, end = month_range(month)
    return (await month_log(session, month, hours, lines=lines), await export_rows(session, start, end),
            await month_statistics(session, month, hours, survey=survey))


async def encrypted_file(log: MonthLog, records: list[list[Any]], columns: list[Column], hours: HoursPolicy,
                         password: str, statistics: MonthStatistics | None = None) -> bytes:
    """Build and encrypt in a thread, after the unit of work has ended.

    The key derivation is deliberately slow, and on SQLite the gateway runs one unit of work at a time, so doing
    this inside the session would hold up LINE's webhook; outside it and off the event loop, nothing waits.
    """
    return await asyncio.to_thread(lambda: encrypt(build(log, columns, hours, records, statistics), password))
