"""Persona conversations through the running stack (issue 14, item 8): fake LINE → gateway → trained Rasa → action
server, with people typing instead of tapping, telling long stories, asking questions, coming back.

Each conversation lives in tests/e2e/personas/*.yml (read that file's header for the format). For every persona we
check what its user saw and what was stored: every message got an answer, no key message got the fallback, the
conversation ends in the expected status (handed over or not), and the contact's eligibility gives the expected kind
of referral. The sentences are this suite's own and are kept out of bot/data, so the suite measures how the model
generalises, not what it memorised.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.support.databases import rows
from tests.support.fullstack import FullStack
from tests.support.servers import ROOT, wait_for

TOKYO = ZoneInfo("Asia/Tokyo")
STARTS = {
    "in_hours": datetime(2026, 11, 25, 14, 0, tzinfo=TOKYO),  # Wednesday 14:00
    "off_hours": datetime(2026, 11, 25, 23, 0, tzinfo=TOKYO),  # Wednesday 23:00
    "weekend_night": datetime(2026, 11, 29, 22, 0, tzinfo=TOKYO),  # Sunday 22:00
}
# blind*.yml are evaluation personas, played only by tests/e2e/persona_report.py (it prints per turn and asserts
# only that every message is answered and none is sent to 110/119).
PERSONAS = [p for path in sorted((Path(__file__).parent / "personas").glob("*.yml"))
            if not path.name.startswith("blind") for p in yaml.safe_load(path.read_text(encoding="utf-8"))["personas"]]
# The bot's fallback texts, read from the domain so the test follows any rewording.
_CHITCHAT = yaml.safe_load((ROOT / "bot" / "domain" / "chitchat.yml").read_text(encoding="utf-8"))["responses"]
FALLBACK_TEXTS = {v["text"] for name in ("utter_default", "utter_default_person") for v in _CHITCHAT[name]}
QUIET_S = 1.2  # a reply of several bubbles is complete when nothing more arrived for this long
ANSWER_S = 25.0  # no first bubble within this long: the message went unanswered


def _user_id(index: int) -> str:
    return f"Up{index:07d}" + "f" * 24


def _settled(full: FullStack, user: str, before: int) -> list[dict[str, Any]]:
    """The bubbles that answered the last message: wait for the first, then until the bot falls quiet ([] if none)."""
    try:
        wait_for(lambda: len(full.stack.delivered(user)) > before, timeout=ANSWER_S, what="an answer")
    except AssertionError:
        return []
    count, quiet_since = len(full.stack.delivered(user)), time.monotonic()
    while time.monotonic() - quiet_since < QUIET_S:
        time.sleep(0.2)
        now = len(full.stack.delivered(user))
        if now != count:
            count, quiet_since = now, time.monotonic()
    return full.stack.delivered(user)[before:]


def _event(turn: dict[str, Any], at: datetime) -> dict[str, Any]:
    timestamp = int(at.timestamp() * 1000)
    if turn.get("follow"):
        return {"type": "follow", "timestamp": timestamp}
    if "tap" in turn:
        return {"type": "postback", "data": turn["payload"], "displayText": turn["tap"], "timestamp": timestamp}
    return {"type": "text", "text": str(turn["say"]), "timestamp": timestamp}


def _contact(full: FullStack, user: str) -> dict[str, Any]:
    return rows(full.database_url, "SELECT * FROM contacts WHERE line_user_id = :u", u=user)[0]


def _conversation(full: FullStack, user: str) -> dict[str, Any]:
    return rows(
        full.database_url,
        "SELECT c.* FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.line_user_id = :u "
        "ORDER BY c.id DESC",
        u=user,
    )[0]


def _referral(contact: dict[str, Any]) -> str:
    profile = contact["profile"] if isinstance(contact["profile"], dict) else json.loads(contact["profile"] or "{}")
    if contact["eligibility"] != "refer":
        return "none"
    return "outside" if profile.get("municipality") == "県外" else "age"


@pytest.fixture(scope="module")
def talks(full: FullStack) -> Iterator[dict[str, dict[str, Any]]]:
    """Play every persona once (in order, each its own LINE user) and keep what each turn got back."""
    played: dict[str, dict[str, Any]] = {}
    for index, persona in enumerate(PERSONAS, start=1):
        user, start = _user_id(index), STARTS[persona["at"]]
        answers = []
        for step, turn in enumerate(persona["turns"]):
            at = start + timedelta(days=int(turn.get("day", 0)), seconds=20 * step)
            before = len(full.stack.delivered(user))
            full.stack.send(user, _event(turn, at))
            answers.append((turn, [m.get("text") or "" for m in _settled(full, user, before)]))
        played[persona["name"]] = {"user": user, "answers": answers, "persona": persona}
    yield played


@pytest.mark.parametrize("name", [p["name"] for p in PERSONAS])
def test_persona(full: FullStack, talks: dict[str, dict[str, Any]], name: str) -> None:
    talk = talks[name]
    user, expect = talk["user"], talk["persona"]["expect"]
    for turn, texts in talk["answers"]:
        said = turn.get("say") or turn.get("tap") or "follow"
        assert texts, f"{name}: no answer to {said!r}"
        if turn.get("key"):
            assert not FALLBACK_TEXTS & set(texts), f"{name}: fallback for {said!r}: {texts}"

    conversation, contact = _conversation(full, user), _contact(full, user)
    assert conversation["status"] == expect["status"], f"{name}: {talk['answers']}"
    if "referral" in expect:
        assert _referral(contact) == expect["referral"], f"{name}: {contact['profile']}"
    if "consent" in expect:
        assert (None if contact["consent"] is None else bool(contact["consent"])) is expect["consent"], name
    profile = contact["profile"] if isinstance(contact["profile"], dict) else json.loads(contact["profile"] or "{}")
    for field, value in (expect.get("profile") or {}).items():
        assert profile.get(field) == value, f"{name}: {field} = {profile.get(field)!r}"

    everything = [text for _, texts in talk["answers"] for text in texts]
    joined = "\n".join(everything)
    for words in expect.get("read") or []:
        assert words in joined, f"{name}: never read {words!r}"
    for words in expect.get("never") or []:  # 「おとうとがまだ2さいで」 must not be told to call the police
        assert words not in joined, f"{name}: read {words!r}: {everything}"
    for words in expect.get("once") or []:
        assert joined.count(words) == 1, f"{name}: {words!r} read {joined.count(words)} times"
    if expect.get("read_any_of"):
        variants = {v["text"] for v in _CHITCHAT[expect["read_any_of"]]}
        assert variants & set(everything), f"{name}: none of {expect['read_any_of']}"
