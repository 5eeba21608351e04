"""Consultation hours (R2) and service period (R3) as a pure policy over a passed-in moment.

The gateway decides "open or not" from the LINE event's own timestamp, never the wall clock, so replays and tests
are deterministic. Everything that an operator may change by agreement (window, days, extra open or closed dates,
service period) lives in `data/hours.yml`; national holidays come from jpholiday, which already knows substitute
holidays (振替休日) and 国民の休日.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import jpholiday
import yaml

from handoff.timeutil import TOKYO, parse_iso, to_tokyo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_JA = "月火水木金土日"
# How far ahead next_open is searched; longer than any closure an operator would configure.
_SEARCH_DAYS = 400


class HoursConfigError(ValueError):
    """hours.yml is malformed; the message names the key and what was expected."""


@dataclass(frozen=True)
class HoursDecision:
    """Whether consultations are open at a moment, why, and when they next open.

    `next_open` is the moment itself while open, the next opening while closed, and None only when no opening
    is left in the service period (the service has ended).
    """

    open: bool
    reason: str
    next_open: datetime | None

    def to_json(self) -> dict[str, Any]:
        """The `ycc hours` contract: exactly open, reason and next_open (ISO 8601 in Asia/Tokyo or null)."""
        return {
            "open": self.open,
            "reason": self.reason,
            "next_open": self.next_open.isoformat() if self.next_open else None,
        }


@dataclass(frozen=True)
class Window:
    """One day's consultation window in local time; `close` is exclusive."""

    open: time
    close: time


