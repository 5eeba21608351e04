"""Hypothesis profiles for the fuzz tests (issue 18.6): bounded for CI, deeper on demand.

`HYPOTHESIS_PROFILE=deep` runs ten times the examples locally; `ci` (the default) keeps every fuzz file to seconds.
No example database in the checkout for `ci` (CI starts from a fresh clone anyway); `deep` keeps one so a failure
found locally replays first on the next run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("ci", max_examples=200, deadline=None, database=None, suppress_health_check=_SLOW_OK,
                          print_blob=True)
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=_SLOW_OK)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")


def fuzz(examples: int | None = None) -> settings:
    """The active profile, optionally with a smaller count for a property whose examples are expensive (HTTP)."""
    base = settings.get_profile(PROFILE)
    if examples is None:
        return settings(base)
    scale = base.max_examples / 200
    return settings(base, max_examples=max(1, int(examples * scale)))
