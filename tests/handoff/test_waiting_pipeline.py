"""No silence while waiting, and the small moments around it, through the real gateway and the fake LINE:
what LINE received, what was stored for the counsellor, what Rasa heard (issue 14, items 1 and 6)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from handoff.domain.waiting import WaitingTexts
from tests.support.databases import execute, rows
from tests.support.servers import Stack, wait_for
from tests.support.stub_rasa import StubRasa

USER = "U" + "b" * 32
OTHER = "U" + "c" * 32
TEXTS = WaitingTexts.load(Path(__file__).resolve().parents[2] / "data" / "waiting.yml")
IN_HOURS = datetime.fromisoformat("2026-11-25T14:00:00+09:00")  # a Wednesday
FRIDAY_NIGHT = datetime.fromisoformat("2026-11-27T21:00:00+09:00")


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _say(stack: Stack, user: str, text: str, at: datetime) -> None:
    stack.send(user, {"type": "text", "text": text, "timestamp": _ms(at)})


def _queue(stack: Stack, user: str, at: datetime) -> None:
    """A first message (answered by the bot), then the bot asks the gateway for a counsellor."""
    _say(stack, user, "こんにちは", at - timedelta(minutes=1))
    stack.wait_delivered(user, 1)
    key = rows(stack.database_url, "SELECT key FROM contacts WHERE line_user_id = :u", u=user)[0]["key"]
    result = stack.internal("POST", f"/contacts/{key}/handoff", json={"at": at.isoformat(), "reason": "user_request"})
    assert result.json()["status"] == "queued"


def _texts(stack: Stack, user: str) -> list[str]:
    return [m["text"] for m in stack.delivered(user)]


def _matches(key: str, text: str) -> bool:
    return any(m.fullmatch(text) for m in TEXTS.variants[key].matchers)


def test_queued_user_hears_one_ack_per_burst_and_the_place_when_asking(any_stack: Stack, rasa: StubRasa) -> None:
    _queue(any_stack, USER, IN_HOURS)
    _say(any_stack, USER, "実は家のことで", IN_HOURS + timedelta(seconds=30))
    _say(any_stack, USER, "母のことなんだけど", IN_HOURS + timedelta(seconds=40))  # typed right after: one burst
    any_stack.wait_delivered(USER, 2)
    time.sleep(TEXTS.ack_delay.total_seconds() + 1)  # the first bubble's acknowledgement was taken back
    bot, ack = _texts(any_stack, USER)
    _say(any_stack, USER, "まだですか", IN_HOURS + timedelta(minutes=5))  # always answered, at once
    any_stack.wait_delivered(USER, 3)
    status = _texts(any_stack, USER)[2]
    assert bot == "bot:こんにちは"
    assert _matches("ack_in_hours", ack) and "1番目" in ack
    assert _matches("status_in_hours", status) and "1番目" in status
    assert "相談員につなぎますね" not in ack + status  # the long queueing notice is never repeated
    assert [r["message"] for r in rasa.received] == ["こんにちは"]  # Rasa hears nothing while queued
    # Everything the user sent while waiting is stored for the counsellor, in order, with the answers between.
    stored = rows(any_stack.database_url, "SELECT direction, sender, text FROM messages ORDER BY event_at, id")
    assert [(m["direction"], m["text"]) for m in stored] == [
        ("in", "こんにちは"),
        ("out", "bot:こんにちは"),
        ("in", "実は家のことで"),
        ("in", "母のことなんだけど"),
        ("out", ack),
        ("in", "まだですか"),
        ("out", status),
    ]
    conversation = rows(any_stack.database_url, "SELECT status, unread FROM conversations")[0]
    assert conversation == {"status": "queued", "unread": 3}


def test_a_crisis_while_an_ack_waits_is_not_held_behind_it(stack: Stack, rasa: StubRasa) -> None:
    _queue(stack, USER, IN_HOURS)
    _say(stack, USER, "家のことで", IN_HOURS + timedelta(minutes=1))  # its acknowledgement waits for a pause
    _say(stack, USER, "しにたい", IN_HOURS + timedelta(minutes=1, seconds=5))
    started = time.monotonic()
    stack.wait_delivered(USER, 2, settle=False)
    assert time.monotonic() - started < TEXTS.ack_delay.total_seconds()
    assert "110" in _texts(stack, USER)[1]
    time.sleep(TEXTS.ack_delay.total_seconds() + 1)
    assert len(stack.delivered(USER)) == 2  # the acknowledgement was taken back, not sent after the crisis reply


def _topic(key: str, text: str) -> bool:
    topic = next(t for t in TEXTS.topics if t.key == key)
    return any(m.fullmatch(text) for v in (topic.in_hours, topic.off_hours) for m in v.matchers)


def test_off_hours_the_ack_says_when_a_counsellor_will_read(any_stack: Stack, rasa: StubRasa) -> None:
    _queue(any_stack, USER, FRIDAY_NIGHT)
    _say(any_stack, USER, "家のことで", FRIDAY_NIGHT + timedelta(minutes=10))
    any_stack.wait_delivered(USER, 2)
    _say(any_stack, USER, "誰か見てる？", FRIDAY_NIGHT + timedelta(minutes=11))
    any_stack.wait_delivered(USER, 3)
    _, ack, status = _texts(any_stack, USER)
    assert _matches("ack_off_hours", ack) and "月曜の11時から" in ack
    assert _matches("status_off_hours", status) and "月曜の11時から" in status and "1番目" in status


def test_someone_who_cannot_phone_or_is_struggling_is_answered_for_what_they_said(any_stack: Stack,
                                                                                  rasa: StubRasa) -> None:
    """Issue 14.1's Sunday night: 「電話はむり 親いるし」「もう限界かも」 were met with silence."""
    _queue(any_stack, USER, FRIDAY_NIGHT)
    _say(any_stack, USER, "電話はむり 親いるし", FRIDAY_NIGHT + timedelta(seconds=20))  # right after the notice
    _say(any_stack, USER, "家のことぜんぶ自分でやってて疲れた", FRIDAY_NIGHT + timedelta(minutes=1))
    _say(any_stack, USER, "しんどい", FRIDAY_NIGHT + timedelta(minutes=1, seconds=10))  # same feeling, same burst
    _say(any_stack, USER, "わかった", FRIDAY_NIGHT + timedelta(minutes=2))  # takes back the ack 「しんどい」 waited for
    any_stack.wait_delivered(USER, 4)
    time.sleep(0.5)
    _, phone, feeling, okay = _texts(any_stack, USER)
    assert _topic("no_phone", phone) and "月曜の11時から" in phone and "https://talkme.jp/" in phone
    assert _topic("feeling", feeling) and "月曜の11時から" in feeling
    assert _topic("okay", okay)
    assert len({phone, feeling, okay}) == 3


