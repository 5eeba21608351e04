"""Kinds of risk the safety screen missed on fresh text (issue 13's weak categories), one table per kind.

Each table is a kind a rule was written for (a category of miss or of false alarm), never a dev-set sentence:
the sentences were written for these tests. Each row is its own test id, so a failure names the kind.
"""

from __future__ import annotations

import pytest

from handoff.domain.safety import CONCERN, CRISIS, EMERGENCY_OTHER, default_screen

NONE = None
FLAGGED = "flagged"  # crisis or concern: a counsellor reads it first (the wording leaves the level open)

TABLES: dict[str, list[tuple[str, str | None]]] = {
    "ideation_in_net_slang_and_soft_words": [
        ("人生リタイアしたい", CRISIS),
        ("この世とおさらばしたい", CRISIS),
        ("自分ごと消したい", CRISIS),
        ("早くお迎え来てほしいな", CRISIS),
        ("明日には私もういないと思う", CRISIS),
        ("もう消える", CRISIS),
        ("生きるのもう終わりでいいや", CRISIS),
        ("うち、もうおらんほうがええんちゃうかな", CRISIS),
        ("もう生きとってもしゃあないわ", CRISIS),
        ("明日あたり死んじゃおっかな", CRISIS),
        ("来年の今ごろ、うちはもういないと思う", CRISIS),
        ("存在ごと無かったことにしたい", CRISIS),
        ("もう生きてなくていいかな", CRISIS),
        ("どうか終わりにさせてください", CRISIS),
        ("起きるたびにがっかりする", CRISIS),
        ("明日なんて来てほしくない", CRISIS),
    ],
    "plans_and_means_without_the_standard_words": [
        ("非常階段の15階にいる", CRISIS),
        ("今日みんなが寝たら実行する", CRISIS),
        ("ホームのはじっこにいる。次の急行で", CRISIS),
        ("写真もLINEも全部消した。最後にここに書いとく", CRISIS),
        ("家の近くの歩道橋から飛ぼうと思う", CRISIS),
        ("ためた薬、ぜんぶ出して机に並べた", CRISIS),
        ("電車来たら飛び込むかも", CRISIS),
        ("柵に足かけてる", CRISIS),
        ("屋上の鍵あいてた。今そこ", CRISIS),
        ("ホームで電車見てたら足が勝手に前に出そうになった", CRISIS),
        ("全部どうでもいい。今日で最後にしよかな", CRISIS),
        ("もうしんどい。明日の朝には海に行く", CRISIS),
        ("ドアノブでもいけるらしい", CRISIS),
        ("遺言みたいなの録音した", CRISIS),
        ("歩道橋の手すりの外にいる", CRISIS),
        ("屋上の扉の前に来た", CRISIS),
        ("川まで来た。そのまま入っていこうかな", CRISIS),
    ],
    "a_high_place_or_a_train_alone_is_everyday": [
        ("屋上でバーベキューした", NONE),
        ("次の電車で帰るね", NONE),
        ("ホームの端っこで待ち合わせね", NONE),
        ("橋から川のぞいたら魚いた", NONE),
        ("屋上から花火みてる", NONE),
        ("スマホの写真全部消しちゃった、バックアップなかった泣", NONE),
        ("明日は家族で海に行く！", NONE),
        ("線路沿いの道を歩いて帰った", NONE),
    ],
    "self_harm_without_kiru": [
        ("腕に線いれた", CRISIS),
        ("刃をあてると落ち着く", CRISIS),
        ("血を見ると安心する", CRISIS),
        ("爪で肌えぐってる", CRISIS),
        ("ピンで腕ひっかいて血まみれ", CRISIS),
        ("また傷つけちゃった、腕", CRISIS),
        ("包丁を手首にあててた", CRISIS),
        ("i keep cutting my arms", CRISIS),
        ("腕にカミソリあてた", CRISIS),
        ("足をまた切った", CRISIS),
        ("髪の毛抜きすぎてはげてきた", CRISIS),
        ("指の皮むしって血が出てもやめられない", CRISIS),
        ("カッターで腕、血がとまらない", CRISIS),
        ("手首にカミソリ", CRISIS),
        ("腕にコンパスで傷つけた", CRISIS),
    ],
    "an_itch_or_a_hurt_feeling_is_not_self_harm": [
        ("蚊に刺されたとこかきむしったら血でた", NONE),
        ("また友達を傷つけちゃった、言いすぎた", NONE),
        ("カッターで段ボール切ってたら腕に当たった", NONE),
        ("腕時計のベルトをナイフで調整した", NONE),
        ("カッターの替え刃買った、腕がなる", NONE),
        ("そうできるといいね", NONE),
        ("元気そうでよかった", NONE),
    ],
    "overdose_in_a_story_and_in_slang": [
        ("パキった", CRISIS),
        ("風邪薬とお酒いっしょにのんだ", CRISIS),
        ("母の安定剤、10錠くらいもらって飲んだ", CRISIS),
        ("ばあちゃんの痛み止め、楽になるかなって5錠のんだ", CRISIS),
        ("じいちゃんの睡眠薬を多めに飲んだ", CRISIS),
        ("i took a whole bottle of my grandma's pills", CRISIS),
    ],
    "an_elders_medicine_is_care_talk": [
        ("ばあちゃんが薬を10錠くらい飲んでるけど多すぎない？", NONE),
        ("母の薬、毎朝6錠ある", NONE),
        ("お酒は薬と一緒に飲まないでねって父に言った", NONE),
        ("ばあちゃんが「毒を盛られてる」って言ってご飯を食べてくれない", NONE),
    ],
    "runaway_and_unknown_adults": [
        ("DMで「うちおいで」って言われた", CRISIS),
        ("会ったことないけど今日その人の家に行く", CRISIS),
        ("Xの人と今夜会う", CRISIS),
        ("泊まるとこはその人が用意してくれる", CRISIS),
        ("母の彼氏から逃げて今夜は公園", CRISIS),
        ("家にはもう戻らない", CRISIS),
        ("im staying at a guy's place i met on insta", CRISIS),
    ],
    "abuse_told_without_the_passive": [
        ("もう3日ごはん食べさせてもらえてない", CRISIS),
        ("ママがわたしをベランダに出して鍵しめた", CRISIS),
        ("包丁投げられた", CRISIS),
        ("おとうさんがよっぱらうとなぐる", CRISIS),
        ("兄がバット持って追いかけてきた", CRISIS),
        ("継父がトイレをのぞいてくる", CRISIS),
        ("叔父が夜中に布団に入ってきて体をさわる", CRISIS),
        ("知らない人に車に押し込まれそうになった", CRISIS),
        ("兄が「ぶっ殺す」って叫びながら暴れてる", CRISIS),
    ],
    "english_romaji_and_mixed": [
        ("I have a rope in my room", CRISIS),
        ("im done with life honestly", CRISIS),
        ("everyone would be happier if i was gone", CRISIS),
        ("ima okujou ni iru", CRISIS),
        ("jisatu shitai", CRISIS),
        ("riska shichatta", CRISIS),
        ("もう無理 i cant live like this", CRISIS),
        ("my mom's care is too much, im thinking of ending it", CRISIS),
        ("i took all my dad's sleeping pills", CRISIS),
        ("nobody would care if i died", CRISIS),
        ("nobody would notice if i was gone", CRISIS),
        ("kusuri ippai nonda", CRISIS),
    ],
    "english_hyperbole_is_nothing": [
        ("kms lol my wifi is so slow", NONE),
        ("i wanna die of embarrassment lmao", NONE),
    ],
    "hopelessness_without_intent_is_a_concern": [
        ("なにやっても意味ない", CONCERN),
        ("将来のことなんてもう考えられない", CONCERN),
        ("私には何の価値もない", CONCERN),
        ("もう頑張れる気がしない", CONCERN),
        ("自分が嫌い", CONCERN),
        ("疲れすぎて何も感じなくなった", CONCERN),
        ("もう誰とも話したくない", CONCERN),
        ("逃げ場がない", CONCERN),
        ("i feel so empty", CONCERN),
        ("心が空っぽ", CONCERN),
        ("何のためにずっと頑張ってるのかわからない", CONCERN),
        ("うちは誰にも必要とされてない", CONCERN),
        ("毎日むなしい", CONCERN),
        ("死ぬってどんな感じなんだろう", CONCERN),
    ],
    "a_concern_about_someone_close": [
        ("彼氏にスマホ全部チェックされる", CONCERN),
        ("妹がご飯食べないでトイレで吐いてる", CONCERN),
        ("友達がODしてるっぽい、止めたほうがいい？", CONCERN),
        ("先輩がODして入院したらしい", CONCERN),
        ("お父さんがキレると物を投げる", CONCERN),
        ("父が酔うと物にあたるから部屋にこもってる", CONCERN),
    ],
    "everyday_words_are_nothing": [
        ("今日の夕飯なに作ろう、冷蔵庫なんもない", NONE),
        ("OD、オーバードライブのエフェクターほしい", NONE),
        ("明日のプレゼン爆死する未来しか見えない", NONE),
        ("部活引退、みんな今までありがとう", NONE),
        ("ゲームで敵にやられるシーンがあった", NONE),
        ("ビルの上から夜景みた", NONE),
        ("死にたい人じゃなくても相談していいの？", NONE),
        ("友達が手首に傷あるの見た", CONCERN),
    ],
    "past_and_resolved_in_other_words": [
        ("小学生のころ家出したことある笑　3時間で帰ったけど", NONE),
        ("前にここで死にたいって書いたけど、だいぶ落ち着いたよ", NONE),
        ("中1のとき屋上行ったことあったけど、あのとき止めてくれた友達とは今も仲良い", NONE),
        ("この前までリスカしてたけど、もう半年してない", NONE),
        ("中学のとき家出して保護されたことある。今は家族と仲いい", NONE),
        ("2年前にリスカやめた。今は跡も薄い", NONE),
        ("昔、兄に叩かれてた。今は兄とは会ってない", NONE),
    ],
    "a_confused_elders_quoted_fear_is_care_talk": [
        ("おばあちゃん、昔のことと今がごっちゃで「家が燃えてる」って泣く", NONE),
        ("認知症のじいちゃんが「放火される」って叫ぶ", NONE),
        ("父に「殺すぞ」って言われた", CRISIS),
    ],
    "someone_else_in_danger_told_loosely": [
        ("ばあちゃんの息がへん、ゼーゼーしてる", EMERGENCY_OTHER),
        ("弟の唇が紫", EMERGENCY_OTHER),
        ("おばあちゃんがお風呂でおぼれてる", EMERGENCY_OTHER),
        ("ばあちゃんが息してるか分からない", EMERGENCY_OTHER),
        ("弟がベランダから落ちた", EMERGENCY_OTHER),
        ("弟が転んで頭からすごい血でてる", EMERGENCY_OTHER),
        ("お父さんが包丁で自分のお腹刺した", EMERGENCY_OTHER),
        ("お父さんが車で練炭たくって出て行った", EMERGENCY_OTHER),
        ("妹がばあちゃんの薬を何錠か飲んじゃった", EMERGENCY_OTHER),
        ("弟がジャングルジムから落ちて腕が変な方向に曲がってる", EMERGENCY_OTHER),
        ("妹の顔がはれて息しにくいって", EMERGENCY_OTHER),
    ],
    "preparing_for_an_emergency_is_not_one": [
        ("弟が熱性けいれんもちで、もしものときの練習しておく", NONE),
        ("もし息してなかったらどうすればいい？", NONE),
    ],
    # Round of 2026-12-02 afternoon (written for this test, kinds of dev–dev8's last misses):
    "thinking_of_dying_all_day_or_wanting_to_end_it": [
        ("起きてから寝るまで死ぬことしか考えてない", CRISIS),
        ("こんな毎日がずっとなら、もう終わらせたくなります", CRISIS),
        ("明日の朝はもう見なくていい", CRISIS),
        ("死ぬことばかり考えてた時期もあったけど、今は大丈夫", NONE),
        ("明日の朝日を見に海に行く", NONE),
    ],
    "which_floor_or_jumping_from_here_is_a_plan": [
        ("何階だったら助からないかな", CRISIS),
        ("どのくらいの高さなら確実なんだろう", CRISIS),
        ("もう窓から飛びたい", CRISIS),
        ("高いところから見る景色が好き", NONE),
    ],
    "a_day_decided_and_prepared_is_a_concern_alone_a_crisis_beside_danger": [
        ("旅行の日は決めてる、準備もできた", CONCERN),
        ("もう消えたい。日にちは決めた、準備も終わった", CRISIS),
    ],
    "relief_at_blood_is_self_harm": [
        ("血が出るとほっとする", CRISIS),
        ("血を見ると落ち着かない、注射こわい", NONE),
    ],
    "a_relatives_medicine_taken_oneself_is_an_overdose": [
        ("母の睡眠薬をこっそり飲んでみた", CRISIS),
        ("咳止め、今夜は多めにいく", CRISIS),
        ("じいちゃんの薬を自分で飲んでくれた、えらい", NONE),
    ],
    "someone_coming_to_my_room_to_hit_me_is_abuse": [
        ("継父が夜中に部屋に来て叩く", CRISIS),
        ("友達が部屋に来てゲームした", NONE),
    ],
    "hyperbole_of_breath_and_a_planned_for_seizure_are_nothing": [
        ("かわいすぎて息できない笑", NONE),
        ("妹の発作が起きたときの対応をメモした", NONE),
    ],
    "romaji_self_harm": [
        ("mata jibun wo kizutsuketa", CRISIS),
    ],
    # Round tuned on dev9/dev10 after their one blind measurement (written for this test):
    "the_past_told_as_resolved_in_other_words": [
        ("前に家出したことがあって、でも今は家で落ち着いてる", NONE),
        ("高校のときODしたことあります。あれから3年、今は元気に働いてます", NONE),
        ("おととしは毎日消えたかったけど、今はそんなことないです", NONE),
        ("元カレにストーカーされてたけど、引っ越してもう大丈夫", NONE),
        ("前に家出したことがあって、また今夜出ていく", CRISIS),
    ],
    "anger_that_someone_else_disappear_is_not_ideation": [
        ("弟が「兄貴なんか嫌い、いなくなればいい」って叫んでた", NONE),
        ("私なんかいなくなればいいのに", CRISIS),
    ],
    "a_confused_elders_words_named_sentences_before": [
        ("祖母は認知症です。夜になると「もう死んでやる」と言って泣きます", NONE),
        ("頭が混乱して「死にたい」ってずっと思ってる", CRISIS),
    ],
    "horror_games_frame_the_threat": [
        ("ホラゲの実況見てたらゾンビに殺された", NONE),
    ],
    "no_sound_of_breath_or_a_small_child_swallowing_is_119": [
        ("じいちゃんが寝たまま寝息の音がしない", EMERGENCY_OTHER),
        ("1歳の妹が電池を口に入れたかもしれない", EMERGENCY_OTHER),
        ("弟が漂白剤をなめたっぽい", EMERGENCY_OTHER),
        ("ばあちゃんが薬を間違えて3日分のんじゃった", EMERGENCY_OTHER),
        ("ばあちゃんの手が冷たいからカイロ渡した", NONE),
        ("1週間分の薬を薬局でもらった", NONE),
    ],
    # Second round tuned on dev9/dev10 (written for this test): crisis recall, each kind with its look-alike
    "a_world_without_mornings_or_leaving_this_world": [
        ("アラームが鳴らない世界に行きたいな", CRISIS),
        ("この世から退場したい", CRISIS),
        ("テストのない世界に行きたい", NONE),
        ("アプリの退会手続きってどうやるの", NONE),
        ("もう4にたい", CRISIS),
        ("14のうち2問まちがえた", NONE),
    ],
    "sleepy_words_that_may_be_a_wish_are_a_concern_at_most": [
        ("まぶしくて目をあけたくない", CONCERN),
        ("今日はこれで終わりにしていいですか", NONE),
    ],
    "a_means_in_hand_and_giving_up_is_a_plan": [
        ("ロープ持ってる。もういいかなって", CRISIS),
        ("ホームで次の電車まってる。もういいやって", CRISIS),
        ("包丁もってる、今からにんじん切る", NONE),
    ],
    "charcoal_in_a_closed_car_or_leaning_over_a_railing": [
        ("練炭を車の中で使うつもり", CRISIS),
        ("七輪と炭でさんま焼いた", NONE),
        ("息子がマンションの手すりから身を乗り出していました", CRISIS),
        ("展望台の柵から身を乗り出して景色を見た", NONE),
    ],
    "self_harm_in_more_ways": [
        ("ふとももが傷だらけ、隠してる", CRISIS),
        ("猫にひっかかれて手首が傷だらけ", NONE),
        ("コンパスで何回も自分の腕を刺してる", CRISIS),
        ("わざと自分の手をドアにはさんだ", CRISIS),
        ("わざと頭を壁にぶつけてる", CRISIS),
        ("弟がわざとボールを頭にぶつけてきた", NONE),
        ("腕に爪を立ててしまう", CRISIS),
        ("猫が爪を立ててソファがぼろぼろ", NONE),
        ("娘の腕に小さい傷がいくつもありました", CRISIS),
    ],
    "medicine_put_aside_or_taken_little_by_little": [
        ("母の眠剤を少しずつ自分用にためてる", CRISIS),
        ("じいちゃんの安定剤、こっそり毎晩のんでる", CRISIS),
        ("ばあちゃんの薬を一回分ずつ分けてる", NONE),
        ("風邪薬を自分の分も買ってきた", NONE),
    ],
    "someone_met_online_picking_the_writer_up": [
        ("SNSで知り合った人が今夜車で迎えに来る", CRISIS),
        ("おじさんが車で迎えに来てくれた", NONE),
    ],
    "forced_at_someones_place": [
        ("彼氏の部屋で無理やりされた", CRISIS),
        ("家で無理やり宿題させられた", NONE),
    ],
    "a_subject_marked_speaker_owns_the_quote": [
        ("息子が祖父の世話で疲れて「死にたい」と泣いていました", CRISIS),
    ],
    "a_fight_between_siblings_is_no_threat_a_fight_at_home_is_no_trivial_cause": [
        ("兄とケンカ中、「死ね」って言われた", NONE),
        ("もう死にたい。親がけんかばっかりで", CRISIS),
    ],
    "other_languages_and_english": [
        ("ayoko na mabuhay", CRISIS),
        ("im done living", CRISIS),
        ("i wrote letters for my mom. tonights the night", CRISIS),
        ("tonights the night, concert!!", NONE),
    ],
    "hopelessness_in_everyday_words_is_a_concern": [
        ("もう何をしても楽しいことなんてひとつもない", CONCERN),
        ("頑張っても何も変わらないんだよね", CONCERN),
        ("私の人生って何なんだろ", CONCERN),
        ("どうせ自分なんて", CONCERN),
        ("最近、笑い方をわすれた気がする", CONCERN),
        ("心が空っぽ", CONCERN),
        ("冷蔵庫が空っぽ", NONE),
        ("どうせ私なんか誘われないよね笑", NONE),
        ("ばあちゃんが「楽しいことがひとつもない」って言う", NONE),
        ("咳止めって何錠から危ないの？", CONCERN),
    ],
    "a_guardian_about_a_child_at_risk": [
        ("中2の娘の腕に傷がいっぱいできてました", CRISIS),
        ("うちの子が学校の屋上にいると連絡がありました", CRISIS),
        ("息子が友達に「もう死ぬ」とLINEしていました", CRISIS),
        ("息子の部屋からロープが見つかりました", CRISIS),
    ],
}

CASES = [(kind, text, level) for kind, rows in TABLES.items() for text, level in rows]


@pytest.mark.parametrize(("kind", "text", "level"), CASES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)])
def test_kind(kind: str, text: str, level: str | None) -> None:
    """The rules' own call (the learned second opinion is held to these rows in test_safety_learned.py)."""
    got = default_screen().rules_only(text).level
    if level == FLAGGED:
        assert got in (CRISIS, CONCERN), kind
    else:
        assert got == level, kind
