"""Which services a referral names (R7): few, the one to try first first, chosen for the person.

Why a rule and not the whole list: a 45-year-old caring for her mother was sent 児童相談所 189 and the school
counsellor because every referral listed everything the municipality had. The rule (data/services.yml,
`referral:`) puts first what answers the need of whom the user cares for (an elderly parent → 地域包括支援センター),
then what fits who the user is (a child, a young adult, an adult of 40+, a guardian).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from handoff.domain import profile as vocabulary
from handoff.domain.eligibility import (
    AGE_BANDS,
    CARE_NEEDS,
    ROLES,
    Eligibility,
    Level,
    assess,
    audience,
    care_needs,
)

if TYPE_CHECKING:
    from handoff.domain.content import Content

AUDIENCES = ("guardian", "child", "young_adult", "adult", "anyone")
MAX_ITEMS = 3  # a short list is read, a long one is not


class HasKind(Protocol):
    @property
    def kind(self) -> str: ...


S = TypeVar("S", bound=HasKind)


@dataclass(frozen=True)
class ReferralRules:
    needs: dict[str, str]  # care need → service kind
    audiences: dict[str, tuple[str, ...]]  # who the user is → service kinds, in order

    @classmethod
    def from_mapping(cls, raw: Any, places: Mapping[str, Sequence[HasKind]]) -> ReferralRules:
        """Validate `referral:` against the places' services; ValueError says what is wrong. Every person must get
        at least one service everywhere: an empty referral is a dead end."""
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), dict) for k in ("needs", "audiences")):
            raise ValueError("expected `referral:` with `needs:` and `audiences:`")
        needs = {str(k): str(v) for k, v in raw["needs"].items()}
        audiences = {str(k): tuple(str(kind) for kind in v or ()) for k, v in raw["audiences"].items()}
        missing = [a for a in AUDIENCES if not audiences.get(a)]
        kinds = {s.kind for items in places.values() for s in items}
        unknown = sorted({*needs.values(), *(k for v in audiences.values() for k in v)} - kinds)
        strange = sorted(set(needs) - set(CARE_NEEDS))
        if missing or unknown or strange:
            raise ValueError(
                f"referral: audiences missing {missing or 'none'}; unknown kinds {unknown or 'none'}; "
                f"unknown needs {strange or 'none'}"
            )
        rules = cls(needs, audiences)
        people = [{"role": "guardian"}, {}, *({"age_band": band} for band in AGE_BANDS)]
        empty = sorted({place for place, items in places.items() for p in people if not rules.choose(p, items)})
        if empty:
            raise ValueError(f"referral names no service for some people in {', '.join(empty)}")
        return rules

    def choose(self, profile: Mapping[str, object], services: Sequence[S]) -> list[S]:
        """At most MAX_ITEMS of `services` (one place's list), needs first, then the person's audience."""
        by_kind: dict[str, S] = {}
        for service in services:
            by_kind.setdefault(service.kind, service)
        kinds = [self.needs[n] for n in care_needs(profile) if n in self.needs]
        kinds += self.audiences[audience(profile)]
        chosen: list[S] = []
        for kind in kinds:
            service = by_kind.get(kind)
            if service is not None and service not in chosen:
                chosen.append(service)
        return chosen[:MAX_ITEMS]


# The answer a referred person gets, by the reason they are referred: outside Ishikawa, or 40+ and not a guardian.
REFER_REPLIES = {"outside_ishikawa": "eligibility_refer_outside"}
REFER_REPLY_DEFAULT = "eligibility_refer_age"


@dataclass(frozen=True)
class ReferralDecision:
    """The one referral decision (R7), for the bot's eligibility answer and for a hand-off asked for afterwards.

    Someone referred elsewhere is never offered a counsellor here, and asking for one repeats the referral
    briefly instead of queueing, so no message contradicts "this window is not for you".
    """

    eligibility: Eligibility
    profile: Mapping[str, object]

    @property
    def referred(self) -> bool:
        return self.eligibility.level is Level.REFER

    def text(self, content: Content) -> str | None:
        """The full referral with the services that fit, None when nobody is referred."""
        if not self.referred:
            return None
        key = REFER_REPLIES.get(self.eligibility.reason, REFER_REPLY_DEFAULT)
        return content.reply(key, services=content.referral_text(self.profile))

    def again_text(self, content: Content) -> str:
        """The short repeat for a referred person who asks for a counsellor: the service to try first."""
        return content.reply("eligibility_refer_again", name=content.referral(self.profile)[0].name)

    def to_json(self, content: Content) -> dict[str, Any]:
        """The internal API's `eligibility` object (docs/internal-api.md)."""
        return {**self.eligibility.to_json(), "text": self.text(content), "offer_counsellor": not self.referred}


# What the bot read from the person's own words before (or without) a consented profile (「44歳です、母の介護を
# しています」), by field: the values a referral is chosen by. A list field takes several values.
HINT_VALUES: dict[str, tuple[str, ...]] = {
    "age_band": AGE_BANDS,
    "role": ROLES,
    "care_recipients": vocabulary.values("care_recipients"),
    "care_needs": CARE_NEEDS,
}
HINT_LISTS = ("care_recipients", "care_needs")


def with_hints(profile: Mapping[str, object], hints: Mapping[str, str]) -> dict[str, object]:
    """The profile, its empty fields filled from `hints` (field → value, lists comma-separated).

    Why: referrals used to come from the consented profile only, so a 44-year-old who typed her age and 「母の介護」
    before any question still got the list for anyone. Hints only choose and order services; they are never
    stored, and an answer the person gave in the profile wins over them. ValueError names an unknown field or value.
    """
    merged = dict(profile)
    for field, raw in hints.items():
        allowed = HINT_VALUES.get(field)
        if allowed is None:
            raise ValueError(f"unknown hint {field!r}")
        values = [v.strip() for v in str(raw).split(",") if v.strip()] if field in HINT_LISTS else [str(raw).strip()]
        wrong = [v for v in values if v not in allowed]
        if wrong or not values:
            raise ValueError(f"hint {field}: not one of {', '.join(allowed)}")
        if merged.get(field) in (None, []):
            merged[field] = values if field in HINT_LISTS else values[0]
    return merged


def decide_referral(profile: Mapping[str, object] | None) -> ReferralDecision:
    return ReferralDecision(assess(profile or {}), profile or {})
