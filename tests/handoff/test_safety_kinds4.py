"""Kinds of risk the safety screen missed on dev15 (after its blind measurement), continued from test_safety_kinds3.py.

Each table is a kind a rule was written for, never a dev-set sentence: the sentences were written for these tests,
with look-alikes that must stay as they are. Each row is its own test id, so a failure names the kind.
"""

from __future__ import annotations

import pytest

from handoff.domain.safety import CONCERN, CRISIS, EMERGENCY_OTHER, default_screen
from handoff.domain.safety.romaji import romaji_sentence, to_kana

NONE = None

TABLES: dict[str, list[tuple[str, str | None]]] = {
    # Japanese typed in romaji: read as kana, so every kana term and cue applies (not only the romaji copies).
    "romaji_read_as_kana": [
        ("jiichan ga ugokanai, iki shitenai", EMERGENCY_OTHER),
        ("okaasan taoreta henji ga nai", EMERGENCY_OTHER),
        ("imouto no hana kara chi ga tomaranai", EMERGENCY_OTHER),
        ("mou kietai honki de", CRISIS),
        ("ashita gakkou de tesuto", NONE),
        ("obaachan to kaimono itta", NONE),
    ],
    # Laughter in latin letters is a word of its own: "lola" (grandmother in Tagalog) is not "lol".
    "latin_laughter_is_a_whole_word": [
        ("lola collapsed and is not breathing", EMERGENCY_OTHER),
        ("my lolo is choking on rice", EMERGENCY_OTHER),
        ("that boss fight killed me lol", NONE),
        ("im so dead lmaooo", NONE),
    ],
    # The writer's own thought about dying, every day: a tiring cause does not make it a joke.
    "own_thought_every_day_is_not_hyperbole": [
        ("部活と介護で頭パンクしそう、消えたいってずっと思ってる", CRISIS),
        ("宿題と家事で毎日死にたいって考えてる", CRISIS),
        ("明日の小テストやばすぎて消えたい", CONCERN),
    ],
    # A parent's medicine taken by the writer: the parent owns the pills, the writer swallowed them.
    "a_parents_medicine_swallowed_by_the_writer": [
        ("親父の睡眠薬、あるだけ飲んだ", CRISIS),
        ("ばあちゃんの薬を手にいっぱい出して全部飲んだ", CRISIS),
        ("じいちゃんの血圧の薬、朝の分を飲ませた", NONE),
        ("母の血糖値が高くて薬が増えた", NONE),
    ],
    # Heaven, endless sleep and the sea or the tracks as the way, with a word in between the standard phrase.
    "ideation_with_a_word_between": [
        ("もう天国にはやく行きたい", CRISIS),
        ("永遠に眠っていたい、起こさないで", CRISIS),
        ("川に入ろうかなって本気で考えてる", CRISIS),
        ("駅の線路のほうに行こうと思ってる、ひとりで", CRISIS),
        ("天国みたいな温泉だった", NONE),
        ("夏休みに海に入ろうって友だちと話してる", NONE),
    ],
    # Self-harm with no blade, threats said to the writer and quoted, a stepfather at the bath, a stranger's room.
    "harm_told_in_other_words": [
        ("定規のかどで腕をガリガリやっちゃう", CRISIS),
        ("足をかきむしって血がにじんでる、わざと", CRISIS),
        ("兄に『言いつけたら刺すからな』って言われた", CRISIS),
        ("父が酔うと『一緒に死のう』って言ってくる", CRISIS),
        ("継父が着替えをのぞいてくる", CRISIS),
        ("ネットの人の部屋に三日泊まってる、知らない人の家で寝泊まりしてる", CRISIS),
        ("祖母が認知症で『一緒に死のう』って泣く日がある", NONE),
        ("定規で線ひいてノートまとめた", NONE),
    ],
    # Hopelessness in everyday words: a concern a counsellor reads; with a laugh it is nothing.
    "hopelessness_in_everyday_words": [
        ("どうせ何も変わらんし、言ってもむだ", CONCERN),
        ("このまま一生これなん？", CONCERN),
        ("自分が何をしたいのかもうわからない", CONCERN),
        ("人生詰んだ", CONCERN),
        ("テスト範囲詰んだ笑", NONE),
    ],
    # Two hints of a plan: a window on a high floor and a time; either alone is everyday.
    "a_high_window_and_a_time": [
        ("5階の窓から外を見てる。今夜決めた", CRISIS),
        ("5階の窓から花火がきれいに見えた", NONE),
    ],
    # Things that were over: a school-year span with 「今は平気」, a time when, and "since then fine".
    "a_past_that_is_over": [
        ("高1から高2まで腕切ってた。今は平気", NONE),
        ("一時期は毎晩泣いてたけど、それからは平気", NONE),
    ],
}
CASES = [(kind, text, level) for kind, rows in TABLES.items() for text, level in rows]


@pytest.mark.parametrize(("kind", "text", "level"), CASES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)])
def test_kind(kind: str, text: str, level: str | None) -> None:
    assert default_screen().screen(text).level == level


@pytest.mark.parametrize(
    ("word", "kana"),
    [
        ("shinitai", "しにたい"), ("motte", "もって"), ("okaasan", "おかあさん"), ("jiichan", "じいちゃん"),
        ("henji", "へんじ"), ("tsukareta", "つかれた"), ("breathing", None), ("hospital", None),
    ],
)
def test_romaji_word_reads_as_kana_or_not_at_all(word: str, kana: str | None) -> None:
    assert to_kana(word) == kana


@pytest.mark.parametrize(
    ("latin", "read"),
    [("jiichan ga taoreta", "じいちゃんがたおれた"), ("is not breathing", None), ("before", None), ("no no", None)],
)
def test_only_a_sentence_of_romaji_words_is_read_as_kana(latin: str, read: str | None) -> None:
    assert romaji_sentence(latin) == read
