"""The other windows a reply points to (R4, R13): 110/119, 24-hour phone lines and lines by chat.

Read from data/hotlines.yml; `Content` formats them into replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff.domain.datafile import ContentError, field_phone, field_text, read_yaml

HOTLINE_KINDS = ("emergency", "hotline", "chat")  # chat: by text, for someone who cannot phone (a url)


@dataclass(frozen=True)
class Hotline:
    id: str
    kind: str
    name: str
    number: str
    hours: str
    is_24h: bool
    free: bool = False
    note: str = ""
    url: str = ""


def load_hotlines(path: Path) -> list[Hotline]:
    raw = read_yaml(path)
    entries = raw.get("hotlines") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ContentError(f"{path}: expected `hotlines:` with a list of entries")
    hotlines: list[Hotline] = []
    for i, entry in enumerate(entries):
        where = f"{path}: hotlines[{i}]"
        if not isinstance(entry, dict):
            raise ContentError(f"{where}: expected a mapping")
        if entry.get("kind") not in HOTLINE_KINDS:
            raise ContentError(f"{where}: kind must be one of {', '.join(HOTLINE_KINDS)}")
        for flag in ("is_24h", "free"):
            if not isinstance(entry.get(flag, False), bool):
                raise ContentError(f"{where}: `{flag}` must be true or false")
        if "is_24h" not in entry:
            raise ContentError(f"{where}: `is_24h` is required (true or false)")
        hotlines.append(
            Hotline(
                id=field_text(entry, "id", where) or "",
                kind=entry["kind"],
                name=field_text(entry, "name", where) or "",
                number=field_phone(entry, "number", where, required=entry["kind"] != "chat") or "",
                hours=field_text(entry, "hours", where) or "",
                is_24h=entry["is_24h"],
                free=entry.get("free", False),
                note=field_text(entry, "note", where, required=False) or "",
                url=_url(entry, where),
            )
        )
    ids = [h.id for h in hotlines]
    if len(set(ids)) != len(ids):
        raise ContentError(f"{path}: hotline ids must be unique")
    return hotlines


def _url(entry: dict[str, Any], where: str) -> str:
    url = field_text(entry, "url", where, required=entry.get("kind") == "chat") or ""
    if url and not url.startswith("https://"):
        raise ContentError(f"{where}: `url` must start with https://")
    return url
