"""Who the service is for (R6) and how others are answered (R7), decided from the consented profile.

Eligible: Ishikawa residents under 30, and guardians. 30–39 are accepted "depending on circumstances", so they are
flagged for the counsellor rather than turned away. 40+ and people outside Ishikawa are still answered sincerely
and referred (the reply lives in data/replies.yml). Crisis is not decided here: the safety screen applies to
everybody, eligible or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

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

AGE_BANDS = ("under_13", "13_15", "16_18", "19_22", "23_29", "30_39", "40_over")
UNDER_30 = frozenset(AGE_BANDS[:5])
ROLES = ("self", "guardian")


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

    @property
    def reply_key(self) -> str | None:
        """The data/replies.yml key to answer a referral with, None when no referral is due."""
        if self.level is not Level.REFER:
            return None
        return "eligibility_refer_outside" if self.reason == "outside_ishikawa" else "eligibility_refer_age"

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
