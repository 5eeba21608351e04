"""Information deliveries (issue 17 item 1) through the worker's sender against the fake LINE over HTTP, on SQLite
and PostgreSQL: batches of 500 with a retry key each, never to blocked friends, silent, 429 pause and resume
without a second message, scheduled deliveries that survive a restart and are sent once."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from handoff.domain import broadcasts
from handoff.line.client import LineClient
from handoff.pipeline.broadcasts import BroadcastSender
from handoff.settings import normalise_database_url
from handoff.simulator.fakeline import FakeLine
from handoff.store.db import Database
from handoff.store.migrate import upgrade_async
from handoff.store.models import Alert, Contact
from handoff.store.models_broadcasts import Broadcast
from handoff.store.types import utcnow
from tests.handoff.fakeline_harness import TOKEN, sanic_test_mode  # noqa: F401  (autouse fixture)

Line = tuple[FakeLine, Any, httpx.AsyncClient]
TEXT = "冬休みの相談時間のお知らせです。https://example.jp/info"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    await upgrade_async(normalise_database_url(db_url))
    handle = Database(normalise_database_url(db_url))
    yield handle
    await handle.close()


def user() -> str:
    return "U" + secrets.token_hex(16)


async def friends(db: Database, n: int, *, following: bool = True, consent: bool | None = None,
                  answers: dict[str, Any] | None = None) -> list[str]:
    ids = [user() for _ in range(n)]
    async with db.session() as session:
        session.add_all(Contact(key=secrets.token_hex(8), line_user_id=u, following=following, consent=consent,
                                profile=answers or {}) for u in ids)
    return ids


async def create(db: Database, **body: Any) -> int:
    async with db.session() as session:
        made = await broadcasts.create(session, {"text": TEXT, **body}, author="sv", user_id=None, now=utcnow())
        return made.id


async def state(db: Database, broadcast_id: int) -> Broadcast:
    async with db.session() as session:
        found = await session.get(Broadcast, broadcast_id)
        assert found is not None
        return found


def multicasts(fake: FakeLine) -> list[dict[str, Any]]:
    return [r for r in fake.requests if r["endpoint"] == "multicast"]


def received(fake: FakeLine, users: list[str]) -> dict[str, int]:
    return {u: sum(1 for m in fake.messages_for(u) if m["via"] == "multicast") for u in users}


@pytest.fixture
async def sender(db: Database, line: Line) -> AsyncIterator[BroadcastSender]:
    client = LineClient(str(line[2].base_url), TOKEN)
    yield BroadcastSender(db, client)
    await client.close()


async def test_a_delivery_goes_in_batches_of_500_each_with_its_own_key_silently_and_never_to_blocked_friends(
    db: Database, line: Line, sender: BroadcastSender
) -> None:
    fake = line[0]
    reached = await friends(db, 1001)
    blocked = await friends(db, 2, following=False)
    for u in blocked:
        fake.chat(u).blocked = True
    broadcast_id = await create(db, silent=True)
    assert (await state(db, broadcast_id)).recipients == 1001
    await sender.drain(str(await_one(await sender.due())))
    calls = multicasts(fake)
    assert [len(c["body"]["to"]) for c in calls] == [500, 500, 1]
    assert len({c["retry_key"] for c in calls}) == 3 and all(c["status"] == 200 for c in calls)
    assert all(c["body"]["notificationDisabled"] is True and c["body"]["messages"] == [{"type": "text", "text": TEXT}]
               for c in calls)
    assert set(received(fake, reached).values()) == {1} and received(fake, blocked) == {u: 0 for u in blocked}
    assert fake.messages_for(reached[0])[0]["silent"] is True  # the simulator shows it came without a sound
    done = await state(db, broadcast_id)
    assert (done.status, done.sent, done.skipped, done.failed) == ("sent", 1001, 0, 0)
    assert list(await sender.due()) == []


def await_one(due: Any) -> str:
    items = list(due)
    assert len(items) == 1, items
    return items[0]


async def test_a_429_pauses_the_delivery_alerts_staff_and_it_resumes_without_anyone_getting_it_twice(
    db: Database, line: Line, sender: BroadcastSender
) -> None:
    fake = line[0]
    everyone = await friends(db, 1100)
    broadcast_id = await create(db)
    # batch 1 goes; batch 2 is accepted but its answer is lost (a 500): its retry must get 409, not a second copy;
    # batch 3 meets the monthly quota. ({"delay": 0} is a normal answer.)
    fake.add_faults("multicast", [{"delay": 0}, {"status": 500, "deliver": True}], None)
    await sender.drain(str(broadcast_id))
    b = await state(db, broadcast_id)
    assert (b.status, b.sent) == ("sending", 500)
    fake.add_faults("multicast", [{"delay": 0}, {"status": 429, "message": "You have reached your monthly limit."}],
                    None)
    async with db.session() as session:
        await session.execute(update(Broadcast).values(next_attempt_at=utcnow()))  # the backoff is over
    await sender.drain(str(broadcast_id))
    paused = await state(db, broadcast_id)
    assert (paused.status, paused.sent, paused.last_error) == ("paused", 1000, "429 monthly quota")
    assert paused.next_attempt_at > utcnow() + timedelta(minutes=20)
    assert list(await sender.due()) == []  # nothing goes until the pause is over
    async with db.session() as session:
        alert = (await session.scalars(select(Alert).where(Alert.type == "broadcast_paused"))).one()
        assert alert.conversation_id is None
        # one friend of the last batch blocks the account while it is paused
        await session.execute(update(Contact).where(Contact.line_user_id == everyone[-1]).values(following=False))
        b = await session.get(Broadcast, broadcast_id)
        assert b is not None and broadcasts.resume(b, utcnow())
    fake.chat(everyone[-1]).blocked = True
    await sender.drain(str(broadcast_id))
    statuses = [c["status"] for c in multicasts(fake)]
    assert statuses == [200, 500, 409, 429, 200]
    counts = received(fake, everyone)
    assert set(counts[u] for u in everyone[:-1]) == {1} and counts[everyone[-1]] == 0
    done = await state(db, broadcast_id)
    assert (done.status, done.sent, done.skipped, done.failed) == ("sent", 1099, 1, 0)


async def test_a_scheduled_delivery_waits_survives_a_restart_and_is_sent_once(
    db: Database, db_url: str, line: Line
) -> None:
    fake = line[0]
    people = await friends(db, 3)
    at = utcnow() + timedelta(seconds=1.5)
    broadcast_id = await create(db, send_at=at.isoformat())
    first = BroadcastSender(db, LineClient(str(line[2].base_url), TOKEN))
    assert list(await first.due()) == []
    await first.line.close()
    # the gateway restarts: a new database handle and a new sender find the delivery in the table
    again = Database(normalise_database_url(db_url))
    second = BroadcastSender(again, LineClient(str(line[2].base_url), TOKEN))
    try:
        await asyncio.sleep(max(0.0, (at - utcnow()).total_seconds()) + 0.1)
        await second.drain(await_one(await second.due()))
        await second.drain(str(broadcast_id))  # a second look (the next poll) sends nothing more
    finally:
        await second.line.close()
        await again.close()
    assert len(multicasts(fake)) == 1 and set(received(fake, people).values()) == {1}
    assert (await state(db, broadcast_id)).status == "sent"


async def test_a_segment_picks_only_consented_friends_and_an_empty_one_is_refused(db: Database) -> None:
    wanted = await friends(db, 2, consent=True, answers={"role": "guardian", "municipality": "金沢市"})
    await friends(db, 1, consent=None, answers={"role": "guardian", "municipality": "金沢市"})  # no consent
    await friends(db, 1, consent=True, answers={"role": "self", "municipality": "金沢市"})
    await friends(db, 1, consent=True, answers={"care_recipients": ["mother", "sibling"]})
    async with db.session() as session:
        segment = broadcasts.parse_segment({"role": ["guardian"], "municipality": ["金沢市", "七尾市"]})
        assert sorted(await broadcasts.audience(session, segment)) == sorted(wanted)
        assert len(await broadcasts.audience(session, {"care_recipients": ["sibling"]})) == 1
        assert len(await broadcasts.audience(session, {})) == 5  # all friends, consent or not
        with pytest.raises(broadcasts.EmptySegment) as empty:
            await broadcasts.create(session, {"text": TEXT, "segment": {"age_band": ["40_over"]}}, author="sv",
                                    user_id=None, now=utcnow())
        assert "当てはまる友だちはいません" in empty.value.message
        assert (await session.scalars(select(Broadcast))).all() == []


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"text": "あ" * 5001}, "text", "5000文字まで"),
    ({"text": "😀" * 2501}, "text", "5000文字まで"),  # LINE counts UTF-16 units: an emoji is two
    ({"text": "  "}, "text", "入力してください"),
    ({"text": "x", "segment": {"school": ["a"]}}, "segment", "使えない項目"),
    ({"text": "x", "segment": {"age_band": ["99"]}}, "segment", "使えない値"),
    ({"text": "x", "segment": {"gender": ["female"]}}, "segment", "使えない項目"),
    ({"text": "x", "send_at": "2020-01-01T10:00"}, "send_at", "過ぎています"),
    ({"text": "x", "send_at": "来週"}, "send_at", "2026-12-24T18:00"),
    ({"text": "x", "silent": "yes"}, "silent", "true か false"),
])
def test_input_a_delivery_cannot_be_made_from_is_refused_with_a_reason(
    body: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(broadcasts.BroadcastError) as refused:
        broadcasts.validated(body, utcnow())
    assert refused.value.field == field and words in refused.value.message


async def test_the_fake_line_multicast_checks_auth_size_and_retry_keys(line: Line) -> None:
    fake, _, client = line
    key = "123e4567-e89b-12d3-a456-426614174000"
    body = {"to": [user()], "messages": [{"type": "text", "text": "hi"}]}
    assert (await client.post("/v2/bot/message/multicast", json=body,
                              headers={"Authorization": "Bearer wrong"})).status_code == 401
    big = await client.post("/v2/bot/message/multicast", json={**body, "to": [user() for _ in range(501)]})
    assert big.status_code == 400 and big.json()["details"][0]["property"] == "to"
    first = await client.post("/v2/bot/message/multicast", json=body, headers={"X-Line-Retry-Key": key})
    again = await client.post("/v2/bot/message/multicast", json=body, headers={"X-Line-Retry-Key": key})
    assert (first.status_code, first.json(), again.status_code) == (200, {}, 409)
    assert again.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert len(fake.messages_for(body["to"][0])) == 1


async def test_a_delivery_stopped_while_a_batch_is_on_its_way_counts_that_batch_and_sends_no_more(
    db: Database, line: Line, sender: BroadcastSender
) -> None:
    fake = line[0]
    await friends(db, 1001)
    broadcast_id = await create(db)
    fake.add_faults("multicast", [{"delay": 0.5}], None)  # the first request takes half a second
    sending = asyncio.create_task(sender.drain(str(broadcast_id)))
    await asyncio.sleep(0.25)
    async with db.session() as session:
        b = await session.get(Broadcast, broadcast_id)
        assert b is not None and broadcasts.cancel(b, utcnow())
    await sending
    stopped = await state(db, broadcast_id)
    assert (stopped.status, stopped.sent, len(multicasts(fake))) == ("cancelled", 500, 1)
    assert list(await sender.due()) == []
