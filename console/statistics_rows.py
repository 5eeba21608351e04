"""One figure of the monthly statistics, shared by the section builders and the renderers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """`kind` is count (people, messages, cases: hidden under the threshold when shown), rate (%), minutes, or
    total (an account-wide figure from LINE, about nobody in particular: never hidden)."""

    label: str
    value: int | float | None
    kind: str = "count"
