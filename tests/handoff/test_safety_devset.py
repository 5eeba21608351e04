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
