"""Kinds of risk the safety screen missed on fresh text, continued from test_safety_kinds.py (near its size limit).

Each table is a kind a rule was written for (a category of miss or of false alarm), never a dev-set sentence:
the sentences were written for these tests. Each row is its own test id, so a failure names the kind.
"""

from __future__ import annotations

import pytest

from handoff.domain.safety import CONCERN, CRISIS, EMERGENCY_OTHER, default_screen

NONE = None

TABLES: dict[str, list[tuple[str, str | None]]] = {
    # dev11's blind misses: someone else about to take their own life told by the act, a collapse in kana or by
    # its sound, household chemicals drunk by mistake with words between, a small child with a cigarette end.
    "someone_else_in_danger_told_by_the_act": [
        ("父が窓から身を乗り出して叫んでる", EMERGENCY_OTHER),
        ("姉がひもを持ったまま部屋に閉じこもってる", EMERGENCY_OTHER),
        ("兄が「いまから死ぬ」って言って外に出ていった", EMERGENCY_OTHER),
        ("祖父がソファでばたんって倒れて、呼んでも目をあけない", EMERGENCY_OTHER),
        ("祖母が洗剤をジュースと間違えて飲んだみたい", EMERGENCY_OTHER),
        ("2歳の弟が吸殻を口に入れてた", EMERGENCY_OTHER),
        ("友達が返事しないからLINE既読スルーされた笑", NONE),
        ("映画で「今から死ぬ」って叫ぶシーンあった", NONE),
        ("猫がばたってなって寝てる、かわいい", NONE),
        ("洗剤まちがえて買っちゃった、柔軟剤のつもりが", NONE),
        ("駅前の吸い殻拾いのボランティア行ってきた", NONE),
    ],
    # dev11's plans flagged only concern: ending it at a named place, climbing over railings, a means at hand
    # beside a decision or a time.
    "a_plan_told_by_place_means_and_decision": [
        ("線路で終わらせるつもり", CRISIS),
        ("橋の上の柵を乗り越えたい", CRISIS),
        ("倉庫にロープある。決心した", CRISIS),
        ("ばあちゃんの薬がたくさんあるの。今から全部飲む", CRISIS),
        ("今日中に課題終わらせる", NONE),
        ("屋上で待ち合わせして、線路沿いを歩いた", NONE),
        ("キャンプ用のロープある、もう決めた行き先は山！", NONE),
        ("薬局に薬たくさんあるね", NONE),
        ("今日全部のむ、タピオカ3杯", NONE),
        ("フェンスこえてボール取りに行ったら怒られた", NONE),
    ],
    # A story or the news frames someone else's death, not the writer joining it (「…見て、わたしも死にたくなった」);
    # TV specials, song titles and papers frame like the news.
    "the_writer_joining_a_story_or_the_news": [
        ("ニュースで自殺の話見て、わたしも死にたくなった", CRISIS),
        ("アニメ見てたら、私も死にたいって思った", CRISIS),
        ("夕方の番組で飛び降りの特集、うちも今夜消えたい", CRISIS),
        ("映画で主人公が死にたいって言ってた、私も泣いた", NONE),
        ("ゲームで俺も死んだｗ", NONE),
        ("朝の番組で自殺の特集やってて重かった", NONE),
        ("「首つり」って曲名の歌があるらしい", NONE),
        ("新聞で練炭自殺の記事読んだ", NONE),
    ],
    # Wanting to vanish in romaji; a dose question with no stated intent is a concern (label rule 5).
    "romaji_vanishing_and_dose_questions": [
        ("mou kietai, nanimo shitakunai", CRISIS),
        ("かぜ薬ってどのくらいで危ないの", CONCERN),
        ("この薬って何錠から効くの？", NONE),
        ("ばあちゃんの薬、何錠飲ませればいい？", NONE),
    ],
}

CASES = [(kind, text, level) for kind, rows in TABLES.items() for text, level in rows]


@pytest.mark.parametrize(("kind", "text", "level"), CASES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)])
def test_kind(kind: str, text: str, level: str | None) -> None:
    """The rules' own call."""
    assert default_screen().rules_only(text).level == level, kind
