"""Step two of a bot turn (handoff/pipeline/bot_step.py), in-process on both storages: what is stored and what LINE is
sent, for a plain answer, an answer that must wait behind older messages, a row another run already answered, an
answer too long for one LINE request, and the intent NLU read kept on the user's turn."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from handoff.pipeline.bot_step import BotCall
from handoff.pipeline.inbox import store_events
from handoff.pipeline.rasa import BotReply, Understood
from handoff.settings import normalise_database_url
from handoff.store.migrate import upgrade
from tests.support.databases import execute, rows
from tests.support.inprocess import InProcess, InstantRasa, in_process, text_event

USER = "U" + "5" * 32


class Saying(InstantRasa):
    """Rasa whose answer is the given texts, in order."""

    def __init__(self, *texts: str) -> None:
        super().__init__()
        self.texts = texts

    async def send(self, sender: str, message: str, metadata: dict[str, Any]) -> BotReply:
        self.asked.append(message)
        return BotReply([{"recipient_id": sender, "text": t} for t in self.texts], self.understood)


def _run(db_url: str, rasa: InstantRasa, scenario: Callable[[InProcess], Awaitable[Any]]) -> Any:
    url = normalise_database_url(db_url)
    upgrade(url)

    async def run() -> Any:
        async with in_process(url, rasa) as worker:
            return await scenario(worker)

    return asyncio.run(run())


async def _turn(worker: InProcess, text_: str, n: int) -> None:
    await store_events(worker.res.db, [text_event(USER, text_, n)])
    await worker.inbox.drain(USER)


def _out(db_url: str) -> list[dict[str, Any]]:
    return rows(
        db_url,
        "SELECT m.text, m.delivery, m.outbox_id, o.status, o.sent_via, o.attempts, o.reply_token "
        "FROM messages m JOIN outbox o ON o.id = m.outbox_id WHERE m.direction = 'out' ORDER BY m.id",
    )


def test_an_answer_of_several_messages_goes_out_in_one_reply_and_is_stored_as_sent(db_url: str) -> None:
    async def scenario(worker: InProcess) -> list[dict[str, Any]]:
        await _turn(worker, "こんにちは", 1)
        return worker.line.sent

    sent = _run(db_url, Saying("こんにちは！", "ここは相談の窓口です。", "話してみる？"), scenario)
    assert [(m["to"], m["text"]) for m in sent] == [
        (None, "こんにちは！"),  # to=None: by the reply token, not by push
        (None, "ここは相談の窓口です。"),
        (None, "話してみる？"),
    ]
    out = _out(db_url)
    assert [m["text"] for m in out] == ["こんにちは！", "ここは相談の窓口です。", "話してみる？"]
    assert {(m["delivery"], m["status"], m["sent_via"], m["attempts"], m["reply_token"]) for m in out} == {
        ("sent", "sent", "reply", 1, None)
    }
    assert len({m["outbox_id"] for m in out}) == 1
    assert rows(db_url, "SELECT status FROM inbox") == [{"status": "done"}]
    shown = rows(db_url, "SELECT direction, text FROM messages ORDER BY id")
    assert shown[0] == {"direction": "in", "text": "こんにちは"}  # the user's turn comes first in the console


def test_an_answer_waits_behind_an_older_unsent_message_and_keeps_its_reply_token(db_url: str) -> None:
    """Order per user: while an earlier message waits for a retry, a new answer must not overtake it."""

    def older_waiting() -> None:
        execute(
            db_url,
            "INSERT INTO outbox (kind, recipient, messages, retry_key, status, attempts, created_at, "
            "next_attempt_at) VALUES ('message', :user, '[]', 'older', 'pending', 1, :at, :later)",
            user=USER,
            at=datetime.now(UTC),
            later=datetime.now(UTC) + timedelta(hours=1),
        )

    async def scenario(worker: InProcess) -> list[dict[str, Any]]:
        await _turn(worker, "こんにちは", 1)
        older_waiting()
        await _turn(worker, "きいてほしい", 2)
        return worker.line.sent

    sent = _run(db_url, InstantRasa(), scenario)
    assert [m["text"] for m in sent] == ["bot:こんにちは"]  # the second answer is not sent ahead of the older one
    second = _out(db_url)[-1]
    assert second["text"] == "bot:きいてほしい"
    assert (second["status"], second["delivery"], second["attempts"]) == ("pending", "pending", 0)
    assert second["reply_token"] == "r" + "2".rjust(31, "0")  # kept for the sender, which will try it first
    assert [r["status"] for r in rows(db_url, "SELECT status FROM inbox ORDER BY id")] == ["done", "done"]


def test_a_row_another_run_already_answered_is_not_answered_twice(db_url: str) -> None:
    async def scenario(worker: InProcess) -> list[dict[str, Any]]:
        await _turn(worker, "こんにちは", 1)
        (row,) = rows(db_url, "SELECT id FROM inbox")
        (conversation,) = rows(db_url, "SELECT id FROM conversations")
        event = text_event(USER, "こんにちは", 1)
        call = BotCall(
            row["id"], "c-x", USER, "こんにちは", {"conversation_id": conversation["id"]}, datetime.now(UTC), event
        )
        await worker.inbox.router.bot.answer(row["id"], call)  # as a resumed run would, after the first finished
        return worker.line.sent

    sent = _run(db_url, InstantRasa(), scenario)
    assert [m["text"] for m in sent] == ["bot:こんにちは"]
    assert [m["text"] for m in _out(db_url)] == ["bot:こんにちは"]


def test_an_answer_of_more_than_five_messages_is_stored_as_two_requests_in_order(db_url: str) -> None:
    """LINE takes at most five messages per call; the sender sends both requests (only the first by reply)."""
    texts = [f"{n}つめ" for n in range(1, 8)]

    async def scenario(worker: InProcess) -> list[dict[str, Any]]:
        await _turn(worker, "こんにちは", 1)
        return worker.line.sent

    sent = _run(db_url, Saying(*texts), scenario)
    assert sent == []  # not claimed at once: handed to the sender, which keeps the two in order
    out = _out(db_url)
    assert [m["text"] for m in out] == texts
    first, second = out[0]["outbox_id"], out[-1]["outbox_id"]
    assert first < second and [m["outbox_id"] for m in out] == [first] * 5 + [second] * 2
    assert out[0]["reply_token"] == "r" + "1".rjust(31, "0") and out[-1]["reply_token"] is None
    assert {m["status"] for m in out} == {"pending"}


def test_the_intent_nlu_read_is_kept_on_the_users_turn_for_trainers(db_url: str) -> None:
    """Issue 14.7: the trainer page shows what each user turn was read as; only that turn gets it."""
    rasa = InstantRasa()

    async def scenario(worker: InProcess) -> None:
        rasa.understood = Understood("ask_hours", 0.8731)
        await _turn(worker, "なんじまでやってる？", 1)
        rasa.understood = None  # a turn the channel could not label (an older bot) leaves it empty
        await _turn(worker, "ふーん", 2)

    _run(db_url, rasa, scenario)
    turns = rows(db_url, "SELECT sender, text, nlu_intent, nlu_confidence FROM messages ORDER BY id")
    assert [(t["sender"], t["text"], t["nlu_intent"]) for t in turns] == [
        ("user", "なんじまでやってる？", "ask_hours"), ("bot", "bot:なんじまでやってる？", None),
        ("user", "ふーん", None), ("bot", "bot:ふーん", None),
    ]
    assert abs(turns[0]["nlu_confidence"] - 0.8731) < 1e-6


def test_a_message_the_bot_answers_with_nothing_still_gets_an_answer(db_url: str) -> None:
    """Issue 14: no message goes unanswered, even when a dialogue turn ends on a silent action."""
    from handoff.domain.content import Content
    from tests.support.servers import ROOT

    async def scenario(worker: InProcess) -> list[dict[str, Any]]:
        await _turn(worker, "んー", 1)
        return worker.line.sent

    sent = _run(db_url, Saying(), scenario)
    assert [m["text"] for m in sent] == [Content.load(ROOT / "data").reply("bot_silent")]
