"""What people say about themselves in their own words, for choosing referrals (issue 14, item 5).

Why: referrals were chosen from the consented profile only, so a 44-year-old who typed 「44歳です。母の介護を
しています」 before any question got the list for anyone (児童相談所 and the school counsellor). The gateway now
takes hints (docs/internal-api.md, `GET /internal/services`); this module reads them from the conversation's own
messages. Hints only choose and order services; they are never stored, and the profile wins over them.

Deliberately cautious: an age counts only when it opens the message or follows 私は/自分は/年齢は (「母が75歳で」
is the mother's age, and so is 「3歳の弟」); who is cared for only next to a care word (「母に怒られた」 is no
care); the words live in actions/data/hints.yml.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker

from actions import typed_answers
from actions.profile import age_to_band

WORDS_FILE = Path(__file__).with_name("data") / "hints.yml"
AGE_IN_TEXT = re.compile(
    r"^(?:(?:私|わたし|あたし|自分|僕|ぼく|俺|うち)は?|年齢は|歳は|今|いま)?\s*(\d{1,2})\s*(?:歳|才|さい|です)(?!\s*の)"
)
DECADE = re.compile(r"(\d)0\s*代")  # 「40代です」


@lru_cache(maxsize=1)
def words() -> dict[str, Any]:
    """The vocabulary, read once."""
    with open(WORDS_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def age_band(text: str) -> str | None:
    """「44歳です」「私は17才」「40代の母親です」「17」 → the age band; an age inside a sentence about others → None."""
    plain = unicodedata.normalize("NFKC", text).strip()
    match = AGE_IN_TEXT.match(plain)
    if match:
        return age_to_band(int(match.group(1)))
    decade = DECADE.search(plain)
    if decade and int(decade.group(1)) >= 3:
        return age_to_band(int(decade.group(1)) * 10)
    typed = typed_answers.parse_age(text, age_to_band)
    return typed if typed not in (None, typed_answers.SKIP) else None


def _found(text: str, spellings: list[str]) -> bool:
    return any(s in text for s in spellings)


def role(text: str) -> str | None:
    """A guardian speaking of their child (「娘がヤングケアラーかも」「保護者です」) → guardian; else None."""
    folded = unicodedata.normalize("NFKC", text)
    typed = typed_answers.parse_role(text)
    if typed == "guardian" or _found(folded, words()["guardian"]):
        return "guardian"
    return None


def care(text: str) -> tuple[list[str], list[str]]:
    """(care_recipients, care_needs) named in one message; recipients only next to a word about caring."""
    folded = unicodedata.normalize("NFKC", text)
    needs = [need for need, spellings in words()["needs"].items() if _found(folded, spellings)]
    recipients: list[str] = []
    for spelling in words()["guardian"]:  # 「母親です」 says who writes, not whom they care for
        folded = folded.replace(spelling, "□")
    if needs or _found(folded, words()["caring"]):
        for recipient, spellings in words()["recipients"].items():
            if _found(folded, spellings):
                recipients.append(recipient)
            if recipient == "grandparent":  # 祖母 is no 母: the grandparents' words are gone before the parents'
                for spelling in sorted(spellings, key=len, reverse=True):
                    folded = folded.replace(spelling, "□")
    return recipients, needs


def typed_hints(tracker: Tracker) -> dict[str, str]:
    """Hints for `GET /internal/services` from every typed user message of the conversation, the latest winning.

    Button payloads are skipped: their answers are in the profile already (if consented)."""
    found: dict[str, Any] = {"care_recipients": [], "care_needs": []}
    for event in tracker.events or []:
        text = str(event.get("text") or "") if event.get("event") == "user" else ""
        if not text or text.startswith("/"):
            continue
        if band := age_band(text):
            found["age_band"] = band
        if role(text):
            found["role"] = "guardian"
        recipients, needs = care(text)
        found["care_recipients"] += [r for r in recipients if r not in found["care_recipients"]]
        found["care_needs"] += [n for n in needs if n not in found["care_needs"]]
    return {field: ",".join(value) if isinstance(value, list) else value for field, value in found.items() if value}
