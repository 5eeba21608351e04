"""The consented profile's vocabulary (R20), read once from handoff/domain/profile.yml: fields, values in order, labels.

One copy for everyone who names a profile value: the gateway's validation (domain.contacts), the eligibility rules
(handoff.domain.eligibility), the console's JSON and its pages (labels rendered into base.html). The file sits beside
this module rather than in data/ because its ids are a contract with code and the bot, not a setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import yaml

VOCABULARY_FILE: Final = Path(__file__).with_suffix(".yml")


def _load(path: Path) -> tuple[dict[str, dict[str, str] | None], frozenset[str]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    fields = {
        str(name): None if values is None else {str(k): str(v) for k, v in values.items()}
        for name, values in raw["fields"].items()
    }
    lists = frozenset(str(name) for name in raw.get("lists") or ())
    if not lists <= set(fields):
        raise ValueError(f"{path}: lists names unknown fields {sorted(lists - set(fields))}")
    return fields, lists


FIELDS, LIST_FIELDS = _load(VOCABULARY_FILE)


def values(field: str) -> tuple[str, ...]:
    """The field's value ids in order (KeyError for a field with none of its own, e.g. municipality)."""
    vocabulary = FIELDS[field]
    if vocabulary is None:
        raise KeyError(f"{field} has no vocabulary of its own")
    return tuple(vocabulary)


def labels() -> dict[str, dict[str, str]]:
    """Field → value → the words the console shows, for the fields that have a vocabulary."""
    return {field: dict(v) for field, v in FIELDS.items() if v is not None}
