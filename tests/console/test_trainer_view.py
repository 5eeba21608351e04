"""The trainer page: consented contacts only, the bot's turns as written, the young person's words masked (12.7)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from console.masking import masker
from handoff.domain.eligibility import MUNICIPALITIES
from tests.console.conftest import Gateway, new_line_user, wait_for
from tests.support.databases import execute

ADDRESS_AND_SCHOOL = "山田花子です。金沢市泉野町三丁目5-2、電話は〇九〇の一二三四五六七八、泉丘高校に通ってます"


mask = masker(tuple(MUNICIPALITIES))


def test_trainer_mask_hides_name_address_kanji_phone_number_and_school() -> None:
    assert mask(ADDRESS_AND_SCHOOL) == "［名前］です。［地名］［数字］、電話は［数字］の［数字］、［学校］に通ってます"


@pytest.mark.parametrize(("said", "shown"), [
    ("友達のゆいちゃんと田中先生に相談した", "友達［名前］ちゃんと［名前］先生に相談した"),
    ("マリアさんが来る。佐藤健です", "［名前］さんが来る。［名前］です"),
    ("野々市市本町２丁目に住んでる、七尾駅の近く", "［地名］［数字］丁目に住んでる、［地名］駅の近く"),
    ("紫錦台中の2年。小松の高校", "［学校］の［数字］年。［地名］の高校"),
    ("〒920-8580 ０７６－２２３－９５５３ 十四歳 ③ Ⅳ", "〒［数字］歳 ［数字］"),  # spaced figures are one
    ("yui.0312@example.jp か https://example.com/a?b=1 か @yui_0312 か yui_0312 へ",
     "［メール］ か ［URL］ か ［ID］ か ［ID］ へ"),
])
def test_trainer_mask_hides_people_places_schools_ids_and_numbers_in_any_script(said: str, shown: str) -> None:
    assert mask(said) == shown


def test_trainer_mask_keeps_family_and_everyday_words() -> None:
    everyday = ("お母さんの介護で寝れてない。おばあちゃんと弟くんと一緒に住んでる。担任の先生は知ってる。"
                "入院中の父の世話。授業中に電話がくる。一人で家事をする。小学校の時から。たくさん話せた")
    assert mask(everyday) == everyday
    assert mask("\ue001金沢") == "［地名］"  # a private-use character sent by a user cannot pose as a mask


def test_trainer_page_shows_only_consented_contacts_with_their_words_masked(gateway_sqlite: Gateway) -> None:
    consented, declined = new_line_user(), new_line_user()
    gateway_sqlite.user_says(consented, ADDRESS_AND_SCHOOL)
    gateway_sqlite.user_says(declined, "同意していない人の言葉です")
    url = gateway_sqlite.database_url
    wait_for(lambda: len(gateway_sqlite.rows(
        "SELECT 1 FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k "
        "ON k.id = c.contact_id WHERE k.line_user_id IN (:a, :b) AND m.sender = 'user'", a=consented, b=declined)) == 2)
    execute(url, "UPDATE contacts SET consent = :t WHERE line_user_id = :u", t=True, u=consented)
    execute(url, "UPDATE contacts SET consent = :f WHERE line_user_id = :u", f=False, u=declined)
    conversation_id = gateway_sqlite.rows("SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id "
                                          "WHERE k.line_user_id = :u", u=consented)[0]["id"]
    execute(url, "INSERT INTO messages (conversation_id, direction, sender, kind, text, event_at, created_at, crisis, "
            "internal) VALUES (:c, 'out', 'bot', 'text', :x, :t, :t, :f, :f)", c=conversation_id,
            x="金沢市のこども家庭センターに相談できるよ", t=datetime.now(UTC).replace(tzinfo=None), f=False)
    page = gateway_sqlite.login(gateway_sqlite.add_user("trainer")).get("/console/training")
    assert page.status_code == 200
    text = page.text
    assert "［名前］です。［地名］［数字］、電話は［数字］の［数字］、［学校］に通ってます" in text
    for secret in ("山田", "花子", "泉野", "三丁目", "5-2", "〇九〇", "一二三四", "泉丘", consented):
        assert secret not in text, secret
    assert "金沢市のこども家庭センターに相談できるよ" in text  # the bot's own words, as written
    assert "同意していない人の言葉です" not in text
