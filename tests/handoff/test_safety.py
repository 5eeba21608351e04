"""Safety screen lexicon (R13): slang and variants are caught, everyday words and exaggerations are not.

These tables guard the lexicon's folding and entries; context rules (who, when, what kind of text) have their own
tables in test_safety_context.py, and the screen as a whole is measured on the dev set by `make safety-eval`.
"""

from __future__ import annotations

import pytest

from handoff.domain.safety import (
    CRISIS,
    EMERGENCY_OTHER,
    SafetyConfigError,
    SafetyScreen,
    default_screen,
    normalise,
    screen,
)

POSITIVES: list[tuple[str, str]] = [
    # suicide
    ("しにたい", "suicide|suicide_plan"),
    ("死にたい", "suicide|suicide_plan"),
    ("もう死にたい…", "suicide|suicide_plan"),
    ("氏にたい", "suicide|suicide_plan"),
    ("ｼﾆﾀｲ", "suicide|suicide_plan"),
    ("シニタイ", "suicide|suicide_plan"),
    ("し に た い", "suicide|suicide_plan"),
    ("死にたい〜〜〜", "suicide|suicide_plan"),
    ("しにたぃ", "suicide|suicide_plan"),
    ("死にてー", "suicide|suicide_plan"),
    ("タヒにたい", "suicide|suicide_plan"),
    ("ﾀﾋりたい", "suicide|suicide_plan"),
    ("死にたみが深い", "suicide|suicide_plan"),
    ("消えたい", "suicide|suicide_plan"),
    ("きえたい😢", "suicide|suicide_plan"),
    ("キエタイ", "suicide|suicide_plan"),
    ("消えてしまいたい", "suicide|suicide_plan"),
    ("いなくなりたい", "suicide|suicide_plan"),
    ("この世から いなくなりたい", "suicide|suicide_plan"),
    ("生きてる意味ない", "suicide|suicide_plan"),
    ("生きてる意味ないよね", "suicide|suicide_plan"),
    ("生きている意味がない気がする", "suicide|suicide_plan"),
    ("生きてても意味ないじゃん", "suicide|suicide_plan"),
    ("生まれてこなければよかった", "suicide|suicide_plan"),
    ("何のために生きてるのかわからない", "suicide|suicide_plan"),
    ("自殺", "suicide|suicide_plan"),
    ("自殺しようかな", "suicide|suicide_plan"),
    ("首つり", "suicide|suicide_plan"),
    ("首吊りの方法", "suicide|suicide_plan"),
    ("ロープで首を吊ろうと思った", "suicide|suicide_plan"),
    ("屋上から飛び降りたい", "suicide|suicide_plan"),
    ("とびおりたい", "suicide|suicide_plan"),
    ("電車に飛び込もうかな", "suicide|suicide_plan"),
    ("遺書を書いた", "suicide|suicide_plan"),
    ("死のうと思う", "suicide|suicide_plan"),
    ("死んだほうがましだ", "suicide|suicide_plan"),
    ("楽に死ねる方法ある？", "suicide|suicide_plan"),
    ("家族のために生きるのつらい、死にたくなる", "suicide|suicide_plan"),
    ("死ぬほど疲れた。もう死にたい", "suicide|suicide_plan"),
    # self harm
    ("リスカしちゃった", "self_harm|overdose"),
    ("ﾘｽｶ", "self_harm|overdose"),
    ("リストカットがやめられない", "self_harm|overdose"),
    ("アムカした", "self_harm|overdose"),
    ("自傷がとまらない", "self_harm|overdose"),
    ("手首を切った", "self_harm|overdose"),
    ("OD", "self_harm|overdose"),
    ("昨日ODした", "self_harm|overdose"),
    ("ＯＤしそう", "self_harm|overdose"),
    ("od しちゃった", "self_harm|overdose"),
    ("オーバードーズ", "self_harm|overdose"),
    ("おーばーどーずした", "self_harm|overdose"),
    ("薬大量に飲んだ", "self_harm|overdose"),
    ("薬を大量に飲みたい", "self_harm|overdose"),
    ("市販薬を大量に買った", "self_harm|overdose"),
    ("薬を一箱飲んだ", "self_harm|overdose"),
    ("薬を20錠飲んだ", "self_harm|overdose"),
    ("眠剤３０粒いった", "self_harm|overdose"),
    # abuse and violence
    ("殺される", "violence|threat|death_threat"),
    ("父に殺されるかもしれない", "violence|threat|death_threat"),
    ("殴られる", "violence|threat|death_threat"),
    ("毎日なぐられてる", "violence|threat|death_threat"),
    ("お父さんに殴られた", "violence|threat|death_threat"),
    ("母に叩かれた", "violence|threat|death_threat"),
    ("兄から蹴られる", "violence|threat|death_threat"),
    ("家で暴力をふるわれる", "violence|threat|death_threat"),
    ("暴力", "violence|threat|death_threat"),
    ("虐待されてるかも", "violence|threat|death_threat"),
    ("ぎゃくたい", "violence|threat|death_threat"),
    ("DVがひどい", "violence|threat|death_threat"),
    ("親に死ねって言われた", "violence|threat|death_threat"),
    ("首を絞められた", "violence|threat|death_threat"),
    ("部屋に閉じ込められてる", "violence|threat|death_threat"),
    # danger to others / acute danger
    ("父が包丁を持って暴れてる", "threat|collapsed|not_breathing|violence"),
    ("ﾎｳﾁｮｳ向けられた", "threat|collapsed|not_breathing|violence"),
    ("刃物を持ち出した", "threat|collapsed|not_breathing|violence"),
    ("弟を殺してやるって言ってる", "threat|collapsed|not_breathing|violence"),
    ("あいつ殺したい", "threat|collapsed|not_breathing|violence"),
    ("一家心中するって", "threat|collapsed|not_breathing|violence"),
    ("無理心中", "threat|collapsed|not_breathing|violence"),
    ("心中しようって言われた", "threat|collapsed|not_breathing|violence"),
    ("おばあちゃんが意識がない", "threat|collapsed|not_breathing|violence"),
    ("おじいちゃんが息してない", "threat|collapsed|not_breathing|violence"),
    ("家に火をつけるって言われた", "threat|collapsed|not_breathing|violence"),
    ("知らない人に後をつけられてる", "threat|collapsed|not_breathing|violence"),
]

