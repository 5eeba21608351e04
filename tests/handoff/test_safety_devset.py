"""The safety screen measured on the labelled dev sets (issue 13), with regression floors per level and category.

The floors sit a little under what `make safety-eval` measures today, so a change to data/safety.yml or the
context rules that loses recall or adds false alarms fails here with the set and category named. The dev sets are
for evaluation only: nothing in the project trains on them. dev.yml and dev2.yml (written in a LINE teen voice) were
both tuned on by hand, so their figures are optimistic; so were dev3–dev7, each after its one blind measurement
(docs/decisions/0002-safety-screen.md). Only the held-out set, measured by the lead, is independent.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from handoff.domain.safety import default_screen
from tests.safety.evaluate import DEV, _ok, evaluate, load_items

DEV2 = DEV.with_name("dev2.yml")
LATER = ("dev3", "dev4", "dev5", "dev6", "dev7")
# Share of a category's rows handled right (flagged for danger, 119 for someone else, nothing for harmless).
CATEGORY_FLOOR = 0.75
# Measured 2026-12-02, the rules alone (self flagged / at crisis / concern flagged / 119 / crisis FA / concern FA):
# dev 98.9 / 96.7 / 95.8 / 100 / 0.5 / 0.5 %; dev2 100 / 96.6 / 95.5 / 100 / 0 / 0 %;
# dev3 100 / 100 / 100 / 100 / 0 / 0 %; dev4 100 / 100 / 90 / 100 / 0 / 0 %; dev5 98.2 / 94.6 / 100 / 100 / 0 / 0 %;
# dev6 100 / 95.7 / 85.7 / 100 / 0 / 2.1 %; dev7 97.4 / 94.7 / 100 / 100 / 0 / 0 % (all tuned on; their blind
# figures are in the decision record). The learned second opinion (threshold 0.55, decision record) adds concern
# only: self flagged 99.6 % on dev, 98.2 % on dev5, 100 % on the others; concern false alarms dev–dev7
# 3.9 / 3.5 / 2.5 / 6.5 / 3.2 / 2.1 / 2.5 %. So the rules keep their tight
# concern floor (`rules_only`), and the screen as the gateway runs it gets one under the 15 % target instead.
_LATER_FLOOR: dict[str, tuple[str, float]] = {
    "self_flagged": (">=", 0.95),
    "self_at_crisis": (">=", 0.90),
    "concern_flagged": (">=", 0.80),
    "other_119": (">=", 0.98),
    "none_crisis_fa": ("<=", 0.02),
    "none_concern_fa": ("<=", 0.05),
    "p95_ms": ("<=", 30.0),
}
RULES_FLOORS: dict[str, dict[str, tuple[str, float]]] = {
    "dev": {
        "self_flagged": (">=", 0.97),
        "self_at_crisis": (">=", 0.94),
        "concern_flagged": (">=", 0.90),
        "other_119": (">=", 0.98),
        "none_crisis_fa": ("<=", 0.02),
        "none_concern_fa": ("<=", 0.03),
        "p95_ms": ("<=", 30.0),
    },
    "dev2": {
        "self_flagged": (">=", 0.98),
        "self_at_crisis": (">=", 0.94),
        "concern_flagged": (">=", 0.90),
        "other_119": (">=", 0.97),
        "none_crisis_fa": ("<=", 0.02),
        "none_concern_fa": ("<=", 0.03),
        "p95_ms": ("<=", 30.0),
    },
    **{name: _LATER_FLOOR for name in LATER},
}
# With the second opinion: every danger-to-self figure at least the rules' floor, concern false alarms ≤ 13 %.
FLOORS: dict[str, dict[str, tuple[str, float]]] = {
    name: {**floors, "self_flagged": (">=", max(floors["self_flagged"][1], 0.97)), "none_concern_fa": ("<=", 0.13)}
    for name, floors in RULES_FLOORS.items()
}
# dev9 and dev10, written by another helper, measured once blind at commit e79d2fe (pooled 91.8 % flagged, 78.5 % at
# crisis, 119 88.9 %, crisis FA 4.3 %, concern FA 12.4 %; decision record) and tuned on since (dev9 100 / 97.5 / 100
# / 0 / 7.8 %, dev10 98.7 / 93.6 / 95.7 / 0 / 10.3 %): floors a little under the tuned figures.
TUNED_BLIND_FLOOR: dict[str, tuple[str, float]] = {
    "self_flagged": (">=", 0.97),
    "self_at_crisis": (">=", 0.90),
    "other_119": (">=", 0.95),
    "none_crisis_fa": ("<=", 0.02),
    "none_concern_fa": ("<=", 0.13),
    "p95_ms": ("<=", 30.0),
}
FLOORS.update({"dev9": TUNED_BLIND_FLOOR, "dev10": TUNED_BLIND_FLOOR})
# dev11, measured once blind at 2e42c08 (98.8 / 89.2 / 75.0 / 2.9 / 2.9 %), then tuned on
# (100 / 95.2 / 95.8 / 1.0 / 2.9 %): floors a little under the tuned figures.
FLOORS["dev11"] = {
    "self_flagged": (">=", 0.97),
    "self_at_crisis": (">=", 0.92),
    "other_119": (">=", 0.93),
    "none_crisis_fa": ("<=", 0.02),
    "none_concern_fa": ("<=", 0.06),
    "p95_ms": ("<=", 30.0),
}
# dev12, measured once blind at 52eb558 (93.5 / 76.6 / 87.5 / 5.9 / 6.9 %), then tuned on (100 / 97.2 / 100 / 0.0 /
# 7.9 %): floors a little under the tuned figures. dev13 (same day, other writer) is kept blind: no floor.
FLOORS["dev12"] = {
    "self_flagged": (">=", 0.98),
    "self_at_crisis": (">=", 0.95),
    "other_119": (">=", 0.97),
    "none_crisis_fa": ("<=", 0.02),
    "none_concern_fa": ("<=", 0.10),
    "p95_ms": ("<=", 30.0),
}
# dev15, measured once blind at 28aa094 (93.3 / 79.0 / 86.7 / 3.4 / 9.0 %), then tuned on (99.0 / 93.3 / 100 / 0.0 /
# 7.9 %): floors a little under the tuned figures. dev13 and dev14 have no floor (their texts were never read).
FLOORS["dev15"] = {
    "self_flagged": (">=", 0.97),
    "self_at_crisis": (">=", 0.91),
    "other_119": (">=", 0.97),
    "none_crisis_fa": ("<=", 0.02),
    "none_concern_fa": ("<=", 0.10),
    "p95_ms": ("<=", 30.0),
}
# dev16, measured once blind at cbe648a (90.0 / 86.0 / 87.5 / 1.1 / 5.6 %), then tuned on (99.0 / 98.0 / 100 / 0.0 /
# 4.4 %): floors a little under the tuned figures.
FLOORS["dev16"] = {
    "self_flagged": (">=", 0.97),
    "self_at_crisis": (">=", 0.95),
    "other_119": (">=", 0.97),
    "none_crisis_fa": ("<=", 0.02),
    "none_concern_fa": ("<=", 0.08),
    "p95_ms": ("<=", 30.0),
}
SETS: dict[str, Path] = {
    "dev": DEV,
    "dev2": DEV2,
    **{name: DEV.with_name(f"{name}.yml") for name in (*LATER, "dev9", "dev10", "dev11", "dev12", "dev15", "dev16")},
}


@cache
def figures_of(name: str, rules_only: bool = False) -> dict[str, Any]:
    return evaluate(default_screen(), load_items(SETS[name]), rules_only)


# The screen as the gateway runs it, and the rules alone (`--rules-only`), each against its own floors.
SCREENS = {"as_run": FLOORS, "rules_only": RULES_FLOORS}


FLOOR_CASES = [(m, n, f) for m, floors in SCREENS.items() for n, fs in floors.items() for f in sorted(fs)]


@pytest.mark.parametrize(("screen", "name", "figure"), FLOOR_CASES)
def test_dev_set_figure_meets_its_floor(screen: str, name: str, figure: str) -> None:
    op, bound = SCREENS[screen][name][figure]
    value = figures_of(name, rules_only=screen == "rules_only")[figure]
    assert (value >= bound) if op == ">=" else (value <= bound), (
        f"{name} ({screen}): {figure} = {value:.3f}, needs {op} {bound}"
    )


CATEGORIES = [
    (name, category)
    for name, path in SETS.items()
    if name in ("dev", "dev2", "dev3")  # dev4–dev7 have categories of one to five rows: their totals are floored
    for category in sorted({f"{i['level']}/{i.get('category')}" for i in load_items(path)})
]


@pytest.mark.parametrize(("name", "category"), CATEGORIES)
def test_dev_set_category_is_handled(name: str, category: str) -> None:
    counts = figures_of(name)["categories"][category]
    share = _ok(category.split("/")[0], counts) / sum(counts.values())
    assert share >= CATEGORY_FLOOR, f"{name} {category}: {share:.0%} handled right ({counts})"


def _other_intents_examples() -> list[str]:
    """The bot's NLU examples of every intent but crisis: thousands of labelled harmless messages (care talk,
    questions, chit-chat) written apart from the dev set, so a second check for everyday words the screen
    mistakes (「よかったです」 once folded into 「カッターで」)."""
    import re

    import yaml

    found = []
    for path in sorted(Path("bot/data/nlu").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if block.get("intent") in (None, "crisis"):
                continue
            for line in (block.get("examples") or "").splitlines():
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", re.sub(r"^\s*-\s*", "", line)).strip()
                if text:
                    found.append(text)
    return found


def test_the_bots_harmless_examples_rarely_raise_an_alarm() -> None:
    examples = _other_intents_examples()
    levels = [default_screen().screen(text).level for text in examples]
    alarms = sum(level in ("crisis", "emergency_other") for level in levels) / len(examples)
    concerns = levels.count("concern") / len(examples)
    assert len(examples) > 1000
    assert alarms <= 0.01, f"110/119 on {alarms:.1%} of the bot's harmless examples"
    assert concerns <= 0.05, f"concern on {concerns:.1%} of the bot's harmless examples"
