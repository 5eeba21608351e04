"""Kinds of risk the safety screen missed on dev16 (after its blind measurement), continued from test_safety_kinds4.py.

Each table is a kind a rule was written for, never a dev-set sentence: the sentences were written for these tests,
with look-alikes that must stay as they are. Each row is its own test id, so a failure names the kind.
"""

from __future__ import annotations

import pytest

from handoff.domain.safety import CONCERN, CRISIS, EMERGENCY_OTHER, default_screen
from handoff.domain.safety.normalise import normalise

NONE = None

TABLES: dict[str, list[tuple[str, str | None]]] = {
    # A means told as the thing and where it would go: a cord at a door knob, charcoal for a closed room, a dose
    # answered in one sentence and taken in the next, a rooftop left unlocked and "tonight".
    "a_means_without_the_standard_words": [
        ("延長コード、ドアノブにかけられるか試してみた", CRISIS),
        ("練炭って車の中で使ったらどうなる、今夜つかう", CRISIS),
        ("うん、30錠くらい。", NONE),
        ("うん、30錠くらい。もう飲んだ", CRISIS),
        ("屋上、鍵かかってなかった。今夜そこ行く", CRISIS),
        ("ドアノブにエコバッグかけといた", NONE),
        ("七輪でさんま焼いた、庭で", NONE),
    ],
    # Wishing one had never existed, a grave wished for (also as an emoji), Vietnamese.
    "ideation_in_other_words": [
        ("自分の存在、最初からなかったことにしたい", CRISIS),
        ("家族のためにはわたしがいなくなるのが一番やと思う", CRISIS),
        ("寝るのが一番いい、疲れた日は", NONE),
        ("はよ🪦入りたいわ", CRISIS),
        ("em không muốn sống nữa", CRISIS),
        ("お墓参りに行ってきた、じいちゃんの", NONE),
    ],
    # Burns and urges: a burn with a lighter is self-harm, an urge without the act is a concern, a friend's
    # wound is theirs.
    "self_harm_burns_urges_and_others": [
        ("ライターで手首あぶった", CRISIS),
        ("腕を焼いた、アイロンで", CRISIS),
        ("壁を殴りたくなる、まだやってない", CONCERN),
        ("クラスの子の手首に傷たくさんあった", CONCERN),
        ("弟には手を焼いた", NONE),
    ],
    # Strangers: a man met at the station paying for a room, a home of someone met on social media, a photo
    # demanded with a threat.
    "strangers_and_sextortion": [
        ("駅で声かけてきた男の人が泊めてくれるって", CRISIS),
        ("インスタで知り合った人の部屋にもう3日いる", CRISIS),
        ("裸の写真送れって言われてる、送らないとばらすって", CRISIS),
        ("うちの子がネットの男性に会いに行くと言って家を出ました", CRISIS),
        ("インスタで知り合った子とカフェ行った", NONE),
    ],
    # English threats told as said: the writer is the one threatened.
    "threats_in_english": [
        ("my stepdad said he would kill me if i tell", CRISIS),
        ("mom's gonna kill me lol i broke the vase", NONE),
    ],
    # Someone else in danger now, told loosely: a towel gone red, a hand cut open, denture-cleaner water drunk,
    # a heart medicine taken all at once, a face drooping.
    "someone_else_in_danger_told_loosely": [
        ("じいちゃんが指切って、ティッシュが真っ赤", EMERGENCY_OTHER),
        ("母が手をぱっくり切った", EMERGENCY_OTHER),
        ("ばあちゃんが入れ歯の洗浄剤溶かした水を飲んじゃった", EMERGENCY_OTHER),
        ("祖父が心臓の薬をまとめて飲んだみたい", EMERGENCY_OTHER),
        ("ばあちゃんの睡眠薬、シートごと飲んだ。さっき", CRISIS),
        ("父の顔の右が急に下がって、しゃべれない", EMERGENCY_OTHER),
        ("資料をざっくり読んだ", NONE),
        ("じいちゃんの血圧の薬、朝まとめて袋に入れた", NONE),
    ],
    # Falls and burns of the person cared for (own probes): someone named, now.
    "falls_and_burns_of_someone_else": [
        ("祖父が転んで動けない、頭打った", EMERGENCY_OTHER),
        ("弟がベランダから落ちて泣かない", EMERGENCY_OTHER),
        ("ばあちゃんが熱湯かぶった、やけどがひどい", EMERGENCY_OTHER),
        ("妹が頭をぶつけて吐いてる", EMERGENCY_OTHER),
        ("じいちゃんが湯船で沈んでた", EMERGENCY_OTHER),
        ("my mom took too many pills and wont wake up", EMERGENCY_OTHER),
        ("my stepdad hits me when he drinks", CRISIS),
        ("自転車で転んで立てないくらい笑った", NONE),
        ("料理中にちょっとやけどした", NONE),
    ],
    # Things over or talked about: 「最近はしてない」 is a past that may not be over; a service question in
    # 「してOK？」 form; an ill elder's words; the illness that started the care.
    "past_questions_and_care_stories": [
        ("前に腕切ってた。最近はしてないけど", CONCERN),
        ("死にたいとかの話もしてOK？", NONE),
        ("認知症のばあちゃんが「死なせて」って毎晩言う", NONE),
        ("父が脳出血で倒れてから左手が動かなくなって、着替えを手伝ってる", NONE),
        ("小5から中2まで手首切ってた。もう平気", NONE),
    ],
    # Hopelessness in everyday words, a secret act, wanting to ride to an unknown station.
    "hopelessness_and_hints": [
        ("わたしの人生どこ行ったんやろ", CONCERN),
        ("昨日やっちゃった、何をとは言えない", CONCERN),
        ("どこか知らない町まで行きたくなる", CONCERN),
    ],
}
CASES = [(kind, text, level) for kind, rows in TABLES.items() for text, level in rows]


@pytest.mark.parametrize(("kind", "text", "level"), CASES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(CASES)])
def test_kind(kind: str, text: str, level: str | None) -> None:
    assert default_screen().screen(text).level == level


def test_emoji_that_stand_for_a_word_fold_to_it_and_others_go() -> None:
    assert normalise("はやく🪦に入りたい💊🌸") == "はやく墓に入りたい薬"
