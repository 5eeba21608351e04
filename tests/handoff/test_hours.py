"""Consultation hours (R2) and service period (R3), decided from a passed-in moment."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from handoff.domain.hours import (
    TOKYO,
    HoursConfigError,
    HoursPolicy,
    format_next_open,
    hours_command,
)

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def policy() -> HoursPolicy:
    return HoursPolicy.load(DATA_DIR / "hours.yml")


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("at", "is_open", "reason", "next_open"),
    [
        ("2026-11-24 10:59", False, "before_opening", "2026-11-24 11:00"),
        ("2026-11-24 11:00", True, "open", "2026-11-24 11:00"),
        ("2026-11-24 19:59", True, "open", "2026-11-24 19:59"),
        ("2026-11-24 20:00", False, "after_closing", "2026-11-25 11:00"),
        ("2026-11-24 23:30", False, "after_closing", "2026-11-25 11:00"),
        ("2026-11-25 00:10", False, "before_opening", "2026-11-25 11:00"),
    ],
)
def test_weekday_window_boundaries(policy, at, is_open, reason, next_open):
    decision = policy.decide(jst(at))
    assert (decision.open, decision.reason) == (is_open, reason)
    assert decision.next_open == jst(next_open)


def test_friday_evening_next_open_is_monday(policy):
    decision = policy.decide(jst("2026-11-27 20:00"))  # Friday
    assert decision.next_open == jst("2026-11-30 11:00")


@pytest.mark.parametrize("at", ["2026-11-28 12:00", "2026-11-29 15:00"])
def test_weekend_is_closed_until_monday(policy, at):
    decision = policy.decide(jst(at))
    assert (decision.open, decision.reason) == (False, "weekend")
    assert decision.next_open == jst("2026-11-30 11:00")


def test_national_holiday_is_closed_with_its_name(policy):
    decision = policy.decide(jst("2026-11-23 12:00"))  # 勤労感謝の日, a Monday
    assert decision.open is False
    assert decision.reason == "holiday:勤労感謝の日"
    assert decision.next_open == jst("2026-11-24 11:00")


@pytest.mark.parametrize("day", ["2025-05-06", "2026-05-06"])
def test_substitute_holiday_is_closed(policy, day):
    decision = policy.decide(jst(f"{day} 12:00"))
    assert decision.open is False
    assert decision.reason.startswith("holiday:")
    assert "振替休日" in decision.reason


def test_golden_week_next_open_skips_substitute_holiday(policy):
    # 2026-05-02 (Sat) … 05-06 (Wed, 振替休日) are all closed.
    assert policy.decide(jst("2026-05-01 20:00")).next_open == jst("2026-05-07 11:00")


def test_citizens_holiday_between_two_holidays_is_closed(policy):
    decision = policy.decide(jst("2026-09-22 12:00"))  # 国民の休日 between 敬老の日 and 秋分の日
    assert decision.reason == "holiday:国民の休日"
    assert decision.next_open == jst("2026-09-24 11:00")


@pytest.mark.parametrize("day", ["2025-12-29", "2025-12-30", "2025-12-31", "2026-01-02", "2026-01-03"])
def test_year_end_break_is_closed(policy, day):
    decision = policy.decide(jst(f"{day} 12:00"))
    assert (decision.open, decision.reason) == (False, "year_end")


def test_new_year_next_open_is_first_weekday_after_jan_3_that_is_no_holiday(policy):
    # 2025-12-29 is a Monday; 2026-01-04 is a Sunday, so the service reopens Monday 2026-01-05.
    assert policy.decide(jst("2025-12-26 20:00")).next_open == jst("2026-01-05 11:00")
    # 2027-01-04 is a Monday and no holiday.
    assert policy.decide(jst("2026-12-30 09:00")).next_open == jst("2027-01-04 11:00")


def test_new_year_next_open_skips_a_holiday_right_after_the_break():
    # With the break extended to 01-10, reopening must skip 成人の日 2027-01-11 (Monday).
    policy = HoursPolicy(year_end=((12, 29), (1, 10)))
    assert policy.decide(jst("2026-12-30 12:00")).next_open == jst("2027-01-12 11:00")


def test_dec_28_weekday_is_open(policy):
    assert policy.decide(jst("2026-12-28 12:00")).open is True


def test_utc_input_is_converted_to_tokyo(policy):
    # 02:00 UTC is 11:00 JST on the same Tuesday.
    decision = policy.decide(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    assert (decision.open, decision.reason) == (True, "open")
    closed = policy.decide(datetime(2026, 11, 24, 1, 59, tzinfo=UTC))
    assert closed.reason == "before_opening"
    assert closed.next_open == jst("2026-11-24 11:00")
    # 15:30 UTC Friday is 00:30 JST Saturday.
    assert policy.decide(datetime(2026, 11, 27, 15, 30, tzinfo=UTC)).reason == "weekend"


def test_naive_datetime_is_refused_with_a_clear_message(policy):
    with pytest.raises(ValueError, match="timezone"):
        policy.decide(datetime(2026, 11, 24, 12, 0))
    with pytest.raises(ValueError, match="timezone"):
        format_next_open(datetime(2026, 11, 24, 12, 0))


def test_before_service_start_points_to_first_opening(policy):
    decision = policy.decide(jst("2025-03-31 12:00"))
    assert (decision.open, decision.reason) == (False, "service_not_started")
    assert decision.next_open == jst("2025-04-01 11:00")


def test_after_service_end_has_no_next_open():
    policy = HoursPolicy(service_end=date(2026, 3, 31))
    assert policy.decide(jst("2026-03-31 12:00")).open is True
    last = policy.decide(jst("2026-03-31 20:00"))
    assert (last.reason, last.next_open) == ("after_closing", None)
    ended = policy.decide(jst("2026-04-01 12:00"))
    assert (ended.open, ended.reason, ended.next_open) == (False, "service_ended", None)


def test_shipped_file_extends_beyond_the_contract_end(policy):
    assert policy.decide(jst("2026-04-01 12:00")).open is True


def test_extra_closed_and_open_dates_from_config():
    policy = HoursPolicy.from_mapping(
        {
            "closed_dates": ["2026-11-25", {"date": "2026-11-26", "note": "maintenance"}],
            "open_dates": [{"date": "2026-11-28", "open": "13:00", "close": "17:00"}, "2026-11-23"],
        }
    )
    assert policy.decide(jst("2026-11-25 12:00")).reason == "closed_date"
    assert policy.decide(jst("2026-11-24 20:00")).next_open == jst("2026-11-27 11:00")
    assert policy.decide(jst("2026-11-23 12:00")).open is True  # holiday opened by the operator
    saturday = policy.decide(jst("2026-11-28 12:30"))
    assert (saturday.reason, saturday.next_open) == ("before_opening", jst("2026-11-28 13:00"))
    assert policy.decide(jst("2026-11-28 16:59")).open is True
    assert policy.decide(jst("2026-11-28 17:00")).next_open == jst("2026-11-30 11:00")


def test_bad_config_names_the_key(tmp_path):
    path = tmp_path / "hours.yml"
    path.write_text('open: "25:00"\n', encoding="utf-8")
    with pytest.raises(HoursConfigError, match="open"):
        HoursPolicy.load(path)
    path.write_text("days: [mon, funday]\n", encoding="utf-8")
    with pytest.raises(HoursConfigError, match="days"):
        HoursPolicy.load(path)


def test_unquoted_yaml_time_is_understood(tmp_path):
    path = tmp_path / "hours.yml"
    path.write_text("open: 10:30\nclose: 18:00\n", encoding="utf-8")
    policy = HoursPolicy.load(path)
    assert policy.decide(jst("2026-11-24 10:30")).open is True
    assert policy.decide(jst("2026-11-24 18:00")).open is False


def test_format_next_open_is_natural_japanese():
    assert format_next_open(jst("2026-11-25 11:00")) == "11月25日(水) 11:00"
    assert format_next_open(datetime(2026, 1, 5, 2, 0, tzinfo=UTC)) == "1月5日(月) 11:00"


def test_to_json_has_exactly_the_cli_contract(policy):
    closed = policy.decide(jst("2026-11-24 20:00")).to_json()
    assert closed == {"open": False, "reason": "after_closing", "next_open": "2026-11-25T11:00:00+09:00"}
    ended = HoursPolicy(service_end=date(2026, 3, 31)).decide(jst("2026-05-01 12:00")).to_json()
    assert ended == {"open": False, "reason": "service_ended", "next_open": None}


def test_hours_command_prints_one_json_line():
    line = hours_command("2026-11-24T11:00:00Z", DATA_DIR)  # 20:00 JST
    assert "\n" not in line
    assert json.loads(line) == {
        "open": False,
        "reason": "after_closing",
        "next_open": "2026-11-25T11:00:00+09:00",
    }
    holiday = json.loads(hours_command("2026-11-23T12:00:00+09:00", DATA_DIR))
    assert holiday["reason"] == "holiday:勤労感謝の日"


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T10:00:00+09:00", "2026-11-24T10:00:00"])
def test_hours_command_rejects_bad_timestamps(bad):
    with pytest.raises(ValueError, match="2026-11-24T10:00:00\\+09:00"):
        hours_command(bad, DATA_DIR)


def test_schedule_text_follows_the_configuration() -> None:
    assert HoursPolicy.load(DATA_DIR / "hours.yml").schedule_text() == "平日 11時〜20時（土日祝・年末年始はお休み）"
    custom = HoursPolicy.from_mapping({"days": ["mon", "wed", "sat"], "open": "10:30", "close": "18:00"})
    assert custom.schedule_text() == "月・水・土 10時30分〜18時（日祝はお休み）"
