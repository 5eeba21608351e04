"""Exported cells never become formulas (CSV and the monthly workbook; OWASP "CSV injection").

A counsellor's summary, a referral or a day's note is free text; Excel and LibreOffice run a cell that starts with
`=`, `+`, `-` or `@` (and, after a tab or carriage return, whatever follows) as a formula, which can reach the
network or other files on the supervisor's or the prefecture's machine. One rule decides what looks like a formula;
the CSV prefixes such text with `'` (shown, not run), and the workbook stores it as a string cell, so the text reads
exactly as written and is never evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import TYPE_STRING
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: Any) -> bool:
    """Text a spreadsheet could read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> Any:
    """A CSV field that a spreadsheet shows as text."""
    return "'" + value if looks_like_formula(value) else value


def csv_row(row: Iterable[Any]) -> list[Any]:
    return [csv_cell(value) for value in row]


def append_row(sheet: Worksheet, row: Iterable[Any]) -> None:
    """`sheet.append`, with text kept as a string cell: openpyxl would otherwise store "=…" as a formula."""
    values = list(row)
    sheet.append(values)
    for cell, value in zip(sheet[sheet.max_row], values, strict=False):
        if looks_like_formula(value):
            cell.value = value
            cell.data_type = TYPE_STRING
