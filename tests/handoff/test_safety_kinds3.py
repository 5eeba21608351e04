"""Kinds of risk the safety screen missed on dev12 (after its blind measurement), continued from test_safety_kinds2.py.

Each table is a kind a rule was written for, never a dev-set sentence: the sentences were written for these tests,
with look-alikes that must stay as they are. Each row is its own test id, so a failure names the kind.
"""

from __future__ import annotations

import pytest

from handoff.domain.safety import CONCERN, CRISIS, EMERGENCY_OTHER, default_screen

NONE = None

TABLES: dict[str, list[tuple[str, str | None]]] = {
    # Someone else in danger now, told in other words: no breath felt, a hand at the throat while eating, blood
    # dripping, a bathroom cleaner drunk (dialect 飲んでもた); 母さん/父さん as the person it happens to.
    "someone_else_in_danger_in_other_words": [
        ("ばあちゃんの胸に耳あてても息感じひん", EMERGENCY_OTHER),
        ("じいちゃんがお餅たべとってのど押さえとる", EMERGENCY_OTHER),
        ("妹が転んで頭から血がぼたぼた", EMERGENCY_OTHER),
        ("弟がカビキラーのボトルなめてもた", EMERGENCY_OTHER),
        ("父さんが手首切って血が止まらん", EMERGENCY_OTHER),
        ("じいちゃん寝てるけど胸が上下してない", EMERGENCY_OTHER),
        ("母がざっくり切ってタオルに血", EMERGENCY_OTHER),
        ("弟がジェルボールかじって飲みこんだ", EMERGENCY_OTHER),
        ("ばあちゃんがご飯食べてたら急に苦しそうにむせてる", EMERGENCY_OTHER),
        ("「やめて！」って叫んだら弟が泣いた", NONE),
        ("カビキラーで風呂掃除した", NONE),
        ("ばあちゃんの好きなおはぎ作った", NONE),
        ("鼻血ぼたぼた出たけどもう止まった", NONE),
    ],
    # A plan told without the standard words: a note for the finder, a day chosen and "until then, normal", car
    # exhaust in a garage, a blade at the throat, treasured things given away beside "no longer needed", a set
    # time to go back to a rooftop, the next life wished for now, jumping off a sea wall.
    "a_plan_without_the_standard_words": [
        ("机に「見つけた人へ」って手紙おいた", CRISIS),
        ("日曜の夜にする。それまではいつも通りにしとく", CRISIS),
        ("ガレージで車のエンジンかけたままにしたら眠れるかな", CRISIS),
        ("カッターをのどに当ててる", CRISIS),
        ("大切にしてた推しのグッズ全部後輩にあげた。もう使わないし", CRISIS),
        ("マンションの屋上、鍵かかってなかった。今夜いく", CRISIS),
        ("はやく来世いきたい、今の人生つらい", CRISIS),
        ("防波堤から飛び込もうか迷ってる", CRISIS),
        ("落とし物を見つけた人へお礼の手紙を書いた", NONE),
        ("日曜の夜にする？それとも土曜？", NONE),
        ("ガレージで車のエンジンかけて暖機してる", NONE),
        ("大事にしてたゲーム、弟にあげた", NONE),
        ("今夜いく、カラオケ", NONE),
        ("夏は防波堤から飛び込んで泳ぐのが好き", NONE),
    ],
    # Self-harm and overdose in other words: an arm held in boiling water, a rubber band no longer enough, cough
    # medicine by the dozen (キメた); staying with or following a stranger; a parent with a knife at the door.
    "harm_overdose_strangers_and_threats_in_other_words": [
        ("手を熱湯に入れた、自分への罰", CRISIS),
        ("輪ゴムだけじゃもう足りない", CRISIS),
        ("ブロン20錠キメた", CRISIS),
        ("知らないお兄さんの部屋に泊まってる、親には内緒", CRISIS),
        ("声かけてきたおじさんについていこうかな", CRISIS),
        ("父がバット持ってこっちに来る", CRISIS),
        ("「殺したろか」っておかんに言われる、毎晩", CRISIS),
        ("輪ゴムで髪しばった", NONE),
        ("咳止め飲んだら眠くなった", NONE),
        ("知らない人に道きかれた", NONE),
    ],
    # Hopelessness without intent is a concern: nothing moves the heart, only breathing, no reason to try.
    "hopelessness_in_other_words": [
        ("なにがあっても心が動かない", CONCERN),
        ("毎日ただ息してるだけ", CONCERN),
        ("がんばる理由がわからない", CONCERN),
        ("涙も出なくなった", CONCERN),
        ("この映画で心が動いた", NONE),
    ],
    # What a counsellor would not flag: a confused elder shouting (words, not blows: a concern to look at), the
    # carer keeping a parent from taking too many pills, an emergency told after it was handled, asking whether
    # one may talk about wanting to die, a past in English, everyday words.
    "care_talk_and_questions_not_alarms": [
        ("認知症のばあちゃんが「泥棒！」って怒鳴ってくる", CONCERN),
        ("父の睡眠薬、飲みすぎないように私が管理してる", NONE),
        ("先週じいちゃんが倒れて119に電話した。今は一般病棟で、来月退院できるって", NONE),
        ("死にたいって話もしていいんですか", NONE),
        ("back in middle school i cut myself, but thats over now", NONE),
        ("殺風景な部屋を模様替えしたい", NONE),
        ("うちの子（中1）が最近「消えたい」って言います", CRISIS),
    ],
}

CASES = [(kind, text, level) for kind, rows in TABLES.items() for text, level in rows]


@pytest.mark.parametrize(("kind", "text", "level"), CASES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)])
def test_kind(kind: str, text: str, level: str | None) -> None:
    """The rules' own call."""
    assert default_screen().rules_only(text).level == level, kind
