"""The safety screen measured on the labelled dev set (issue 13), with regression floors per level and category.

The floors sit a little under what `make safety-eval` measures today, so a change to data/safety.yml or the
context rules that loses recall or adds false alarms fails here with the category named. The dev set is for
evaluation only: nothing in the project trains on it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest

from handoff.safety import default_screen
from tests.safety.evaluate import DEV, _ok, evaluate, load_items

# Share of a category's rows handled right (flagged for danger, 119 for someone else, nothing for harmless).
CATEGORY_FLOOR = 0.75
OVERALL = {
    "self_flagged": (">=", 0.94),
    "self_at_crisis": (">=", 0.87),
    "concern_flagged": (">=", 0.80),
    "other_119": (">=", 0.95),
    "none_crisis_fa": ("<=", 0.05),
    "none_concern_fa": ("<=", 0.15),
    "p95_ms": ("<=", 30.0),
}


@cache
def dev_figures() -> dict[str, Any]:
    return evaluate(default_screen(), load_items(DEV))


@pytest.mark.parametrize("figure", sorted(OVERALL))
def test_dev_set_figure_meets_its_floor(figure: str) -> None:
    op, bound = OVERALL[figure]
    value = dev_figures()[figure]
    assert (value >= bound) if op == ">=" else (value <= bound), f"{figure} = {value:.3f}, needs {op} {bound}"


CATEGORIES = sorted({f"{i['level']}/{i.get('category')}" for i in load_items(DEV)})


@pytest.mark.parametrize("category", CATEGORIES)
def test_dev_set_category_is_handled(category: str) -> None:
    counts = dev_figures()["categories"][category]
    share = _ok(category.split("/")[0], counts) / sum(counts.values())
    assert share >= CATEGORY_FLOOR, f"{category}: {share:.0%} handled right ({counts})"


def _other_intents_examples() -> list[str]:
    """The bot's NLU examples of every intent but crisis: thousands of labelled harmless messages (care talk,
    questions, chit-chat) written apart from the dev set, so a second check for everyday words the screen
    mistakes (「よかったです」 once folded into 「カッターで」)."""
    import re
    from pathlib import Path

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