def test_each_message_after_a_pause_gets_an_answer_without_repeating(any_stack: Stack, rasa: StubRasa) -> None:
    """Someone who waits for the answer before writing again is never left without one (and not told the same)."""
    _queue(any_stack, USER, IN_HOURS)
    lines = ["実は弟のことで", "まだ小さくて", "親は夜いない"]
    for n, line in enumerate(lines, 1):
        _say(any_stack, USER, line, IN_HOURS + timedelta(minutes=n))
        any_stack.wait_delivered(USER, n + 1)
    acks = _texts(any_stack, USER)[1:]
    assert len(acks) == len(lines) and len(set(acks)) == len(acks)
    assert all(_matches("ack_in_hours", a) and "1番目" in a for a in acks)


def test_acks_vary_and_nothing_is_said_while_a_counsellor_answers(stack: Stack, rasa: StubRasa) -> None:
    _queue(stack, USER, IN_HOURS)
    variants = len(TEXTS.variants["ack_in_hours"].texts)
    for n in range(1, variants + 1):
        _say(stack, USER, f"{4 * n}分たった", IN_HOURS + timedelta(minutes=4 * n))
        stack.wait_delivered(USER, n + 1)
    acks = _texts(stack, USER)[1:]
    assert len(set(acks)) == variants  # no sentence twice before every variant was used
    execute(stack.database_url, "UPDATE conversations SET status = 'open'")
    _say(stack, USER, "ふーん", IN_HOURS + timedelta(minutes=60))
    wait_for(lambda: len(rows(stack.database_url, "SELECT id FROM messages WHERE direction = 'in'")) == variants + 2)
    time.sleep(TEXTS.ack_delay.total_seconds() + 1)
    assert len(stack.delivered(USER)) == variants + 1  # a counsellor has it: they answer in person


