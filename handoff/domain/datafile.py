"""Reading the staff-edited data files: every error names the file and the entry, so a typo fails at start-up."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

_PHONE = re.compile(r"\d[\d-]*\d|\d")


class ContentError(ValueError):
    """A content file is malformed; the message names the file and the entry."""


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContentError(f"{path}: file is missing") from None
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from None


def field_text(entry: dict[str, Any], name: str, where: str, required: bool = True) -> str | None:
    value = entry.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise ContentError(f"{where}: `{name}` must be text")
    return str(value).strip()


def field_phone(entry: dict[str, Any], name: str, where: str, required: bool) -> str | None:
    value = entry.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ContentError(f'{where}: `{name}` must be quoted text like "076-223-9553" (got {value!r})')
    if not _PHONE.fullmatch(value.strip()):
        raise ContentError(f"{where}: `{name}` {value!r} is not a phone number (digits and hyphens)")
    return value.strip()
