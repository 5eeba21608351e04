"""Report on the blind personas (tests/e2e/personas/blind.yml): prints per turn, asserts only the firm targets.

Plays every blind persona through the running stack (fake LINE → gateway → trained Rasa → action server, the
`full` fixture of tests/e2e/conftest.py) the way test_personas.py plays its own, then prints per persona and turn:
whether the turn was answered, which of the bot's responses answered it (named from bot/domain; `gateway` for the
gateway's own texts), the intent Rasa read (from the tracker store), whether it was the NLU fallback, and which bot
texts the persona read more than once word for word. Then the totals the outside persona test counts: turns,
unanswered, fallbacks, fallbacks on messages of 40+ characters, repeats.

It runs with the e2e suite; the personas are evaluation only, so the test asserts nothing they were tuned to,
only what must hold for anyone: every typed message answered and no 110/119 where nobody is in danger. Read the
report with

    timeout 900 .venv/bin/python -m pytest -q -s tests/e2e/persona_report.py

Only ids, lengths and kinds are printed; the personas' sentences are printed only with YCC_PERSONA_REPORT_TEXT=1
(they are this suite's own, but the report should not train anyone's eye on them).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.test_personas import STARTS, _conversation, _event, _settled
from tests.support.fullstack import FullStack
from tests.support.servers import ROOT

SHOW_TEXT = os.environ.get("YCC_PERSONA_REPORT_TEXT") == "1"
BLIND = Path(__file__).parent / "personas" / "blind.yml"
PERSONAS = yaml.safe_load(BLIND.read_text(encoding="utf-8"))["personas"]
FALLBACKS = {"utter_default", "utter_default_person"}  # the NLU fallback's own texts
MISREADS = {"utter_profile_invalid"}  # 「質問の答えとして受けとれなかった」: a fallback of the profile form
LONG = 40


def _response_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Every response text in bot/domain as a pattern ({placeholders} match anything), with its name."""
    found = []
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        for name, variants in (yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}).items():
            for variant in variants:
                parts = re.split(r"\{[a-z_]+\}", variant.get("text") or "")
                found.append((name, re.compile("(?s)" + ".*".join(re.escape(p) for p in parts))))
    return found


PATTERNS = _response_patterns()


def kind(text: str) -> str:
    """The domain response a bubble is, else `gateway` (queue notices, eligibility, crisis replies, ...)."""
    return next((name for name, pattern in PATTERNS if pattern.fullmatch(text)), "gateway")


def _user_events(database_url: str) -> dict[str, list[tuple[str, str, float]]]:
    """Rasa's user events per sender from the SQLite tracker store beside the gateway's database:
    (text, intent, confidence) in order."""
    file = Path(database_url.split("///", 1)[1])
    trackers = file.with_name(f"{file.stem}-trackers{file.suffix}")
    if not trackers.exists():
        return {}
    with sqlite3.connect(trackers) as db:
        got = db.execute("SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id").fetchall()
    events: dict[str, list[tuple[str, str, float]]] = {}
    for sender, data in got:
        event = json.loads(data)
        intent = (event.get("parse_data") or {}).get("intent") or {}
        events.setdefault(sender, []).append(
            (event.get("text") or "", intent.get("name") or "?", float(intent.get("confidence") or 0.0))
        )
    return events


def _intents(persona: dict[str, Any], events: dict[str, list[tuple[str, str, float]]]) -> list[str]:
    """The intent Rasa read for each turn of a persona ('' when not found: tapped, queued, or never sent to Rasa)."""
    says = [str(t["say"]) for t in persona["turns"] if "say" in t]
    sender = max(events, key=lambda s: len(set(says) & {e[0] for e in events[s]}), default=None)
    seen = list(events.get(sender, [])) if sender else []
    out = []
    for turn in persona["turns"]:
        label = ""
        if "say" in turn:
            for index, (text, intent, confidence) in enumerate(seen):
                if text == str(turn["say"]):
                    label = f"{intent} {confidence:.2f}"
                    del seen[: index + 1]
                    break
        out.append(label)
    return out


