"""Properties that must hold for every input, not only the examples we thought of (issue 18.6).

The signed webhook over HTTP (any bytes, any signature: refused clearly or stored, never a 5xx, never stored unsigned),
LINE's timestamp (any value gives a time the hours rules and the console can use), the hours rules (the same instant
gives the same decision in every timezone; a closed answer always says when it opens), and the safety screen's
folding (any text, lone surrogates and NUL included, is screened without an exception).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
from hypothesis import given
from hypothesis import strategies as st

from handoff.domain.hours import HoursPolicy
from handoff.domain.safety.normalise import normalise
from handoff.domain.safety.screen import screen
from handoff.timeutil import LATEST, LINE_EPOCH, from_line_timestamp, to_tokyo
from tests.handoff.test_webhook import post, sign
from tests.support.databases import rows
from tests.support.fuzz import fuzz
from tests.support.servers import Stack

ROOT = Path(__file__).resolve().parents[2]
HOURS = HoursPolicy.load(ROOT / "data" / "hours.yml")
NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
ANY_TEXT = st.text(st.characters(codec=None), max_size=200)
TIMESTAMP = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                      st.text(max_size=30), st.integers(-10**30, 10**30).map(str))
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
INSTANTS = st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC))


@given(TIMESTAMP)
@fuzz()
def test_any_line_timestamp_gives_a_usable_time_between_lines_launch_and_the_year_3000(value: object) -> None:
    at = from_line_timestamp(value, now=NOW)  # type: ignore[arg-type]
    assert at.tzinfo is not None and LINE_EPOCH <= at <= LATEST
    assert to_tokyo(at).tzinfo is not None
    assert HOURS.decide(at).reason


@given(st.integers(int(LINE_EPOCH.timestamp() * 1000), int(LATEST.timestamp() * 1000)))
@fuzz()
def test_a_real_event_time_is_kept_to_the_millisecond(ms: int) -> None:
    assert round(from_line_timestamp(ms, now=NOW).timestamp() * 1000) == ms


@given(INSTANTS, OFFSETS)
@fuzz()
def test_hours_decide_on_the_instant_whatever_timezone_it_is_written_in(at: datetime, zone: timezone) -> None:
    in_utc, elsewhere = HOURS.decide(at), HOURS.decide(at.astimezone(zone))
    assert in_utc == elsewhere
    assert in_utc.open == (in_utc.reason == "open")
    if not in_utc.open and in_utc.next_open is not None:
        assert in_utc.next_open > at  # a closed answer never names an opening in the past
        assert HOURS.decide(in_utc.next_open).open  # and the time it names is open


@given(ANY_TEXT)
@fuzz()
def test_any_text_is_folded_and_screened_without_an_exception(text: str) -> None:
    folded = normalise(text)
    assert not any(ch.isspace() for ch in folded)
    assert screen(text).level in {None, "crisis", "concern", "emergency_other"}


HEADER_TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60)  # what HTTP can carry


@given(st.binary(max_size=300), st.one_of(st.none(), HEADER_TEXT))
@fuzz(40)
def test_a_body_without_its_signature_is_refused_and_nothing_is_stored(stack: Stack, body: bytes,
                                                                       signature: str | None) -> None:
    if signature == sign(body):
        return
    response = post(stack, body, signature)
    try:
        body.decode("utf-8")
        expected = "invalid_signature"
    except UnicodeDecodeError:
        expected = "invalid_body"  # refused before the signature is even read
    assert response.status_code == 400 and response.json()["error"] == expected
    assert rows(stack.database_url, "SELECT count(*) AS n FROM inbox")[0]["n"] == 0


JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=12)
BODIES = st.one_of(JSON_VALUE, st.fixed_dictionaries({"destination": st.text(max_size=10), "events": st.lists(
    st.dictionaries(st.sampled_from(["type", "source", "message", "webhookEventId", "timestamp", "replyToken"]),
                    JSON_VALUE, max_size=6), max_size=3)}))


@given(BODIES)
@fuzz(40)
def test_a_signed_body_of_any_shape_is_answered_200_or_a_named_400(stack: Stack, value: object) -> None:
    body = json.dumps(value).encode()
    response: httpx.Response = post(stack, body, sign(body))
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"] in {"invalid_json", "invalid_body", "invalid_events"}
