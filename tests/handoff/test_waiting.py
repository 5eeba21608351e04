"""What the gateway says on its own (data/waiting.yml): status questions, when a counsellor will read, variants,
stickers and the greeting's closed-now line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from handoff.domain.content import Content
from handoff.domain.hours import HoursPolicy
from handoff.domain.waiting import WaitingError, WaitingTexts

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def texts() -> WaitingTexts:
    return WaitingTexts.load(DATA_DIR / "waiting.yml")


@pytest.mark.parametrize(
    "message",
    ["まだですか", "まだ？", "誰か見てる？", "だれかいますか", "いつ返事来る？", "いつになったら話せるの", "何番目？",
     "返事まだ？", "あとどれくらい待つの"],
)
def test_questions_about_the_waiting_are_recognised(texts, message):
    assert texts.asks_status(message)


@pytest.mark.parametrize(
    "message",
    ["まだ学校にいる", "母が入院していて", "え、別に命とかは大丈夫です笑", "誰にも言えない", "妹の世話をしてる", ""],
)
def test_other_messages_are_not_status_questions(texts, message):
    assert not texts.asks_status(message)


@pytest.mark.parametrize(
    ("message", "topic"),
    [("電話はむり 親いるし", "no_phone"), ("でんわできない", "no_phone"), ("声出せないから電話は苦手", "no_phone"),
     ("TEL無理", "no_phone"), ("もう限界かも", "feeling"), ("つかれた", "feeling"), ("こわい", "feeling"),
     ("わかりました！", "okay"), ("ありがとう🙏", "okay"), ("はーい", "okay")],
)
def test_messages_that_get_their_own_answer_while_waiting(texts, message, topic):
    found = texts.topic(message)
    assert found is not None and found.key == topic


@pytest.mark.parametrize(
    "message",
    ["電話で話したい", "母が入院していて", "ありがとう、でも弟のことも聞いてほしい", "はいはいって言われた", "", None],
)
def test_other_messages_are_not_a_topic(texts, message):
    assert texts.topic(message) is None


@pytest.mark.parametrize(
    ("at", "words"),
    [
        ("2026-11-27T21:00:00+09:00", "月曜の11時から"),  # Friday night → Monday
        ("2026-11-25T23:00:00+09:00", "明日の11時から"),
        ("2026-11-26T08:30:00+09:00", "今日の11時から"),
        ("2026-12-28T21:00:00+09:00", "1月4日（月）の11時から"),  # the year-end break is longer than a week away
    ],
)
def test_next_opening_is_said_the_way_people_say_it(texts, at, words):
    decision = HoursPolicy.load(DATA_DIR / "hours.yml").decide(datetime.fromisoformat(at))
    assert decision.next_open is not None
    assert texts.when(datetime.fromisoformat(at), decision.next_open) == words


def test_variants_take_turns_and_do_not_repeat_until_used_up(texts):
    variants = texts.variants["ack_in_hours"]
    said: list[str | None] = ["bot:こんにちは"]
    seen = []
    for position in range(len(variants.texts), 0, -1):
        text = variants.pick(7, said).format(position=position)
        seen.append(text)
        said.append(text)
    templates = [variants.pick(7, said[: i + 1]) for i in range(len(variants.texts))]
    assert len(set(templates)) == len(variants.texts)  # every variant once before any repeats
    assert variants.pick(7, said) == variants.pick(7, said[:1])  # then the cycle starts again
    assert variants.pick(8, ["x"]) != variants.pick(7, ["x"])  # another conversation starts elsewhere


@pytest.mark.parametrize(
    ("keywords", "key"),
    [
        (["Sad", "Crying", "Tears"], "sticker_sad"),
        (["tired", "Sleepy"], "sticker_sad"),
        (["Happy", "Smile"], "sticker"),
        (["Thank you", "OK"], "sticker"),
        (["Apple", "Cat"], "sticker_neutral"),
        (None, "sticker_neutral"),
    ],
)
def test_sticker_reply_follows_its_keywords(texts, keywords, key):
    assert texts.sticker_key(keywords) == key


def test_sad_sticker_reply_is_gentle_and_not_a_thank_you():
    content = Content.load(DATA_DIR)
    assert "ありがとう" not in content.reply("sticker_sad")
    assert "😊" not in content.reply("sticker_sad")


@pytest.mark.parametrize(
    ("at", "line"),
    [
        ("2026-12-30T10:00:00+09:00", "いまは年末年始のお休み中です。月曜の11時から返事します。"),
        ("2026-11-27T21:00:00+09:00", "いまは相談時間の外です。月曜の11時から返事します。"),
        ("2026-11-28T15:00:00+09:00", "今日はお休みの日です。月曜の11時から返事します。"),
    ],
)
def test_closed_now_line_says_it_is_closed_and_when_it_opens(texts, at, line):
    decision = HoursPolicy.load(DATA_DIR / "hours.yml").decide(datetime.fromisoformat(at))
    assert texts.closed_now_text(decision, datetime.fromisoformat(at)) == line


def test_no_closed_now_line_while_open(texts):
    at = datetime.fromisoformat("2026-11-25T14:00:00+09:00")
    assert texts.closed_now_text(HoursPolicy.load(DATA_DIR / "hours.yml").decide(at), at) is None


def test_thanks_after_a_close_is_recognised(texts):
    assert texts.after_close.is_thanks("ありがとう！")
    assert texts.after_close.is_thanks("ありがとうございました また来ます")
    assert not texts.after_close.is_thanks("また相談したいことがある")


def test_an_ack_without_the_place_in_line_is_rejected_on_load(tmp_path):
    raw = (DATA_DIR / "waiting.yml").read_text(encoding="utf-8")
    path = tmp_path / "waiting.yml"
    path.write_text(raw.replace("（いま{position}番目）。\n  - メッセージ", "。\n  - メッセージ", 1), encoding="utf-8")
    with pytest.raises(WaitingError, match=r"ack_in_hours\[0\].*\{position\}"):
        WaitingTexts.load(path)


def test_a_broken_status_pattern_is_rejected_on_load(tmp_path):
    raw = (DATA_DIR / "waiting.yml").read_text(encoding="utf-8")
    path = tmp_path / "waiting.yml"
    path.write_text(raw.replace('"(何|なん)番目"', '"(何|なん番目"', 1), encoding="utf-8")
    with pytest.raises(WaitingError, match="status_patterns"):
        WaitingTexts.load(path)
