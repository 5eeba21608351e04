"""Who the service is for (R6) and how others are answered (R7), decided from the consented profile.

Eligible: Ishikawa residents under 30, and guardians. 30–39 are accepted "depending on circumstances", so they are
flagged for the counsellor rather than turned away. 40+ and people outside Ishikawa are still answered sincerely
and referred (the reply lives in data/replies.yml). Crisis is not decided here: the safety screen applies to
everybody, eligible or not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from handoff.domain import profile

# Ishikawa's 19 municipalities (11 市 + 8 町), in the prefecture's usual order, and the one answer for elsewhere.
ISHIKAWA_MUNICIPALITIES: tuple[str, ...] = (
    "金沢市",
    "七尾市",
    "小松市",
    "輪島市",
    "珠洲市",
    "加賀市",
    "羽咋市",
    "かほく市",
    "白山市",
    "能美市",
    "野々市市",
    "川北町",
    "津幡町",
    "内灘町",
    "志賀町",
    "宝達志水町",
    "中能登町",
    "穴水町",
    "能登町",
)
OUTSIDE = "県外"
MUNICIPALITIES: tuple[str, ...] = (*ISHIKAWA_MUNICIPALITIES, OUTSIDE)
# How people type them: the reading in hiragana (katakana and 〜し/〜まち/〜ちょう are folded onto it).
READINGS: dict[str, str] = {
    "金沢市": "かなざわ",
    "七尾市": "ななお",
    "小松市": "こまつ",
    "輪島市": "わじま",
    "珠洲市": "すず",
    "加賀市": "かが",
    "羽咋市": "はくい",
    "かほく市": "かほく",
    "白山市": "はくさん",
    "能美市": "のみ",
    "野々市市": "ののいち",
    "川北町": "かわきた",
    "津幡町": "つばた",
    "内灘町": "うちなだ",
    "志賀町": "しか",
    "宝達志水町": "ほうだつしみず",
    "中能登町": "なかのと",
    "穴水町": "あなみず",
    "能登町": "のと",
}
# The other 46 prefectures (and the words for "not Ishikawa"): typed on their own or in a sentence they mean 県外.
ELSEWHERE: tuple[str, ...] = tuple(
    (
        "北海道 青森 岩手 宮城 秋田 山形 福島 茨城 栃木 群馬 埼玉 千葉 東京 神奈川 新潟 富山 福井 山梨 長野 岐阜 静岡 "
        "愛知 三重 滋賀 京都 大阪 兵庫 奈良 和歌山 鳥取 島根 岡山 広島 山口 徳島 香川 愛媛 高知 福岡 佐賀 長崎 熊本 "
        "大分 宮崎 鹿児島 沖縄 県外 石川県外 石川以外 県の外 とやま ふくい"
    ).split()
)
_SUFFIXES = ("市", "町", "し", "まち", "ちょう")
_NOISE = re.compile(r"(に住ん\w*|在住|です|だよ|だけど|[、。,.!?…〜ー])+$")  # 「金沢に住んでます」 → 金沢

# The profile's values, in order: the first five bands are under 30, the first three under 19.
AGE_BANDS = profile.values("age_band")
UNDER_30 = frozenset(AGE_BANDS[:5])
ROLES = profile.values("role")
if AGE_BANDS[4:] != ("23_29", "30_39", "40_over") or set(ROLES) != {"self", "guardian"}:
    raise ValueError("handoff/domain/profile.yml: the rules below are written for these age bands and roles")


def _hiragana(text: str) -> str:
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def _stems(name: str) -> set[str]:
    """The forms a municipality answers to: 野々市市 → 野々市市, 野々市, ののいち, ののいちし."""
    bare = name[:-1]
    reading = READINGS[name]
    return {name, bare, reading, *(reading + suffix for suffix in _SUFFIXES[2:])}


_BY_STEM: dict[str, str] = {stem: name for name in ISHIKAWA_MUNICIPALITIES for stem in _stems(name)}


def normalise_municipality(text: object) -> str | None:
    """One of MUNICIPALITIES for a loosely typed place, or None when it names none.

    「野々市」「ののいち」「ノノイチ」「かなざわ」「金沢」「石川県金沢市です」 → the municipality;
    「富山」「東京に住んでる」 → 県外. A kana reading must be the whole answer (「のみ」 is also "only"); a
    written name may sit in a sentence, and the longest one found wins (中能登町 over 能登町).
    """
    if not isinstance(text, str):
        return None
    typed = re.sub(r"\s+", "", _hiragana(unicodedata.normalize("NFKC", text)))
    folded = typed.removeprefix("石川県").removeprefix("いしかわけん")
    if any(place in typed for place in ELSEWHERE):
        return OUTSIDE
    if folded in MUNICIPALITIES:
        return folded
    bare = _NOISE.sub("", folded)
    for candidate in (folded, bare):
        if candidate in _BY_STEM:
            return _BY_STEM[candidate]
    written = [stem for stem in _BY_STEM if _written(stem) and stem in folded]
    return _BY_STEM[max(written, key=len)] if written else None


def _written(stem: str) -> bool:
    """A stem with a kanji in it (金沢, 野々市, かほく市): safe to look for inside a sentence, unlike bare kana."""
    return any("\u4e00" <= c <= "\u9fff" for c in stem)


class Level(StrEnum):
    ELIGIBLE = "eligible"
    FLAGGED = "flagged"
    REFER = "refer"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Eligibility:
    """Level plus a machine-readable reason, e.g. ("refer", "outside_ishikawa") or ("unknown", "missing:age_band")."""

    level: Level
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"level": self.level.value, "reason": self.reason}


def assess(profile: Mapping[str, object]) -> Eligibility:
    """Decide eligibility from profile answers; missing or skipped (None) answers give `unknown`.

    A known answer that already decides the case wins over a missing one: someone outside Ishikawa is referred
    even before they give their age. Guardians of Ishikawa residents are eligible whatever their own age.
    Values outside the documented vocabulary are reported as `unknown` with an `invalid:<field>` reason
    rather than raising, so one bad stored value never stops a conversation.
    """
    municipality = profile.get("municipality")
    age_band = profile.get("age_band")
    role = profile.get("role")

    if municipality is not None and municipality not in MUNICIPALITIES:
        return Eligibility(Level.UNKNOWN, "invalid:municipality")
    if age_band is not None and age_band not in AGE_BANDS:
        return Eligibility(Level.UNKNOWN, "invalid:age_band")
    if role is not None and role not in ROLES:
        return Eligibility(Level.UNKNOWN, "invalid:role")

    if municipality == OUTSIDE:
        return Eligibility(Level.REFER, "outside_ishikawa")
    if role == "guardian":
        if municipality is None:
            return Eligibility(Level.UNKNOWN, "missing:municipality")
        return Eligibility(Level.ELIGIBLE, "guardian")
    if age_band == "40_over":
        if role is None:
            # A guardian of 40+ is eligible, so ask before referring anyone away.
            return Eligibility(Level.UNKNOWN, "missing:role")
        return Eligibility(Level.REFER, "age_40_over")
    if age_band is None:
        return Eligibility(Level.UNKNOWN, "missing:age_band")
    if municipality is None:
        return Eligibility(Level.UNKNOWN, "missing:municipality")
    if age_band == "30_39":
        return Eligibility(Level.FLAGGED, "age_30_39")
    return Eligibility(Level.ELIGIBLE, "under_30_in_ishikawa")


# Who the user cares for, as the profile says it, to the kind of need a service answers. A parent cared for by
# someone of 40 or over is most likely elderly.
CARE_NEEDS = ("elderly", "disability", "mental_illness", "child")
_RECIPIENT_NEEDS = {"grandparent": "elderly", "sibling": "child"}
CHILD_BANDS = frozenset(AGE_BANDS[:3])


def care_needs(profile: Mapping[str, object]) -> list[str]:
    """The needs a referral should answer first, most specific first; explicit `care_needs` answers win."""
    explicit = profile.get("care_needs")
    found = [n for n in explicit if n in CARE_NEEDS] if isinstance(explicit, list) else []
    recipients = profile.get("care_recipients")
    for recipient in recipients if isinstance(recipients, list) else []:
        need = _RECIPIENT_NEEDS.get(str(recipient))
        if recipient in ("mother", "father") and profile.get("age_band") == "40_over":
            need = "elderly"
        if need and need not in found:
            found.append(need)
    return found


def audience(profile: Mapping[str, object]) -> str:
    """Whom a referral speaks to: guardian, child (under 19), young_adult (19–39), adult (40+) or anyone."""
    if profile.get("role") == "guardian":
        return "guardian"
    band = profile.get("age_band")
    if band in CHILD_BANDS:
        return "child"
    if band == "40_over":
        return "adult"
    return "young_adult" if band in AGE_BANDS else "anyone"
