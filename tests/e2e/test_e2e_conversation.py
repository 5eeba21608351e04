"""Conversations through the running stack: fake LINE → gateway → trained Rasa → action server → gateway → LINE.

Event timestamps are set on the events, so "in hours" and "out of hours" do not depend on when CI runs.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.support.databases import rows
from tests.support.fullstack import FullStack
from tests.support.servers import wait_for

TOKYO = ZoneInfo("Asia/Tokyo")
IN_HOURS = int(datetime(2026, 11, 25, 14, 0, tzinfo=TOKYO).timestamp() * 1000)  # Wednesday 14:00
OFF_HOURS = int(datetime(2026, 11, 25, 23, 0, tzinfo=TOKYO).timestamp() * 1000)  # Wednesday 23:00
_users = itertools.count(1)


def new_user() -> str:
    return f"U{next(_users):08d}" + "e" * 24


def say(full: FullStack, user: str, text: str, at: int = IN_HOURS) -> None:
    full.stack.send(user, {"type": "text", "text": text, "timestamp": at})


def tap(full: FullStack, user: str, title: str, payload: str, at: int = IN_HOURS) -> None:
    full.stack.send(user, {"type": "postback", "data": payload, "displayText": title, "timestamp": at})


def texts_after(full: FullStack, user: str, count: int) -> list[str]:
    return [m["text"] for m in full.stack.wait_delivered(user, count, timeout=30)]


def contact(full: FullStack, user: str) -> dict:
    return rows(full.database_url, "SELECT * FROM contacts WHERE line_user_id = :u", u=user)[0]


def conversation(full: FullStack, user: str) -> dict:
    return rows(
        full.database_url,
        "SELECT c.* FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.line_user_id = :u",
        u=user,
    )[0]


def test_friend_add_greets_in_japanese_and_asks_consent_with_quick_replies(full: FullStack) -> None:
    user = new_user()
    full.stack.send(user, {"type": "follow", "timestamp": IN_HOURS})
    delivered = wait_for(lambda: _with_quick_replies(full, user), timeout=30, what="consent question")
    joined = "\n".join(m["text"] for m in full.stack.delivered(user))
    assert "いしかわヤングケアラーチャンネル" in joined
    assert "無料" in joined and "秘密" in joined
    labels = [q["label"] for q in delivered["quickReply"]]
    assert any("同意" in label for label in labels), labels


def _with_quick_replies(full: FullStack, user: str) -> dict | None:
    return next((m for m in full.stack.delivered(user) if m["quickReply"]), None)


def test_consent_tap_is_stored_with_its_time_and_can_be_withdrawn(full: FullStack) -> None:
    user = new_user()
    full.stack.send(user, {"type": "follow", "timestamp": IN_HOURS})
    wait_for(lambda: _with_quick_replies(full, user), timeout=30)
    tap(full, user, "同意する", '/consent{"granted": true}')
    wait_for(lambda: contact(full, user)["consent"] in (1, True), timeout=30, what="consent stored")
    say(full, user, "同意をやめたい")
    wait_for(lambda: contact(full, user)["consent"] in (0, False), timeout=30, what="consent withdrawn")
    events = rows(
        full.database_url,
        "SELECT e.granted FROM consent_events e JOIN contacts k ON k.id = e.contact_id WHERE k.line_user_id = :u "
        "ORDER BY e.id",
        u=user,
    )
    assert [bool(e["granted"]) for e in events] == [True, False]


def test_asking_for_a_human_in_hours_queues_the_conversation(full: FullStack) -> None:
    user = new_user()
    say(full, user, "人と話したい")
    wait_for(lambda: conversation(full, user)["status"] == "queued", timeout=30, what="queued")
    joined = "\n".join(texts_after(full, user, 1))
    assert "相談員" in joined


def test_asking_for_a_human_out_of_hours_tells_the_next_opening_and_24h_lines(full: FullStack) -> None:
    user = new_user()
    say(full, user, "人と話したい", at=OFF_HOURS)
    wait_for(lambda: conversation(full, user)["status"] == "queued", timeout=30, what="kept for the next opening")
    wait_for(lambda: any("11:00" in m["text"] for m in full.stack.delivered(user)), timeout=30, what="next opening")
    joined = "\n".join(m["text"] for m in full.stack.delivered(user))
    assert "11月26日" in joined  # Thursday 11:00 is the next opening after Wednesday 23:00
    assert "0120-0-78310" in joined


def test_crisis_words_the_lexicon_misses_are_caught_by_the_trained_intent(full: FullStack) -> None:
    user = new_user()
    say(full, user, "もう全部終わりにしたい。生きていたくない")
    wait_for(lambda: conversation(full, user)["crisis"] in (1, True), timeout=30, what="crisis flag")
    joined = wait_for(
        lambda: "\n".join(m["text"] for m in full.stack.delivered(user) if "110" in m["text"]),
        timeout=30,
        what="hotlines",
    )
    assert "119" in joined
    assert rows(full.database_url, "SELECT count(*) AS n FROM escalations")[0]["n"] >= 1


def test_lexicon_crisis_at_23h_gets_help_in_seconds_without_the_bot(full: FullStack) -> None:
    user = new_user()
    say(full, user, "しにたい", at=OFF_HOURS)
    joined = "\n".join(texts_after(full, user, 1))
    assert "110" in joined and "0120-0-78310" in joined
    assert conversation(full, user)["priority"] >= 100


def test_a_question_gets_an_answer_from_the_bot(full: FullStack) -> None:
    user = new_user()
    say(full, user, "ヤングケアラーってなに？")
    joined = "\n".join(texts_after(full, user, 1))
    assert "ヤングケアラー" in joined


def test_the_intent_the_real_bot_read_is_stored_on_the_users_turn(full: FullStack) -> None:
    """Issue 14.7 / 12: the trainers' page needs what Rasa understood; the channel reports it, the gateway keeps it."""
    user = new_user()
    say(full, user, "ヤングケアラーって何のこと？")
    texts_after(full, user, 1)
    turn = wait_for(lambda: next((r for r in rows(
        full.database_url,
        "SELECT m.nlu_intent, m.nlu_confidence FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "JOIN contacts k ON k.id = c.contact_id WHERE k.line_user_id = :u AND m.sender = 'user'", u=user)
        if r["nlu_intent"]), None), timeout=30, what="stored intent")
    assert turn["nlu_intent"] == "ask_what_is_yc"
    assert 0.0 < turn["nlu_confidence"] <= 1.0
