"""The prefecture's monthly statistics (issue 17 item 6) on SQLite and PostgreSQL, the workbook and the CSV.

Every number is checked against the November seeded in tests/console/statistics_seed.py, where each person's rows
are listed with the figure they make.
"""

from __future__ import annotations

import asyncio
import csv
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from console.statistics import MonthStatistics, month_statistics, p90
from console.statistics_book import csv_text
from console.worklog_book import encrypted_file, month_contents
from console.worklog_report import load_columns
from handoff.domain.hours import HoursPolicy
from handoff.store.db import Database
from tests.console.conftest import Gateway
from tests.console.statistics_seed import MONTH, seed_november
from tests.console.test_worklog_report import decrypt

PASSWORD = "prefecture agreed passphrase"
EXPECTED: dict[str, dict[str, Any]] = {
    "friends": {"友だち追加": 3, "ブロック": 1, "LINEの友だち追加の累計（月末）": 412,
                "LINEのターゲットリーチ（月末）": 301, "LINEのブロック（月末）": 2},
    "access": {"受信メッセージ（時間内）": 9, "受信メッセージ（時間外）": 2, "書いた人（時間内）": 7,
               "書いた人（時間外）": 2, "書いた人（合計）": 8},
    "response": {"相談員への相談（時間内）": 6, "うち応答": 5, "応答率（%）": 83.3, "相談員への相談（時間外）": 1,
                 "うち応答（時間外）": 1},
    "waiting": {"対象の相談": 5, "中央値（分）": 8.0, "90パーセンタイル（分）": 935.0},
    "duration": {"10分未満": 1, "10〜30分": 2, "30〜60分": 1, "60〜90分": 1, "90分以上": 1},
    "age_band": {"12歳以下": 0, "13〜15歳": 1, "16〜18歳": 4, "19〜22歳": 1, "23〜29歳": 1, "30〜39歳": 0,
                 "40歳以上": 0, "未回答": 1},
    "gender": {"女性": 4, "男性": 1, "その他": 1, "回答しない": 0, "未回答": 2},
    "municipality": {"白山市": 1, "野々市市": 1, "金沢市": 4, "未回答": 2},
    "care_recipients": {"母": 4, "父": 1, "きょうだい": 1, "祖父母": 1, "その他": 0, "未回答": 2},
    "role": {"本人": 5, "保護者": 1, "未回答": 2},
    "topics": {"介護・世話の負担": 3, "学校・勉強": 1, "人間関係": 1, "進路・仕事": 1, "心と体の健康": 1,
               "その他": 0},
    "returning": {"新規": 6, "継続": 2},
    "outcomes": {"相談記録": 6, "うちつなぎ先あり": 2, "うちフォローアップ要": 2, "ボットのみで対応（人）": 1},
    "risk": {"危機対応ケース（本人の危険）": 1, "危機対応ケース（他の人の緊急）": 1, "危機（本人）と判断された人": 1,
             "他の人の緊急と判断された人": 1, "心配と判断された人": 1},
    "survey": {"送ったアンケート": 2, "答えがあったアンケート": 1, "役に立ったか：役に立った": 1,
               "役に立ったか：少し役に立った": 0, "役に立ったか：あまり役に立たなかった": 0,
               "また使いたいか：また使いたい": 1, "また使いたいか：わからない": 0, "また使いたいか：使わないと思う": 0,
               "ひとことあり": 1},
    "referrals": {"つなぎ（合計）": 2, "種類：市町の窓口": 1, "種類：児童相談所": 1, "種類：支援団体": 0,
                  "種類：その他": 0, "結果：つながった": 1, "結果：本人が辞退した": 0, "結果：連絡がつかない": 0,
                  "結果：その他": 0, "結果：まだ": 1},
    "deliveries": {"配信数": 0},
}


def figures(statistics: MonthStatistics, key: str) -> dict[str, Any]:
    return {row.label: row.value for row in statistics.section(key).rows}


async def november(db: Database) -> MonthStatistics:
    async with db.session() as session:
        await seed_november(session)
    async with db.session() as session:
        return await month_statistics(session, MONTH, HoursPolicy())


def test_p90_is_nearest_rank() -> None:
    assert p90([2, 5, 8, 20, 935]) == 935 and p90([1] * 9 + [100]) == 1 and p90([7]) == 7
    assert p90(list(range(1, 21))) == 18


