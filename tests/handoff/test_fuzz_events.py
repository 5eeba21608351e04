"""Property-based tests of what a LINE event may be on the way in (handoff/line/events.py, issue 18.6).

Any JSON value is either refused with a reason (`problem`) or repaired into something every later statement can
store (`cleaned`): valid UTF-8, no NUL, no number JSON cannot write, optional fields of the right type and length,
and nothing else of what the user wrote changed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from handoff.line.events import MAX_ID, OPTIONAL_MESSAGE_STRINGS, OPTIONAL_STRINGS, clean_text, cleaned, problem
from handoff.line.messages import MAX_TEXT
from handoff.pipeline.inbox import event_id, source_key, store_events
from handoff.settings import normalise_database_url
from handoff.store.db import Database
from handoff.store.migrate import upgrade_async
from tests.support.databases import rows
from tests.support.fuzz import fuzz
from tests.support.inprocess import text_event

# Texts as people and broken clients write them: any code point (lone surrogates and NUL included), emoji, and now
# and then more than LINE's limit.
EMOJI = st.sampled_from(["😢", "🙏", "👨‍👩‍👧", "❤️", "🏳️‍🌈", "🇯🇵", "😂"])
TEXT = st.one_of(
    st.text(st.characters(codec=None), max_size=50),
    st.lists(st.one_of(EMOJI, st.sampled_from(["\x00", "\ud800", "\udfff", "つらい", "a"])), max_size=20).map("".join),
    st.integers(4_990, 6_000).map(lambda n: ("長い話" * n)[:n]),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), TEXT)
JSON_VALUE = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=20)
OPTIONAL = st.one_of(st.text(max_size=300), st.integers(), st.booleans(), st.none(), JSON_VALUE)


@st.composite
def line_like(draw: st.DrawFn) -> dict[str, Any]:
    """An event close enough to LINE's that the interesting fields are reached, each of them possibly wrong."""
    event: dict[str, Any] = draw(st.dictionaries(st.text(max_size=8), JSON_VALUE, max_size=3))
    event.update(type=draw(st.sampled_from(["message", "follow", "postback"]) | JSON_VALUE),
                 source=draw(st.fixed_dictionaries({"type": st.just("user"), "userId": st.one_of(
                     st.text(max_size=MAX_ID + 2), st.integers(), st.none())}) | JSON_VALUE),
                 message=draw(st.fixed_dictionaries({"type": st.just("text"), "text": TEXT | JSON_VALUE}, optional={
                     name: OPTIONAL for name in OPTIONAL_MESSAGE_STRINGS}) | JSON_VALUE))
    for name in OPTIONAL_STRINGS:
        if draw(st.booleans()):
            event[name] = draw(OPTIONAL)
    return event


def _walk(value: Any) -> list[Any]:
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        found.append(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _fits(value: Any, limit: int) -> bool:
    """An optional field as the worker reads it: absent or null, or a string it can store."""
    return value is None or (isinstance(value, str) and len(value) <= limit)


@fuzz()
@given(st.one_of(JSON_VALUE, line_like()))
def test_every_value_is_refused_with_a_reason_or_cleaned_into_something_storable(value: Any) -> None:
    why = problem(value)
    if why is not None:
        assert isinstance(why, str) and why
        return
    event = cleaned(value)
    json.dumps(event, ensure_ascii=False, allow_nan=False).encode("utf-8")  # PostgreSQL json and UTF-8 both take it
    assert not any(isinstance(v, str) and "\x00" in v for v in _walk(event))
    assert not any(isinstance(v, float) and not math.isfinite(v) for v in _walk(event))
    assert cleaned(event) == event
    assert len(event_id(event)) <= 64 and isinstance(source_key(event), str)
    for name, limit in OPTIONAL_STRINGS.items():
        assert _fits(event.get(name), limit)
    message = event.get("message")
    if isinstance(message, dict):
        for name, limit in OPTIONAL_MESSAGE_STRINGS.items():
            assert _fits(message.get(name), limit)


@fuzz()
@given(TEXT)
def test_a_text_loses_nothing_but_what_cannot_be_stored_and_what_line_never_sends(text: str) -> None:
    event = text_event("U" + "a" * 32, text, 1)
    assert problem(event) is None
    kept = cleaned(event)["message"]["text"]
    assert kept == clean_text(text)[:MAX_TEXT]
    assert len(kept) == min(len(text), MAX_TEXT)  # one U+FFFD for each unstorable character, nothing dropped
    if "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text) and len(text) <= MAX_TEXT:
        assert kept == text


@fuzz()
@given(st.one_of(JSON_VALUE.filter(lambda v: not isinstance(v, str)), st.text(max_size=MAX_ID + 10)))
def test_a_user_id_that_is_not_a_short_string_is_refused_by_name(user_id: Any) -> None:
    event = text_event("U", "こんにちは", 1)
    event["source"]["userId"] = user_id
    why = problem(event)
    acceptable = user_id is None or (isinstance(user_id, str) and len(user_id) <= MAX_ID)
    assert (why is None) == acceptable
    if not acceptable:
        assert "source.userId" in why  # type: ignore[operator]


async def test_a_number_json_cannot_write_is_stored_as_null_with_the_rest_of_the_batch(
    db_url: str, tmp_path: Path
) -> None:
    """Found by fuzzing: NaN, Infinity and 1e400 (json.loads reads them) failed PostgreSQL's json type, so the
    whole batch was a 500 that LINE redelivers for ever, its good events never stored."""
    url = normalise_database_url(db_url)
    await upgrade_async(url)
    events = [text_event("U" + "b" * 32, "ふつうの話", 1), text_event("U" + "c" * 32, "数がへん", 2)]
    events[1].update(json.loads('{"x": NaN, "y": [1e400, -Infinity], "z": 1e999}'))
    db = Database(url)
    try:
        await store_events(db, events)  # its count is -1 on PostgreSQL (ON CONFLICT); the rows say
    finally:
        await db.close()
    stored = rows(db_url, "SELECT webhook_event_id, body FROM inbox ORDER BY webhook_event_id")
    body = stored[1]["body"] if isinstance(stored[1]["body"], dict) else json.loads(stored[1]["body"])
    assert [r["webhook_event_id"] for r in stored] == ["T" + "0" * 23 + "1", "T" + "0" * 23 + "2"]
    assert (body["x"], body["y"], body["z"], body["message"]["text"]) == (None, [None, None], None, "数がへん")
