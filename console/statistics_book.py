"""The monthly statistics as the workbook's 統計 and 統計の説明 sheets (with charts) and as CSV (issue 17 item 6).

Small counts are hidden here, at the edge where figures leave the system: a count of 1 or 2 (below the threshold
in console/data/statistics.yml) is written 「3未満」, so a person cannot be recognised from a small cell of a
published table; 0 stays 0 (there is nobody to recognise). Rates and minutes are shown as computed; their base is
the count shown beside them. Charts plot the cells as written, so a hidden cell is a gap, never its true value.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from console.statistics import MonthStatistics
from console.statistics_rows import Row

HEADER = ["区分", "項目", "値"]
CHARTED = ("access", "duration", "age_band", "gender", "care_recipients", "topics", "returning")
CHART_WIDTH = 8  # rows of sheet a chart takes, roughly


def suppressed_label(threshold: int) -> str:
    return f"{threshold}未満"


def shown(row: Row, threshold: int) -> Any:
    """The value as published: a small count is hidden; None (no case to measure) is an empty cell."""
    if row.kind == "count" and isinstance(row.value, int) and 0 < row.value < threshold:
        return suppressed_label(threshold)
    return row.value


def table_rows(statistics: MonthStatistics) -> list[list[Any]]:
    """[section title, label, shown value] per figure, in the definitions' order."""
    threshold = statistics.definitions.suppress_below
    return [[section.title, row.label, shown(row, threshold)]
            for section in statistics.sections for row in section.rows]


def csv_text(statistics: MonthStatistics) -> str:
    """UTF-8 with BOM (Excel reads the Japanese), the same rows and hiding as the 統計 sheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["月", *HEADER])
    month = f"{statistics.month:%Y-%m}"
    writer.writerows([month, *row] for row in table_rows(statistics))
    return "\ufeff" + buffer.getvalue()


def add_sheets(book: Workbook, statistics: MonthStatistics) -> None:
    """統計 (the figures, one bar chart per breakdown) and 統計の説明 (what each section counts)."""
    definitions = statistics.definitions
    sheet = book.create_sheet("統計")
    month = statistics.month
    sheet.append([f"いしかわヤングケアラーチャンネル 月次統計（{month.year}年{month.month}月）"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(HEADER)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    anchor_row = 2
    for section in statistics.sections:
        first = sheet.max_row + 1
        for row in section.rows:
            sheet.append([section.title, row.label, shown(row, definitions.suppress_below)])
            if row.kind == "rate":
                sheet.cell(row=sheet.max_row, column=3).number_format = "0.0"
        if section.key in CHARTED and len(section.rows) > 1:
            _chart(sheet, section.title, first, sheet.max_row, f"E{anchor_row}")
            anchor_row += CHART_WIDTH * 2
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 32
    sheet.column_dimensions["C"].width = 10
    sheet.freeze_panes = "A3"

    notes = book.create_sheet("統計の説明")
    notes.append(["区分", "数え方"])
    notes.append(["月", "日本時間の1日0時から末日24時まで。"])
    notes.append(["「" + suppressed_label(definitions.suppress_below) + "」",
                  f"1〜{definitions.suppress_below - 1}件・人の欄は、個人が特定されないよう数を示しません"
                  "（0はそのまま）。グラフでも空白になります。"])
    for title, text in definitions.titles.values():
        notes.append([title, text])
    notes.column_dimensions["A"].width = 30
    notes.column_dimensions["B"].width = 100
    for cell in notes[1]:
        cell.font = Font(bold=True)


def _chart(sheet: Worksheet, title: str, first: int, last: int, anchor: str) -> None:
    chart = BarChart()
    chart.type = "bar"
    chart.title = title
    chart.legend = None
    chart.add_data(Reference(sheet, min_col=3, min_row=first, max_row=last), titles_from_data=False)
    chart.set_categories(Reference(sheet, min_col=2, min_row=first, max_row=last))
    chart.height, chart.width = 7, 14
    sheet.add_chart(chart, anchor)
