"""`ycc report monthly`: the month's password-protected work log file (R21), made on the server; and
`ycc report statistics --csv`: the month's statistics for the prefecture (issue 17 item 6) as CSV.

For an operator who prepares the prefecture's file without opening the console (e.g. from a monthly job). The
password comes on stdin, like `ycc user add`'s, so it never shows in shell history or `ps`; it must meet the
account password policy. The export is audited as the console's download is, with the actor `cli`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from console import security
from console.auth import audit
from console.worklog_report import MonthError, load_columns, month_of, parse_month, previous_month
from handoff.store.types import utcnow


class ReportError(ValueError):
    """Bad input; printed as `ycc report monthly: …` with exit status 2."""


def _read_password() -> str:
    from console.cli import read_password
    from console.users import UserError

    try:
        password = read_password("file password: ")
        security.check_password_policy(password)
    except UserError as exc:
        raise ReportError(str(exc)) from None
    except security.PasswordPolicyError:
        raise ReportError(f"the password must be {security.MIN_PASSWORD_LENGTH} to 128 characters") from None
    return password


def _month(text: str | None) -> date:
    if not text:
        return previous_month(month_of(utcnow()))  # run on 1 November JST, it is October's report
    try:
        return parse_month(text)
    except MonthError as exc:
        raise ReportError(str(exc)) from None


async def _export(month: date, password: str) -> tuple[bytes, int]:
    from console.cli import with_db
    from console.worklog_book import encrypted_file, month_contents
    from handoff.domain.hours import HoursPolicy
    from handoff.domain.survey import SurveyTexts
    from handoff.settings import settings_or_exit

    settings = settings_or_exit()
    hours = HoursPolicy.load(settings.data_dir / "hours.yml")
    survey = SurveyTexts.load(settings.data_dir / "survey.yml")

    async def work(session: Any) -> tuple[Any, ...]:
        contents = await month_contents(session, month, hours, survey, lines=settings.lines)
        audit(session, "cli", "export_worklog", "worklog", f"{month:%Y-%m}",
              detail=f"encrypted xlsx; records={len(contents[1])}")
        return contents

    log, records, statistics = await with_db(work)
    return await encrypted_file(log, records, load_columns(), hours, password, statistics), len(records)


async def _statistics_csv(month: date) -> str:
    from console.cli import with_db
    from console.statistics import month_statistics
    from console.statistics_book import csv_text
    from handoff.domain.hours import HoursPolicy
    from handoff.domain.survey import SurveyTexts
    from handoff.settings import settings_or_exit

    data_dir = settings_or_exit().data_dir
    hours = HoursPolicy.load(data_dir / "hours.yml")
    survey = SurveyTexts.load(data_dir / "survey.yml")

    async def work(session: Any) -> str:
        text = csv_text(await month_statistics(session, month, hours, survey=survey))
        audit(session, "cli", "export_statistics", "statistics", f"{month:%Y-%m}", detail="csv")
        return text

    return str(await with_db(work))


def _report_statistics(args: argparse.Namespace) -> int:
    """Aggregates only (small counts hidden), so unlike the work log it needs no password."""
    try:
        if not args.csv:
            raise ReportError("say --csv (the workbook with charts is part of `ycc report monthly`)")
        month = _month(args.month)
        out = Path(args.out) if args.out else None
        if out is not None and not out.parent.is_dir():
            raise ReportError(f"no such directory: {out.parent}")
        text = asyncio.run(_statistics_csv(month))
        if out is None:
            sys.stdout.write(text)
        else:
            _write(out, text.encode("utf-8"))
    except (ReportError, OSError) as exc:
        print(f"ycc report statistics: {exc}", file=sys.stderr)
        return 2
    if out is not None:
        print(f"wrote {out} ({month:%Y-%m} statistics, CSV)")
    return 0


def _write(path: Path, data: bytes) -> None:
    """Owner-only from the first byte (it holds consultation records, even if encrypted)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _report_monthly(args: argparse.Namespace) -> int:
    try:
        month = _month(args.month)
        out = Path(args.out)
        if not out.parent.is_dir():
            raise ReportError(f"no such directory: {out.parent}")
        password = _read_password()
        data, records = asyncio.run(_export(month, password))
        _write(out, data)
    except (ReportError, OSError) as exc:
        print(f"ycc report monthly: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({month:%Y-%m}, {records} record(s), encrypted)")
    return 0


def add_commands(sub: Any) -> None:
    """Called from console/cli.py: `ycc report monthly --month YYYY-MM --out FILE`."""
    report = sub.add_parser("report", help="reports for the prefecture").add_subparsers(
        dest="report_command", required=True)
    monthly = report.add_parser("monthly", help="the month's work log and records as a password-protected .xlsx "
                                                "(password on stdin)")
    monthly.add_argument("--month", default=None, help="YYYY-MM (default: the previous month in Asia/Tokyo)")
    monthly.add_argument("--out", required=True, help="file to write, e.g. 業務日誌_2026-10.xlsx")
    monthly.set_defaults(func=_report_monthly)
    statistics = report.add_parser("statistics", help="the month's statistics for the prefecture as CSV "
                                                      "(counts of 1-2 shown as 3未満)")
    statistics.add_argument("--month", default=None, help="YYYY-MM (default: the previous month in Asia/Tokyo)")
    statistics.add_argument("--csv", action="store_true", help="write CSV (UTF-8 with BOM)")
    statistics.add_argument("--out", default=None, help="file to write (default: standard output)")
    statistics.set_defaults(func=_report_statistics)
