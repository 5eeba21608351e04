"""Replies, hotlines and services as validated data (R4, R5, R7, R11, R13, R18)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff.domain.content import REPLY_PLACEHOLDERS, Content, ContentError

DATA_DIR = Path(__file__).resolve().parents[2] / "data"

# The numbers checked on each operator's official page (data/hotlines.yml): a change must be deliberate.
DESIGN_NUMBERS = {
    "110",
    "119",
    "0120-0-78310",
    "0120-279-338",
    "189",
    "0120-189-783",
    "0120-061-338",
    "076-237-2700",
    "0570-783-780",
}
DESIGN_24H = {"110", "119", "0120-0-78310", "0120-279-338", "189"}
# The only service phone numbers we are sure of; anything else must point to the official page instead.
KNOWN_SERVICE_PHONES = {"076-243-4158", "076-223-9553", "0767-53-0811", "189", "0120-279-338"}
SAMPLE = {"position": 2, "next_open": "11月25日(水) 11:00", "services": "・テスト窓口", "name": "テスト窓口"}


@pytest.fixture(scope="module")
def content() -> Content:
    return Content.load(DATA_DIR)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    for name in ("replies.yml", "hotlines.yml", "services.yml", "waiting.yml"):
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def test_municipalities_are_ishikawas_19_and_outside(content):
    names = content.municipalities()
    assert len(names) == 20
    assert names[0] == "金沢市"
    assert names[-1] == "県外"
    assert {"かほく市", "野々市市", "宝達志水町", "能登町"} <= set(names)


def test_every_municipality_has_services_with_a_child_guidance_centre(content):
    for name in content.municipalities():
        items = content.services(name)
        kinds = {s.kind for s in items}
        assert {"こども家庭センター", "児童相談所", "地域包括支援センター"} <= kinds, name
        assert any("スクールカウンセラー" in s.name for s in items) or name == "県外", name
        assert content.services_text(name).startswith("・"), name


@pytest.mark.parametrize(
    ("municipality", "centre", "phone"),
    [
        ("金沢市", "金沢市児童相談所", "076-243-4158"),
        ("小松市", "石川県中央児童相談所", "076-223-9553"),
        ("白山市", "石川県中央児童相談所", "076-223-9553"),
        ("七尾市", "石川県七尾児童相談所", "0767-53-0811"),
        ("珠洲市", "石川県七尾児童相談所", "0767-53-0811"),
    ],
)
def test_child_guidance_centre_per_municipality(content, municipality, centre, phone):
    guidance = [s for s in content.services(municipality) if s.kind == "児童相談所"]
    assert [(s.name, s.phone) for s in guidance] == [(centre, phone)]


def test_municipal_offices_are_named_without_invented_numbers(content):
    phones = {s.phone for m in content.municipalities() for s in content.services(m) if s.phone}
    assert phones <= KNOWN_SERVICE_PHONES
    centre = next(s for s in content.services("津幡町") if s.kind == "こども家庭センター")
    assert centre.phone is None
    assert "津幡町" in centre.name
    assert "町役場" in (centre.note or "")


def test_national_young_carer_page_is_offered(content):
    urls = {s.url for s in content.services("能美市") if s.url}
    assert "https://www.cfa.go.jp/policies/young-carer/" in urls


def test_unknown_municipality_is_a_key_error(content):
    with pytest.raises(KeyError, match="東京都"):
        content.services("東京都")


def test_hotline_numbers_match_design(content):
    phones = [h for h in content.hotlines() if h.kind != "chat"]
    assert {h.number for h in phones} == DESIGN_NUMBERS
    assert {h.number for h in phones if h.is_24h} == DESIGN_24H
    no_emergency = content.hotlines(only_24h=True, emergency=False)
    assert {h.number for h in no_emergency if h.number} == DESIGN_24H - {"110", "119"}


def test_crisis_and_off_hours_lines_include_one_by_text_for_someone_who_cannot_phone(content):
    """Issue 13: a young carer whose parent is in the next room may not be able to call."""
    chats = [h for h in content.hotlines(only_24h=True) if h.kind == "chat"]
    assert chats and all(h.url.startswith("https://") for h in chats)
    text = content.hotlines_text()
    assert "https://talkme.jp/" in text and "文字で" in text
    assert "https://talkme.jp/" in content.reply("crisis", hotlines=text)


def test_hotlines_text_lists_24h_windows_without_emergency(content):
    text = content.hotlines_text()
    for number in ("0120-0-78310", "0120-279-338", "189"):
        assert number in text
    assert "0120-189-783" not in text
    assert "110" not in text
    assert content.emergency_text() == "・警察 110\n・救急・消防 119"


@pytest.mark.parametrize("key", sorted(REPLY_PLACEHOLDERS))
def test_every_reply_renders_without_leftover_braces(content, key):
    text = content.reply(key, **SAMPLE)
    assert text.strip()
    assert "{" not in text and "}" not in text
    assert len(text) <= 5000


def test_off_hours_reply_names_next_opening_and_24h_windows(content):
    text = content.reply("off_hours", next_open="11月25日(水) 11:00")
    assert "11月25日(水) 11:00" in text
    assert "0120-0-78310" in text and "0120-279-338" in text


def test_crisis_reply_puts_110_and_119_before_the_24h_lines(content):
    text = content.reply("crisis")
    assert text.index("110") < text.index("0120-0-78310")
    assert "119" in text and "189" in text


def test_queue_replies_show_position(content):
    assert "3番目" in content.reply("queued", position=3)
    assert "3番目" in content.reply("all_busy", position=3)


def test_refer_reply_carries_services(content):
    text = content.reply("eligibility_refer_outside", services=content.referral_text({"municipality": "県外"}))
    assert "こども家庭センター" in text and "よりそいホットライン" in text


def test_all_busy_notice_invites_the_user_to_write_meanwhile(content):
    assert "待っている間に、話したいことを送っておいてね" in content.reply("all_busy", position=2)


def test_a_45_year_old_caring_for_her_mother_is_sent_to_elderly_care_not_to_child_services(content):
    profile = {"age_band": "40_over", "role": "self", "municipality": "金沢市", "care_recipients": ["mother"]}
    chosen = content.referral(profile)
    assert chosen[0].kind == "地域包括支援センター" and "金沢市" in chosen[0].name
    assert not {"児童相談所", "スクールカウンセラー", "こども家庭センター"} & {s.kind for s in chosen}
    text = content.referral_text(profile)
    assert text.splitlines()[0] == "まずはここに相談してみてね：金沢市の地域包括支援センター"
    assert "189" not in text


@pytest.mark.parametrize(
    ("profile", "first"),
    [
        ({"age_band": "16_18", "municipality": "輪島市"}, "こども家庭センター"),
        ({"age_band": "16_18", "municipality": "輪島市", "care_recipients": ["grandparent"]}, "地域包括支援センター"),
        ({"age_band": "23_29", "municipality": "小松市", "care_needs": ["mental_illness"]}, "保健福祉センター"),
        ({"age_band": "19_22", "municipality": "白山市", "care_needs": ["disability"]}, "障害福祉の窓口"),
        ({"role": "guardian", "municipality": "七尾市"}, "こども家庭センター"),
        ({"municipality": "県外"}, "電話相談"),
    ],
)
def test_referral_starts_with_what_fits_the_person_and_stays_short(content, profile, first):
    chosen = content.referral(profile)
    assert chosen[0].kind == first
    assert 1 <= len(chosen) <= 3 and len(set(chosen)) == len(chosen)


def test_outside_ishikawa_a_teenager_is_given_national_windows_that_take_children(content):
    kinds = [s.kind for s in content.referral({"municipality": "県外", "age_band": "13_15"})]
    assert kinds == ["こども家庭センター", "LINE相談", "児童相談所"]
    line = next(s for s in content.services("県外") if s.kind == "LINE相談")
    assert line.name == "親子のための相談LINE（こども家庭庁）"


def test_a_referral_naming_an_unknown_kind_is_rejected_on_load(data_copy):
    _edit(data_copy / "services.yml", "    elderly: 地域包括支援センター", "    elderly: 介護センター")
    with pytest.raises(ContentError, match="介護センター"):
        Content.load(data_copy)


def test_missing_placeholder_value_is_a_value_error(content):
    with pytest.raises(ValueError, match="position"):
        content.reply("queued")


def test_unknown_reply_is_a_key_error(content):
    with pytest.raises(KeyError, match="no_such_reply"):
        content.reply("no_such_reply")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_typo_in_placeholder_is_rejected_on_load(data_copy):
    _edit(data_copy / "replies.yml", "{position}番目です。順番が来たら、", "{positon}番目です。順番が来たら、")
    with pytest.raises(ContentError, match=r"queued.*\{position\}"):
        Content.load(data_copy)


def test_missing_reply_is_rejected_on_load(data_copy):
    _edit(data_copy / "replies.yml", "group_leave:", "group_leave_old:")
    with pytest.raises(ContentError, match="missing replies: group_leave"):
        Content.load(data_copy)


def test_broken_brace_is_rejected_on_load(data_copy):
    _edit(data_copy / "replies.yml", "スタンプありがとう", "スタンプ{ありがとう")
    with pytest.raises(ContentError, match="sticker"):
        Content.load(data_copy)


def test_unquoted_phone_number_is_rejected_on_load(data_copy):
    _edit(data_copy / "hotlines.yml", 'number: "189"', "number: 189")
    with pytest.raises(ContentError, match="quoted"):
        Content.load(data_copy)


def test_missing_municipality_is_rejected_on_load(data_copy):
    _edit(data_copy / "services.yml", "  穴水町: {child_guidance: nanao}\n", "")
    with pytest.raises(ContentError, match="穴水町"):
        Content.load(data_copy)


def test_unknown_child_guidance_centre_is_rejected_on_load(data_copy):
    _edit(data_copy / "services.yml", "能美市: {child_guidance: chuo}", "能美市: {child_guidance: nomi}")
    with pytest.raises(ContentError, match="nomi"):
        Content.load(data_copy)
