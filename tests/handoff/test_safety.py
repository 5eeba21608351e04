"""Crisis screen (R13): slang and variants are caught, everyday exaggerations are not."""

from __future__ import annotations

import pytest

from handoff.safety import SafetyConfigError, SafetyScreen, normalise, screen

POSITIVES: list[tuple[str, str]] = [
    # suicide
    ("しにたい", "suicide"),
    ("死にたい", "suicide"),
    ("もう死にたい…", "suicide"),
    ("氏にたい", "suicide"),
    ("ｼﾆﾀｲ", "suicide"),
    ("シニタイ", "suicide"),
    ("し に た い", "suicide"),
    ("死にたい〜〜〜", "suicide"),
    ("しにたぃ", "suicide"),
    ("死にてー", "suicide"),
    ("タヒにたい", "suicide"),
    ("ﾀﾋりたい", "suicide"),
    ("死にたみが深い", "suicide"),
    ("消えたい", "suicide"),
    ("きえたい😢", "suicide"),
    ("キエタイ", "suicide"),
    ("消えてしまいたい", "suicide"),
    ("いなくなりたい", "suicide"),
    ("この世から いなくなりたい", "suicide"),
    ("生きてる意味ない", "suicide"),
    ("生きてる意味ないよね", "suicide"),
    ("生きている意味がない気がする", "suicide"),
    ("生きてても意味ないじゃん", "suicide"),
    ("生まれてこなければよかった", "suicide"),
    ("何のために生きてるのかわからない", "suicide"),
    ("自殺", "suicide"),
    ("自殺しようかな", "suicide"),
    ("首つり", "suicide"),
    ("首吊りの方法", "suicide"),
    ("ロープで首を吊ろうと思った", "suicide"),
    ("屋上から飛び降りたい", "suicide"),
    ("とびおりたい", "suicide"),
    ("電車に飛び込もうかな", "suicide"),
    ("遺書を書いた", "suicide"),
    ("死のうと思う", "suicide"),
    ("死んだほうがましだ", "suicide"),
    ("楽に死ねる方法ある？", "suicide"),
    ("家族のために生きるのつらい、死にたくなる", "suicide"),
    ("死ぬほど疲れた。もう死にたい", "suicide"),
    # self harm
    ("リスカしちゃった", "self_harm"),
    ("ﾘｽｶ", "self_harm"),
    ("リストカットがやめられない", "self_harm"),
    ("アムカした", "self_harm"),
    ("自傷がとまらない", "self_harm"),
    ("手首を切った", "self_harm"),
    ("OD", "self_harm"),
    ("昨日ODした", "self_harm"),
    ("ＯＤしそう", "self_harm"),
    ("od しちゃった", "self_harm"),
    ("オーバードーズ", "self_harm"),
    ("おーばーどーずした", "self_harm"),
    ("薬大量に飲んだ", "self_harm"),
    ("薬を大量に飲みたい", "self_harm"),
    ("市販薬を大量に買った", "self_harm"),
    ("薬を一箱飲んだ", "self_harm"),
    ("薬を20錠飲んだ", "self_harm"),
    ("眠剤３０粒いった", "self_harm"),
    ("お母さんが薬を全部飲んじゃった", "self_harm"),
    # abuse and violence
    ("殺される", "abuse_violence"),
    ("父に殺されるかもしれない", "abuse_violence"),
    ("殴られる", "abuse_violence"),
    ("毎日なぐられてる", "abuse_violence"),
    ("お父さんに殴られた", "abuse_violence"),
    ("母に叩かれた", "abuse_violence"),
    ("兄から蹴られる", "abuse_violence"),
    ("家で暴力をふるわれる", "abuse_violence"),
    ("暴力", "abuse_violence"),
    ("虐待されてるかも", "abuse_violence"),
    ("ぎゃくたい", "abuse_violence"),
    ("DVがひどい", "abuse_violence"),
    ("親に死ねって言われた", "abuse_violence"),
    ("首を絞められた", "abuse_violence"),
    ("部屋に閉じ込められてる", "abuse_violence"),
    # danger to others / acute danger
    ("包丁", "danger_other"),
    ("父が包丁を持って暴れてる", "danger_other"),
    ("ﾎｳﾁｮｳ向けられた", "danger_other"),
    ("刃物を持ち出した", "danger_other"),
    ("弟を殺してやるって言ってる", "danger_other"),
    ("あいつ殺したい", "danger_other"),
    ("一家心中するって", "danger_other"),
    ("無理心中", "danger_other"),
    ("心中しようって言われた", "danger_other"),
    ("おばあちゃんが意識がない", "danger_other"),
    ("おじいちゃんが息してない", "danger_other"),
    ("家に火をつけるって言われた", "danger_other"),
    ("知らない人に後をつけられてる", "danger_other"),
]

NEGATIVES: list[str] = [
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
    assert result.crisis is True, text
    assert result.category == category, text
    assert result.term


@pytest.mark.parametrize("text", NEGATIVES)
def test_everyday_exaggerations_are_not_flagged(text):
    result = screen(text)
    assert (result.level, result.category, result.term) == (None, None, None), result


def test_table_is_big_enough_to_mean_something():
    assert len(POSITIVES) >= 60
    assert len([t for t in NEGATIVES if t.strip()]) >= 60
    assert {c for _, c in POSITIVES} == {"suicide", "self_harm", "abuse_violence", "danger_other"}


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("ｼﾆﾀｲ", "しにたい"),
        ("シ ニ タ イ", "しにたい"),
        ("ＯＤ", "od"),
        ("死にたい〜〜〜～~", "死にたい"),
        ("オーバードーズ", "おばどず"),
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
    assert screen("心中お察しします。でも殴られるのが怖い").category == "abuse_violence"


def test_most_serious_category_wins():
    assert screen("殴られるし、もう死にたい").category == "suicide"


def test_latin_terms_need_a_boundary():
    lexicon = SafetyScreen({"self_harm": ["OD"]})
    assert lexicon.screen("ODした").crisis is True
    assert lexicon.screen("method").crisis is False


def test_custom_lexicon_with_exclusions():
    lexicon = SafetyScreen({"suicide": ["ほげたい"]}, exclusions=["ほげたいやき"])
    assert lexicon.screen("ホゲタイ").crisis is True
    assert lexicon.screen("ほげたいやき食べた").crisis is False


def test_bad_lexicon_is_rejected_with_the_entry_named(tmp_path):
    with pytest.raises(SafetyConfigError, match="unknown categories"):
        SafetyScreen({"suicde": ["死にたい"]})
    path = tmp_path / "safety.yml"
    path.write_text("categories:\n  suicide:\n    patterns: ['(死にたい']\n", encoding="utf-8")
    with pytest.raises(SafetyConfigError, match="not a valid regular expression"):
        SafetyScreen.load(path)