async def test_statistics_match_the_seeded_month_on_both_databases(db: Database) -> None:
    statistics = await november(db)
    for key, expected in EXPECTED.items():
        assert figures(statistics, key) == expected, key
    assert [s.key for s in statistics.sections][:3] == ["friends", "access", "response"]
    async with db.session() as session:
        october = await month_statistics(session, MONTH.replace(month=10), HoursPolicy())
    # p11's request began on 30 October (answered in November); p8's friend-add is October's too.
    assert figures(october, "response")["相談員への相談（時間内）"] == 1
    assert figures(october, "friends")["友だち追加"] == 1
    assert figures(october, "returning") == {"新規": 3, "継続": 0}  # p1, p6, p11 wrote first in October


async def test_the_workbook_hides_small_cells_and_charts_the_breakdowns(db: Database) -> None:
    await november(db)
    async with db.session() as session:
        log, records, statistics = await month_contents(session, MONTH, HoursPolicy())
    book = decrypt(await encrypted_file(log, records, load_columns(), HoursPolicy(), PASSWORD, statistics), PASSWORD)
    assert book.sheetnames == ["業務日誌", "相談記録", "項目の説明", "統計", "統計の説明"]
    sheet = book["統計"]
    assert "2026年11月" in sheet["A1"].value
    shown = {(r[0].value, r[1].value): r[2].value for r in sheet.iter_rows(min_row=3)}
    assert shown[("友だち", "友だち追加")] == 3 and shown[("友だち", "ブロック")] == "3未満"
    assert shown[("友だち", "LINEのブロック（月末）")] == 2  # account-wide, about nobody: never hidden
    assert shown[("相談員への相談と応答率", "応答率（%）")] == 83.3
    assert shown[("年代", "16〜18歳")] == 4 and shown[("年代", "13〜15歳")] == "3未満"
    assert shown[("年代", "12歳以下")] == 0
    assert shown[("相談時間（担当から終了まで）", "10〜30分")] == "3未満"
    assert shown[("待ち時間（相談時間内・分）", "90パーセンタイル（分）")] == 935.0
    assert len(sheet._charts) == 7  # access, duration, age, gender, care, topics, new/returning
    definitions = {r[0].value: r[1].value for r in book["統計の説明"].iter_rows(min_row=2)}
    assert "nearest-rank" in definitions["待ち時間（相談時間内・分）"] and "0はそのまま" in definitions["「3未満」"]
    everything = " ".join(str(c.value) for name in ("統計", "統計の説明") for r in book[name].iter_rows()
                          for c in r if c.value)
    assert "本文は統計に載らない" not in everything and "Ust" not in everything  # not even the survey's comment


async def test_csv_has_the_same_rows_and_hiding(db: Database) -> None:
    statistics = await november(db)
    text = csv_text(statistics)
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0] == ["月", "区分", "項目", "値"]
    by_label = {(r[1], r[2]): r[3] for r in table[1:]}
    assert all(r[0] == "2026-11" for r in table[1:])
    assert by_label[("友だち", "友だち追加")] == "3" and by_label[("新規・継続", "継続")] == "3未満"
    assert by_label[("待ち時間（相談時間内・分）", "中央値（分）")] == "8.0"
    assert len(table) - 1 == sum(len(s.rows) for s in statistics.sections)


def _in_process_csv(url: str) -> str:
    """Seed the gateway's database and compute the CSV here, on the same rows (other tests may add to them)."""
    from handoff.settings import normalise_database_url

    async def run() -> str:
        db = Database(normalise_database_url(url))
        try:
            async with db.session() as session:
                await seed_november(session, "cli")
            async with db.session() as session:
                return csv_text(await month_statistics(session, MONTH, HoursPolicy()))
        finally:
            await db.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(run())).result()


def test_report_statistics_csv_from_the_command_line(gateway_sqlite: Gateway, tmp_path: Path) -> None:
    month = "2026-11"
    expected = _in_process_csv(gateway_sqlite.database_url)
    done = gateway_sqlite.ycc("report", "statistics", "--month", month, "--csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected.replace("\r\n", "\n")  # figures checked exactly on a clean database above
    rows = list(csv.reader(io.StringIO(done.stdout.lstrip("\ufeff"))))
    assert rows[0] == ["月", "区分", "項目", "値"] and all(r[0] == "2026-11" for r in rows[1:])
    out = tmp_path / "statistics.csv"
    assert gateway_sqlite.ycc("report", "statistics", "--month", month, "--csv", "--out", str(out)).returncode == 0
    assert out.read_text(encoding="utf-8") == done.stdout
    bad = gateway_sqlite.ycc("report", "statistics", "--month", "11-2026", "--csv")
    assert bad.returncode == 2 and "month must look like 2026-10" in bad.stderr
    plain = gateway_sqlite.ycc("report", "statistics", "--month", month)
    assert plain.returncode == 2 and "--csv" in plain.stderr
    audited = gateway_sqlite.rows("SELECT object_id FROM audit_log WHERE action = 'export_statistics'")
    assert {"object_id": "2026-11"} in audited