def test_a_sticker_while_queued_is_acknowledged_like_a_message(stack: Stack, rasa: StubRasa) -> None:
    _queue(stack, USER, IN_HOURS)
    stack.send(USER, {"type": "sticker", "keywords": ["Sad"], "timestamp": _ms(IN_HOURS + timedelta(minutes=5))})
    stack.wait_delivered(USER, 2)
    assert _matches("ack_in_hours", _texts(stack, USER)[1])


def test_sticker_replies_follow_the_stickers_keywords(stack: Stack) -> None:
    from handoff.domain.content import Content

    content = Content.load(Path(__file__).resolve().parents[2] / "data")
    for keywords in (["Sad", "Crying"], ["Happy", "Yay"], ["Apple"]):
        stack.send(USER, {"type": "sticker", "keywords": keywords})
    stack.wait_delivered(USER, 3)
    assert _texts(stack, USER) == [
        content.reply("sticker_sad"),
        content.reply("sticker"),
        content.reply("sticker_neutral"),
    ]


def _resolve(stack: Stack, user: str, at: datetime) -> None:
    _queue(stack, user, at - timedelta(minutes=20))
    cid = rows(stack.database_url, "SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id "
               "WHERE k.line_user_id = :u", u=user)[0]["id"]
    execute(stack.database_url, "UPDATE conversations SET status = 'resolved', waiting_since = NULL WHERE id = :c",
            c=cid)
    execute(stack.database_url, "INSERT INTO status_changes (conversation_id, from_status, to_status, actor, reason, "
            "at) VALUES (:c, 'queued', 'resolved', 'counsellor', 'resolved', :at)", c=cid, at=_stored(stack, at))


def _stored(stack: Stack, at: datetime) -> str:
    """A time as the gateway stores it: naive UTC on SQLite, with its offset on PostgreSQL."""
    utc = at.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S.%f") if stack.database_url.startswith("sqlite") else utc.isoformat()


def test_thanks_just_after_the_close_gets_a_warm_goodbye_not_a_welcome_back(any_stack: Stack, rasa: StubRasa) -> None:
    _resolve(any_stack, USER, IN_HOURS)
    _say(any_stack, USER, "ありがとう！", IN_HOURS + timedelta(minutes=1))
    any_stack.wait_delivered(USER, 2)
    closing = _texts(any_stack, USER)[1]
    assert any(m.fullmatch(closing) for m in TEXTS.after_close.replies.matchers)
    assert "おかえり" not in closing
    assert [r["message"] for r in rasa.received] == ["こんにちは"]
    assert rows(any_stack.database_url, "SELECT status FROM conversations")[0]["status"] == "resolved"
    _say(any_stack, USER, "あともうひとつだけ", IN_HOURS + timedelta(minutes=3))  # not thanks, still just closed
    any_stack.wait_delivered(USER, 3)
    assert rasa.received[-1]["metadata"]["event"] == "message"  # the bot answers it, without 「おかえりなさい」


def test_coming_back_later_is_still_greeted_as_a_return(stack: Stack, rasa: StubRasa) -> None:
    _resolve(stack, OTHER, IN_HOURS)
    _say(stack, OTHER, "ありがとう", IN_HOURS + timedelta(hours=3))
    stack.wait_delivered(OTHER, 2)
    assert rasa.received[-1]["metadata"]["event"] == "return"


def test_greeting_hours_line_says_closed_now_and_when_it_opens(stack: Stack) -> None:
    """The bot's greeting shows `schedule_text` (actions/greet.py); off hours and over the year-end break it
    must not read as if someone could answer now."""
    regular = "平日 11時〜20時（土日祝・年末年始はお休み）"
    year_end = stack.internal("GET", "/hours", params={"at": "2026-12-30T10:00:00+09:00"}).json()
    assert year_end["schedule_text"] == f"{regular}\nいまは年末年始のお休み中です。月曜の11時から返事します。"
    assert year_end["regular_schedule_text"] == regular
    night = stack.internal("GET", "/hours", params={"at": FRIDAY_NIGHT.isoformat()}).json()
    assert night["closed_now_text"] == "いまは相談時間の外です。月曜の11時から返事します。"
    opened = stack.internal("GET", "/hours", params={"at": IN_HOURS.isoformat()}).json()
    assert opened["schedule_text"] == regular and opened["closed_now_text"] is None