@dataclass(frozen=True)
class HoursPolicy:
    """Hours configuration; build it with `HoursPolicy.load` or directly in tests."""

    window: Window = Window(time(11, 0), time(20, 0))
    days: frozenset[int] = frozenset(range(5))
    closed_on_national_holidays: bool = True
    year_end: tuple[tuple[int, int], tuple[int, int]] | None = ((12, 29), (1, 3))
    service_start: date | None = date(2025, 4, 1)
    service_end: date | None = date(2027, 3, 31)
    closed_dates: frozenset[date] = frozenset()
    open_dates: dict[date, Window] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | str) -> HoursPolicy:
        """Read and validate hours.yml; errors name the offending key so a trainer can fix the file."""
        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise HoursConfigError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(raw, dict):
            raise HoursConfigError(f"{path}: expected a mapping at the top level")
        return cls.from_mapping(raw, source=str(path))

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], source: str = "hours.yml") -> HoursPolicy:
        if raw.get("timezone", "Asia/Tokyo") != "Asia/Tokyo":
            raise HoursConfigError(f"{source}: timezone must be Asia/Tokyo")
        window = Window(
            _time(raw.get("open", "11:00"), f"{source}: open"),
            _time(raw.get("close", "20:00"), f"{source}: close"),
        )
        if window.open >= window.close:
            raise HoursConfigError(f"{source}: open must be before close")
        days_raw = raw.get("days", list(WEEKDAYS[:5]))
        if not isinstance(days_raw, list) or any(d not in WEEKDAYS for d in days_raw):
            raise HoursConfigError(f"{source}: days must be a list of {', '.join(WEEKDAYS)}")
        year_end = None
        if raw.get("year_end"):
            ye = raw["year_end"]
            if not isinstance(ye, dict):
                raise HoursConfigError(f"{source}: year_end needs from: MM-DD and to: MM-DD")
            year_end = (
                _month_day(ye.get("from"), f"{source}: year_end.from"),
                _month_day(ye.get("to"), f"{source}: year_end.to"),
            )
        service = raw.get("service") or {}
        if not isinstance(service, dict):
            raise HoursConfigError(f"{source}: service needs start: and end: dates")
        start = _date(service["start"], f"{source}: service.start") if service.get("start") else None
        end = _date(service["end"], f"{source}: service.end") if service.get("end") else None
        if start and end and start > end:
            raise HoursConfigError(f"{source}: service.start is after service.end")
        closed: set[date] = set()
        for i, item in enumerate(raw.get("closed_dates") or []):
            value = item.get("date") if isinstance(item, dict) else item
            closed.add(_date(value, f"{source}: closed_dates[{i}]"))
        opened: dict[date, Window] = {}
        for i, item in enumerate(raw.get("open_dates") or []):
            where = f"{source}: open_dates[{i}]"
            if isinstance(item, dict):
                w = Window(
                    _time(item.get("open", raw.get("open", "11:00")), f"{where}.open"),
                    _time(item.get("close", raw.get("close", "20:00")), f"{where}.close"),
                )
                if w.open >= w.close:
                    raise HoursConfigError(f"{where}: open must be before close")
                opened[_date(item.get("date"), f"{where}.date")] = w
            else:
                opened[_date(item, where)] = window
        return cls(
            window=window,
            days=frozenset(WEEKDAYS.index(d) for d in days_raw),
            closed_on_national_holidays=bool(raw.get("closed_on_national_holidays", True)),
            year_end=year_end,
            service_start=start,
            service_end=end,
            closed_dates=frozenset(closed),
            open_dates=opened,
        )

    def schedule_text(self) -> str:
        """The regular hours in words for users (「平日 11時〜20時（土日祝・年末年始はお休み）」), derived from this
        configuration so the greeting can never disagree with the hours actually applied (R2)."""
        names = "月火水木金土日"
        days = "平日" if self.days == frozenset(range(5)) else "・".join(names[d] for d in sorted(self.days))
        closed = "".join(names[d] for d in (5, 6) if d not in self.days)
        if self.closed_on_national_holidays:
            closed += "祝"
        parts = [p for p in (closed, "年末年始" if self.year_end else "") if p]
        suffix = f"（{'・'.join(parts)}はお休み）" if parts else ""
        return f"{days} {_clock(self.window.open)}〜{_clock(self.window.close)}{suffix}"

    def closed_reason(self, day: date) -> str | None:
        """Why a whole local day has no window, or None when it has one. Order: most specific first."""
        if day in self.open_dates:
            return None
        if day in self.closed_dates:
            return "closed_date"
        if self._in_year_end(day):
            return "year_end"
        if self.closed_on_national_holidays:
            name = jpholiday.is_holiday_name(day)
            if name:
                return f"holiday:{name}"
        if day.weekday() not in self.days:
            return "weekend"
        return None

    def window_on(self, day: date) -> Window | None:
        """The consultation window of a local day, or None when the day is closed or outside the service."""
        if not self._in_service(day) or self.closed_reason(day):
            return None
        return self.open_dates.get(day, self.window)

    def decide(self, at: datetime) -> HoursDecision:
        """Open or closed at `at` (any timezone, never naive), with the reason and the next opening."""
        local = to_tokyo(at)
        day = local.date()
        if self.service_start and day < self.service_start:
            return HoursDecision(False, "service_not_started", self._next_open(local))
        if self.service_end and day > self.service_end:
            return HoursDecision(False, "service_ended", None)
        reason = self.closed_reason(day)
        if reason:
            return HoursDecision(False, reason, self._next_open(local))
        window = self.open_dates.get(day, self.window)
        now = local.time()
        if now < window.open:
            return HoursDecision(False, "before_opening", self._next_open(local))
        if now >= window.close:
            return HoursDecision(False, "after_closing", self._next_open(local))
        return HoursDecision(True, "open", local)

    def _next_open(self, local: datetime) -> datetime | None:
        day = local.date()
        if self.service_start and day < self.service_start:
            day = self.service_start
        for _ in range(_SEARCH_DAYS):
            if self.service_end and day > self.service_end:
                return None
            window = self.window_on(day)
            if window:
                opening = datetime.combine(day, window.open, tzinfo=TOKYO)
                if opening > local:
                    return opening
            day += timedelta(days=1)
        return None

    def _in_service(self, day: date) -> bool:
        return not (self.service_start and day < self.service_start) and not (
            self.service_end and day > self.service_end
        )

    def _in_year_end(self, day: date) -> bool:
        if not self.year_end:
            return False
        start, end = self.year_end
        md = (day.month, day.day)
        if start <= end:
            return start <= md <= end
        return md >= start or md <= end  # wraps over 1 January


def _clock(t: time) -> str:
    return f"{t.hour}時" if t.minute == 0 else f"{t.hour}時{t.minute:02d}分"


def format_next_open(dt: datetime) -> str:
    """Natural Japanese for a user-facing reply, e.g. 「11月25日(火) 11:00」."""
    local = to_tokyo(dt)
    return f"{local.month}月{local.day}日({WEEKDAY_JA[local.weekday()]}) {local:%H:%M}"


def hours_command(at_iso: str, data_dir: Path) -> str:
    """Body of `ycc hours --at ISO8601`: one JSON line; ValueError with a clear message on a bad timestamp."""
    at = parse_iso(at_iso)
    decision = HoursPolicy.load(Path(data_dir) / "hours.yml").decide(at)
    return json.dumps(decision.to_json(), ensure_ascii=False)


def _time(value: object, where: str) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 11:00 as the sexagesimal number 660.
        value = f"{value // 60:02d}:{value % 60:02d}"
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise HoursConfigError(f'{where}: expected a time like "11:00", got {value!r}') from None


def _date(value: object, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise HoursConfigError(f"{where}: expected a date like 2026-04-01, got {value!r}") from None


def _month_day(value: object, where: str) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in str(value).split("-"))
        date(2024, month, day)  # leap year, so 02-29 is accepted
    except ValueError:
        raise HoursConfigError(f'{where}: expected a month-day like "12-29", got {value!r}') from None
    return month, day
