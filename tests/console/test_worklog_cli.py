"""`ycc report monthly` (R21): the password from stdin, an encrypted file, clear errors, an audit row."""

from __future__ import annotations

import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.console.conftest import Gateway
from tests.console.test_worklog_report import decrypt
from tests.console.worklog_seed import seed_gateway

FILE_PASSWORD = "agreed with the prefecture"


def test_report_monthly_reads_the_password_from_stdin_and_writes_an_encrypted_file(
        gateway_sqlite: Gateway, tmp_path: Path) -> None:
    seed_gateway(gateway_sqlite.database_url)
    out = tmp_path / "業務日誌_2026-10.xlsx"
    done = gateway_sqlite.ycc("report", "monthly", "--month", "2026-10", "--out", str(out), stdin=FILE_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "2026-10" in done.stdout and FILE_PASSWORD not in done.stdout + done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    book = decrypt(out.read_bytes(), FILE_PASSWORD)
    assert book["業務日誌"].max_row == 2 + 31 + 1
    header = [c.value for c in book["業務日誌"][2]]
    sixth = dict(zip(header, [c.value for c in book["業務日誌"][2 + 6]], strict=True))
    assert sixth["対応した相談員"] == "山田 2、佐藤 1"
    rows = gateway_sqlite.rows("SELECT action, object_id, detail FROM audit_log WHERE actor = 'cli' "
                               "AND action = 'export_worklog'")
    assert rows and rows[-1]["object_id"] == "2026-10" and FILE_PASSWORD not in (rows[-1]["detail"] or "")


def test_report_monthly_defaults_to_the_previous_month_in_tokyo(gateway_sqlite: Gateway, tmp_path: Path) -> None:
    now = datetime.now(ZoneInfo("Asia/Tokyo"))
    expected = f"{now.year - (now.month == 1)}-{(now.month - 2) % 12 + 1:02d}"
    done = gateway_sqlite.ycc("report", "monthly", "--out", str(tmp_path / "r.xlsx"), stdin=FILE_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert f"({expected}," in done.stdout


def test_report_monthly_refuses_a_bad_month_or_a_short_password(gateway_sqlite: Gateway, tmp_path: Path) -> None:
    out = tmp_path / "r.xlsx"
    bad = gateway_sqlite.ycc("report", "monthly", "--month", "2026/10", "--out", str(out), stdin=FILE_PASSWORD + "\n")
    assert bad.returncode == 2
    assert "ycc report monthly: month must look like 2026-10" in bad.stderr
    short = gateway_sqlite.ycc("report", "monthly", "--month", "2026-10", "--out", str(out), stdin="short\n")
    assert short.returncode == 2 and "12 to 128 characters" in short.stderr
    missing = gateway_sqlite.ycc("report", "monthly", "--month", "2026-10", "--out", str(tmp_path / "no" / "r.xlsx"),
                                 stdin=FILE_PASSWORD + "\n")
    assert missing.returncode == 2 and "no such directory" in missing.stderr
    assert not out.exists()
