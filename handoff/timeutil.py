"""Time at the edges: Asia/Tokyo for people, aware UTC inside."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


def to_tokyo(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    return at.astimezone(TOKYO)


def from_line_timestamp(ms: int | float | str | None) -> datetime:
    """LINE's event `timestamp` (ms since epoch) as an aware datetime; the event's time drives every decision."""
    try:
        return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp that must carry an offset."""
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset; add +09:00 or Z")
    return at