NEGATIVES: list[str] = [
    # Katakana words folded without their ー would be everyday hiragana: カッター → かった (よかった),
    # ストーカー → すとか (アドバイスとか).
    "よかったです",
    "楽しかったでしょ？",
    "アドバイスとかほしいです",
    "包丁",  # alone it is cooking; a knife pointed at someone is in the threat patterns
    "死ぬほど眠い",
    "テストで死んだ",
    "死ぬほど笑った",
    "バイトで死にかけた",
    "死ぬかと思った(笑)",
    "しぬほどおいしい",
    "「殺す気か（笑）」",
    "ｼﾇﾎﾄﾞ眠い",
    "部活がきつすぎて死ぬかと思ったｗ",
    "数学の小テスト完全に死亡",
    "スマホの充電が死んだ",
    "昨日は死んだように寝た",
    "死ぬほど寒い",
    "課題多すぎて死にそう",
    "お腹すいて死にそう",
    "推しが尊すぎて死ぬ",
    "筋肉痛で死んでる",
    "英単語テストしんだｗ",
    "死ぬ気でがんばる",
    "必死で走った",
    "死角になってた",
    "死ぬまでに行きたい場所",
    "消しゴムが消えた",
    "電気が消えた",
    "雪が消えてなくなった",
    "犬がいなくなった",
    "生き生きしてる",
    "意味ない授業だった",
    "首が痛い",
    "バイト首になった",
    "首を長くして待ってる",
    "手首をひねった",
    "清水の舞台から飛び降りるつもりで買った",
    "飛行機から降りた",
    "跳び箱を跳んだ",
    "good morning!",
    "food が美味しかった",
    "DVD見た",
    "ODAKYU線に乗った",
    "オーディション受けた",
    "アリスカフェに行った",
    "薬を飲み忘れた",
    "薬局でバイトしてる",
    "大量の宿題",
    "おばあちゃんの薬の管理してる",
    "殴り書きのメモ",
    "殺虫剤を買った",
    "必殺技を覚えた",
    "悩殺されたｗ",
    "忙殺されてます",
    "ポイントが相殺された",
    "心中お察しします",
    "心中複雑です",
    "虐待防止の授業を受けた",
    "プールに飛び込みたい",
    "飛び込み乗車はやめよう",
    "金魚を死なせてしまった",
    "死ぬつもりで勉強した",
    "パブロン飲んで寝る",
    "薬を2錠飲んだ",
    "ご心中いかばかりかと",
    "ガンジーの非暴力を習った",
    "包丁で野菜を切るのがうまくなった",
    "包丁の使い方を教えてもらった",
    "新しい包丁を買った",
    "包丁で指を切っちゃった",
    "ゲームで殺されたｗ",
    "話しかけられるのが苦手",
    "友だちに助けられる",
    "わたしのうちは5人家族",
    "がっこういきたくない",
    "ガスコンロに火をつけた",
    "笑いすぎて息してない",
    "名前をつけられてる",
    "死神のアニメ見た",
    "殺陣の練習",
    "殺風景な部屋",
    "",
    "😢😢😢",
    "ありがとうございました！",
]


