"""Context rules of the safety screen (issue 13): who, when and what kind of text decide the level.

One table per rule, each row its own test id. The sentences here are written for these tests; the dev set that
measures the screen as a whole (tests/safety/data/dev.yml) is never copied here.
"""

from __future__ import annotations

import pytest

from handoff.domain.safety import CONCERN, CRISIS, EMERGENCY_OTHER, default_screen

NONE = None

TABLES: dict[str, list[tuple[str, str | None]]] = {
    "explicit_first_person_is_crisis": [
        ("もうしにたい", CRISIS),
        ("自分なんか消えたほうがいい", CRISIS),
        ("今から屋上にいく。今までありがとう", CRISIS),
        ("手首きっちゃった", CRISIS),
        ("睡眠薬まとめて飲んだ", CRISIS),
        ("i really want to die tonight", CRISIS),
    ],
    "hyperbole_with_laughter_is_not_crisis": [
        ("部活の先輩に殺される笑", NONE),
        ("小テスト爆死したｗ", NONE),
        ("寝坊して遅刻、消えたい笑", NONE),
        ("i could die of embarrassment lol", NONE),
    ],
    "laughter_never_hides_self_harm": [
        ("またリスカしちゃった笑", CRISIS),
    ],
    "past_and_resolved_is_nothing_past_alone_is_concern": [
        ("小学生のときリスカしてたけど今はもうしてない", NONE),
        ("昔は死にたいと思ってた。今は平気", NONE),
        ("中学のとき死にたいと思ってた", CONCERN),
    ],
    "past_that_goes_on_stays_crisis": [
        ("前から死にたかったけど最近毎日そう思う", CRISIS),
    ],
    "quoted_words_of_an_elder_are_care_talk": [
        ("認知症のおばあちゃんが「死にたい」って毎日言う", NONE),
        ("父が「もう殺してくれ」って叫ぶ", NONE),
    ],
    "quoted_words_of_a_peer_are_a_concern": [
        ("友達が死にたいって言ってて心配", CONCERN),
    ],
    "a_guardian_about_their_child_is_the_childs_crisis": [
        ("娘が死にたいと言って部屋から出てきません", CRISIS),
        ("息子の腕に新しい傷がたくさんあります", CRISIS),
    ],
    "a_threat_quoted_from_a_relative_is_crisis": [
        ("父に殺すぞって言われた", CRISIS),
    ],
    "games_films_and_news_are_nothing": [
        ("アニメで主人公が自殺する回つらかった", NONE),
        ("ニュースで虐待の事件みた", NONE),
    ],
    "questions_about_the_service_are_not_crisis": [
        ("リスカの話とかもここで相談できますか？", NONE),
        ("死にたい気持ちでも相談していいですか", CONCERN),
    ],
    "hypotheticals_and_denials_are_concern": [
        ("もし死にたくなったらどうしたらいい？", CONCERN),
        ("死にたいわけじゃないけど疲れた", CONCERN),
    ],
    "ordinary_care_talk_is_nothing": [
        ("おとうとがまだ3さいでお世話してる", NONE),
        ("朝起きれなくて学校遅刻しがち", NONE),
        ("父が脳梗塞で倒れてから介護してる", NONE),
        ("お母さんが心の病気で通院してる", NONE),
        ("祖母の薬を毎朝飲ませてる", NONE),
        ("去年おじいちゃんが救急車で運ばれて今は施設にいる", NONE),
        ("包丁で玉ねぎ切るの上手になった", NONE),
    ],
    "someone_else_in_danger_now_is_an_emergency": [
        ("おばあちゃんが倒れて呼んでも起きない", EMERGENCY_OTHER),
        ("じいちゃん息してないかも", EMERGENCY_OTHER),
        ("弟がパンを喉に詰まらせた", EMERGENCY_OTHER),
        ("母が転んで頭から血が止まらない", EMERGENCY_OTHER),
        ("妹が洗剤を飲んじゃった", EMERGENCY_OTHER),
        ("父がけいれんしてる", EMERGENCY_OTHER),
        ("母が薬を全部飲んじゃった", EMERGENCY_OTHER),
    ],
    "hopelessness_without_intent_is_concern": [
        ("もう限界かも", CONCERN),
        ("生きるのしんどい", CONCERN),
    ],
    "kana_spellings_and_dropped_particles_meet_the_terms": [
        ("ぜんぶおわりにしたいよ", CRISIS),
        ("じいちゃんがいきなりたおれてへんじしない", EMERGENCY_OTHER),
        ("ママいしきもうろうとしてる", EMERGENCY_OTHER),
        ("父の血止まらない、ころんだ", EMERGENCY_OTHER),
    ],
    "dialect_endings_meet_the_standard_terms": [
        ("もうおらんくなりたいんやけど", CRISIS),
        ("じいちゃん息しとらんかも", EMERGENCY_OTHER),
        ("ばあちゃんゆすってもおきん", EMERGENCY_OTHER),
        ("生きとる意味ないわ", CRISIS),
        ("まじ消えてえ", CRISIS),
        ("オランダに留学したい", NONE),
        ("トランプしとった", NONE),
    ],
    "kana_spellings_do_not_meet_everyday_words": [
        ("わたしにたいしてだけ厳しい先生", NONE),
        ("アムカした", CRISIS),  # 「あむかした」 holds 「むかし」 (long ago), which must not read as the past
        ("ばいばいまたね", NONE),
        ("仕事したいけど家を空けられない", NONE),
    ],
    "words_in_brackets_are_someones_speech": [
        ("おばあちゃん「殺されるー」ってタンスの中を探してる", NONE),
        ("母「あー消えたい」って洗い物しながら言う、いつもの", NONE),
    ],
    "a_relatives_words_with_a_means_at_hand_are_an_emergency": [
        ("お母さんが包丁にぎって「死んでやる」って言ってる", EMERGENCY_OTHER),
        ("兄がベランダから飛び降りるって騒いでる", EMERGENCY_OTHER),
    ],
    "done_toward_the_writer_is_abuse_whoever_is_named": [
        ("義父が夜になると布団にはいってくる", CRISIS),
        ("姉がキレると髪ひっぱって叩いてくる", CRISIS),
    ],
    "a_friend_cutting_without_danger_now_is_a_concern": [
        ("部活の後輩がリスカしてるかも", CONCERN),
        ("母がまた手首を切った", EMERGENCY_OTHER),  # the person cared for: a medical emergency
    ],
    "now_and_then_is_a_concern": [
        ("ときどき消えたくなる", CONCERN),
        ("毎晩消えたくなる", CRISIS),
    ],
    "at_a_high_place_now_is_crisis": [
        ("いま駅の線路のそばにいる", CRISIS),
        ("線路の写真とった", NONE),
        ("屋上でお弁当たべた", NONE),
    ],
    "farewell_words_twice_are_a_plan": [
        ("みんなにごめんねって伝えておきたい。今までほんとにありがとう", CRISIS),
        ("今までありがとう", CONCERN),
    ],
    "a_trivial_cause_with_a_laugh_or_a_denial_is_nothing": [
        ("ライブはずれた！！もう消えたい😂", NONE),
        ("死にたいとかじゃないけど明日のプレゼンいやすぎる", NONE),
        ("弟とケンカ中、「死ね」って言われた笑", NONE),
        ("笑えない、ほんとに消えたい", CRISIS),
    ],
    "despair_beside_a_death_word_is_a_concern_at_most": [
        ("消えたところでだれも困らないでしょ", CONCERN),
        ("疲れたし全部おわりでいいや", CONCERN),
        ("推しのために生きてる", NONE),
        ("全部終わったら遊ぼうね", NONE),
        ("スマホの写真全部きえた？", NONE),
    ],
    "an_ideation_word_with_a_trivial_cause_is_a_concern": [
        ("月曜の小テストまじで消えたい", CONCERN),
    ],
    "everyday_lookalikes_of_plans_are_not_alarms": [
        ("今日が最後の日！部活引退", NONE),
        ("プールに飛び込もう！", NONE),
        ("マンションの最上階に住んでる", NONE),
        ("明日はママいないかも", NONE),
        ("母の日にママへの手紙書いた", NONE),
        ("洗濯ロープかけるとこ探してる", NONE),
        ("バイトの首切られた", NONE),
        ("今までありがとうございました。またね", NONE),
        ("今までありがとう、ばいばい", CONCERN),  # one thank-you and a bye: a counsellor looks, no 110/119
        ("最後にだれかと話したかった、ばいばい", CRISIS),
    ],
    "fear_of_hurting_the_person_cared_for_is_a_concern": [
        ("このままだとじいちゃんを叩いてしまいそうで怖い", CONCERN),
        ("弟とゲームで対戦した", NONE),
    ],
    "a_game_is_the_channel_not_a_story_for_strangers": [
        ("ゲームで知り合った大人がうちに泊まりにおいでって", CRISIS),
        ("ゲームで主人公がしぬのつらい", NONE),
        ("ニュースで家出した中学生が保護された", NONE),
    ],
    "one_risky_sentence_in_a_long_story_is_found": [
        (
            "母が病気で家事は全部わたし。弟の送り迎えもしてる。学校は楽しいけど疲れる。"
            "昨日の夜、母の薬を20錠くらい飲んだ。明日は部活の大会がある。",
            CRISIS,
        ),
    ],
}

CASES = [(rule, text, level) for rule, rows in TABLES.items() for text, level in rows]


@pytest.mark.parametrize(("rule", "text", "level"), CASES, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(CASES)])
def test_context_rule(rule: str, text: str, level: str | None) -> None:
    """The rules' own call (the learned second opinion, which may add a concern, is held to these rows in
    test_safety_learned.py)."""
    got = default_screen().rules_only(text)
    assert got.level == level, (rule, text, got)
