"""A crisis never waits behind other users' work in the worker (issue 18.7, bench/bench_prod.py).

Measured under a burst of 50 messages/s, a new user's crisis waited a minute for its alert: every worker slot was
held by chatty users through their Rasa turns. Now step one (the screen, the reply with 110/119, the alert) and
step two (Rasa) have slots of their own and a waiting user holds neither; the webhook marks the senders of texts
the screen reads as a crisis, and their routing takes no slot at all.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import select

from handoff.domain.safety import default_screen
from handoff.pipeline.inbox import InboxWorker, store_events, urgent_users
from handoff.runtime.keyed import KeyedRunner
from handoff.settings import normalise_database_url
from handoff.store.migrate import upgrade
from handoff.store.models import Contact, Conversation, Escalation
from tests.support.inprocess import InProcess, InstantRasa, in_process, text_event

CRISIS = "もう消えたい。今日で終わりにする"
CHATTY = [f"Uchat{i:027x}" for i in range(6)]
NEW = "Ucrisis0000000000000000000000000"


async def _escalated(worker: InProcess) -> list[str]:
    """The LINE users whose conversation has a crisis case opened (what step one does with the alert)."""
    async with worker.res.db.session() as session:
        found = await session.scalars(
            select(Contact.line_user_id).join(Conversation, Conversation.contact_id == Contact.id)
            .join(Escalation, Escalation.conversation_id == Conversation.id).order_by(Escalation.id))
        return list(found)


def _run(db_url: str, scenario: Any) -> Any:
    url = normalise_database_url(db_url)
    upgrade(url)

    async def slow_rasa(sender: str, message: str, metadata: dict[str, Any]) -> None:
        await asyncio.sleep(1.5)  # a Rasa that is slow under load

    async def run() -> Any:
        async with in_process(url, InstantRasa(slow_rasa)) as worker:
            return await scenario(worker)

    return asyncio.run(run())


def test_a_new_users_crisis_is_answered_while_every_rasa_slot_is_busy(sqlite_url: str) -> None:
    async def scenario(worker: InProcess) -> tuple[float, int]:
        inbox = InboxWorker(worker.res.db, worker.inbox.router, route_width=2, bot_width=2)
        runner = KeyedRunner("inbox", inbox.due_users, inbox.drain, 0.05, concurrency=1000)
        runner.start()
        try:
            await store_events(worker.res.db, [text_event(u, "こんにちは", i) for i, u in enumerate(CHATTY)])
            runner.wake(CHATTY)
            await asyncio.sleep(0.3)  # every chatty user is in step two or waiting for a Rasa slot
            start = time.perf_counter()
            await store_events(worker.res.db, [text_event(NEW, CRISIS, 100)])
            runner.wake([NEW])
            for _ in range(1000):  # 10 s at most
                if await _escalated(worker):
                    break
                await asyncio.sleep(0.01)
            took = time.perf_counter() - start
            return took, len(worker.rasa.asked)
        finally:
            await runner.stop()

    took, asked = _run(sqlite_url, scenario)
    assert took < 1.0, f"the crisis reply took {took:.2f} s"
    assert asked < len(CHATTY)  # the slow turns were still under way: the crisis did not wait for them


def test_an_urgent_user_is_routed_while_every_routing_slot_is_taken(sqlite_url: str) -> None:
    async def scenario(worker: InProcess) -> tuple[list[str], list[str]]:
        inbox = InboxWorker(worker.res.db, worker.inbox.router, route_width=1, bot_width=1)
        other = "Uother000000000000000000000000000"
        await store_events(worker.res.db, [text_event(NEW, CRISIS, 1), text_event(other, CRISIS, 2)])
        async with inbox._route_slots:  # a long step one of someone else holds the only routing slot
            inbox.prioritise([NEW])
            urgent = asyncio.create_task(inbox.drain(NEW))
            waiting = asyncio.create_task(inbox.drain(other))
            await asyncio.wait({urgent}, timeout=5)
            routed_while_held = await _escalated(worker)
            assert not waiting.done()
        await asyncio.wait_for(waiting, 5)
        return routed_while_held, await _escalated(worker)

    while_held, after = _run(sqlite_url, scenario)
    assert while_held == [NEW]
    assert after == [NEW, "Uother000000000000000000000000000"]  # the other's turn came once the slot was free


def test_the_webhook_marks_only_senders_of_texts_the_screen_reads_as_danger() -> None:
    screen = default_screen()
    events = [
        text_event("Ua", CRISIS, 1),
        text_event("Ub", "おばあちゃんが倒れて息してない", 2),
        text_event("Uc", "おとうとがまだ2さいで", 3),
        {**text_event("Ud", "", 4), "message": {"type": "sticker", "id": "4", "packageId": "1", "stickerId": "1"}},
        {"type": "follow", "source": {"type": "user", "userId": "Ue"}},
    ]
    assert urgent_users(screen, events) == ["Ua", "Ub"]