@pytest.fixture(scope="module")
def played(full: FullStack) -> Iterator[dict[str, Any]]:
    talks = {}
    for index, persona in enumerate(PERSONAS, start=1):
        user, start = f"Ub{index:07d}" + "e" * 24, STARTS[persona["at"]]
        answers = []
        for step, turn in enumerate(persona["turns"]):
            at = start + timedelta(days=int(turn.get("day", 0)), seconds=20 * step)
            before = len(full.stack.delivered(user))
            full.stack.send(user, _event(turn, at))
            answers.append([m.get("text") or "" for m in _settled(full, user, before)])
        talks[persona["name"]] = {"user": user, "answers": answers}
    events = _user_events(full.database_url)
    totals: Counter[str] = Counter()
    for persona in PERSONAS:
        talk = talks[persona["name"]]
        intents = _intents(persona, events)
        status = _conversation(full, talk["user"])["status"]
        want = persona["expect"].get("status")
        print(f"\n== {persona['name']} ({persona['at']}) status={status}" + ("" if status == want else f" WANT={want}"))
        everything: list[str] = []
        rows = zip(persona["turns"], talk["answers"], intents, strict=True)
        for number, (turn, texts, intent) in enumerate(rows, start=1):
            said = "follow" if turn.get("follow") else ("tap" if "tap" in turn else "say")
            length = len(str(turn.get("say", "")))
            kinds = [kind(t) for t in texts]
            flags = []
            if said == "say":
                totals["turns"] += 1
                if not texts:
                    totals["unanswered"] += 1
                    flags.append("UNANSWERED")
                if FALLBACKS & set(kinds):
                    totals["fallbacks"] += 1
                    flags.append("FALLBACK")
                    if length >= LONG:
                        totals["fallbacks_40plus"] += 1
                        flags.append("FALLBACK-ON-LONG")
                if MISREADS & set(kinds):
                    totals["profile_misreads"] += 1
                    flags.append("PROFILE-MISREAD")
            elif not texts:
                totals["unanswered_taps"] += 1
                flags.append("UNANSWERED")
            shown = f" {turn.get('say') or turn.get('tap') or ''!r}" if SHOW_TEXT else ""
            print(f"  {number:2d} {said:6s} len={length:3d} intent=[{intent}] -> {', '.join(kinds) or '-'}"
                  f"{'  ' + ' '.join(flags) if flags else ''}{shown}")
            for text in texts:  # the gateway's own texts (bot words, not the user's): which notice it was
                if kind(text) == "gateway":
                    print(f"       gateway: {text[:50]!r}")
            everything.extend(texts)
        repeated = {text: n for text, n in Counter(everything).items() if n > 1}
        for text, n in repeated.items():
            totals["repeats"] += n - 1
            print(f"  REPEATED x{n}: {kind(text)}" + (f" {text[:40]!r}" if SHOW_TEXT else ""))
        if status != want:
            totals["status_mismatch"] += 1
        for words in persona["expect"].get("never") or []:
            if any(words in text for text in everything):
                totals["never_read"] += 1
                print(f"  READ {words!r} (expected never)")
    print("\n== totals: " + ", ".join(f"{key}={totals[key]}" for key in (
        "turns", "unanswered", "unanswered_taps", "fallbacks", "fallbacks_40plus", "profile_misreads", "repeats",
        "status_mismatch", "never_read")))
    yield {"talks": talks, "totals": totals}


def test_blind_personas_are_all_answered_and_never_sent_to_110_or_119(played: dict[str, Any]) -> None:
    totals = played["totals"]
    assert set(played["talks"]) == {p["name"] for p in PERSONAS}
    assert (totals["unanswered"], totals["unanswered_taps"], totals["never_read"]) == (0, 0, 0), dict(totals)
