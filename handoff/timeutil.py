"""Time at the edges: Asia/Tokyo for people, aware UTC inside."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


def to_tokyo(at: datetime) -> datetime:
    """Asia/Tokyo view of an aware datetime; naive ones are refused because their zone is a guess."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(
            f"datetime {at.isoformat()} has no timezone; pass an aware datetime such as "
            "2026-11-24T10:00:00+09:00 or one in UTC"
        )
    return at.astimezone(TOKYO)


LINE_EPOCH = datetime(2011, 6, 23, tzinfo=UTC)  # LINE's launch: no event is older
LATEST = datetime(3000, 1, 1, tzinfo=UTC)  # far from datetime's year-9999 edge, where Tokyo time overflows


def from_line_timestamp(ms: int | float | str | None, now: datetime | None = None) -> datetime:
    """LINE's event `timestamp` (ms since epoch) as an aware datetime; the event's time drives every decision.

    A value that cannot be a real event's time (unparseable, before LINE existed, or so far ahead that Tokyo time
    could overflow datetime) is replaced by `now`, so hours rules and the console never see year 9999. A time merely
    in the future is kept: tests (and the simulator) send events dated when a rule should apply."""
    now = now or datetime.now(UTC)
    try:
        at = datetime.fromtimestamp(int(ms) / 1000, tz=UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return now
    return at if LINE_EPOCH <= at <= LATEST else now


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp with an offset (or Z); errors say what a good one looks like."""
    text = value.strip()
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}; expected e.g. 2026-11-24T10:00:00+09:00") from None
    if at.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset; add one, e.g. 2026-11-24T10:00:00+09:00 or ...Z")
    return at