@pytest.mark.parametrize(("text", "category"), POSITIVES)
def test_crisis_terms_and_variants_are_flagged(text, category):
    result = screen(text)
    assert result.level in (CRISIS, EMERGENCY_OTHER), text
    assert result.category in category.split("|"), text
    assert result.term


@pytest.mark.parametrize("text", NEGATIVES)
def test_everyday_exaggerations_are_not_flagged(text):
    """The rules find nothing (the learned second opinion is held to these rows in test_safety_learned.py)."""
    result = default_screen().rules_only(text)
    assert (result.level, result.category, result.term) == (None, None, None), result


def test_table_is_big_enough_to_mean_something():
    assert len(POSITIVES) >= 60
    assert len([t for t in NEGATIVES if t.strip()]) >= 60
    assert len({c for _, c in POSITIVES}) == 4


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("ｼﾆﾀｲ", "しにたい"),
        ("シ ニ タ イ", "しにたい"),
        ("ＯＤ", "od"),
        ("死にたい〜〜〜～~", "死にたい"),
        ("オーバードーズ", "おーばーどーず"),  # ー is part of a katakana word
        ("しにたーい", "しにたい"),  # and decoration after anything else
        ("しにたぃ！！😭", "しにたい"),
        ("Hello、World。", "helloworld"),
        ("ｷﾞｬｸﾀｲ", "ぎやくたい"),
    ],
)
def test_normalise_folds_width_script_and_decoration(raw, folded):
    assert normalise(raw) == folded


def test_exclusion_does_not_hide_a_crisis_elsewhere_in_the_message():
    assert screen("死ぬほど眠い").crisis is False
    assert screen("死ぬほど眠いし、もう消えたい").category == "suicide"
    assert screen("心中お察しします。でも殴られるのが怖い").category == "violence"


def test_most_serious_category_wins():
    assert screen("殴られるし、もう死にたい").category == "suicide"


def test_latin_terms_match_whole_words_only():
    lexicon = SafetyScreen.from_data({"signals": {"overdose": {"kind": "self", "terms": ["OD", "want to die"]}}})
    assert lexicon.screen("ODした").crisis is True
    assert lexicon.screen("I want to die").crisis is True
    assert lexicon.screen("method").crisis is False
    assert lexicon.screen("good food").crisis is False


def test_custom_lexicon_with_exclusions():
    lexicon = SafetyScreen.from_data(
        {"signals": {"suicide": {"kind": "self", "terms": ["ほげたい"]}}, "exclusions": {"phrases": ["ほげたいやき"]}}
    )
    assert lexicon.screen("ホゲタイ").crisis is True
    assert lexicon.screen("ほげたいやき食べた").crisis is False


def test_bad_lexicon_is_rejected_with_the_entry_named(tmp_path):
    with pytest.raises(SafetyConfigError, match="needs `kind:`"):
        SafetyScreen.from_data({"signals": {"suicide": {"kind": "selff", "terms": ["死にたい"]}}})
    with pytest.raises(SafetyConfigError, match="unknown cue groups"):
        SafetyScreen.from_data({"signals": {"s": {"kind": "self", "terms": ["x"]}}, "context": {"laugh": ["笑"]}})
    path = tmp_path / "safety.yml"
    path.write_text("signals:\n  suicide:\n    kind: self\n    patterns: ['(死にたい']\n", encoding="utf-8")
    with pytest.raises(SafetyConfigError, match="not a valid regular expression"):
        SafetyScreen.load(path)


def test_a_key_given_twice_in_the_lexicon_is_refused_not_silently_dropped(tmp_path):
    path = tmp_path / "safety.yml"
    path.write_text(
        "signals:\n  suicide:\n    kind: self\n    terms: [死にたい]\n    terms: [消えたい]\n", encoding="utf-8"
    )
    with pytest.raises(SafetyConfigError, match="terms given twice"):
        SafetyScreen.load(path)


@pytest.mark.parametrize(
    "text",
    [
        "志望校どうやって決めたらいいか相談したい",  # 「って決めた」 alone is no plan
        "今日はこれでおわりにするね",  # a goodbye for today
        "このトーク終わらせたいときはどうすれば",  # ending the chat, not a life
        "宿題はやく終わらせたい",
        "じいちゃんが脳卒中で倒れて、まひが残ってる",  # a collapse long past, told by what it left
    ],
)
def test_questions_goodbyes_and_past_collapses_found_by_the_nlu_helper_are_not_flagged(text):
    assert screen(text).level is None, screen(text)


@pytest.mark.parametrize(
    "text", ["今日で終わりにする", "今日は死ぬ", "人生終わらせたい", "死ぬって決めた", "母が倒れて動かない"]
)
def test_their_dangerous_neighbours_still_are(text):
    assert screen(text).level in (CRISIS, EMERGENCY_OTHER), text
