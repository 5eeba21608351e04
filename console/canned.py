"""Canned responses for the composer: console/data/templates.yml plus hotlines and referrals from the data files.

Hotline numbers and municipal services come from app.ctx.content (data/hotlines.yml, data/services.yml) so a
number corrected there is corrected in every template at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from console.auth import guarded
from console.roles import TEMPLATE_EDITORS

bp = Blueprint("console_templates", url_prefix="/api")
TEMPLATES_FILE = Path(__file__).resolve().parent / "data" / "templates.yml"


def load_groups(path: Path = TEMPLATES_FILE) -> list[dict[str, Any]]:
    """Validated groups of {title, items: [{title, text}]}; a broken file fails at start-up."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    groups = raw.get("groups")
    if not isinstance(groups, list):
        raise ValueError(f"{path}: expected `groups:` with a list")
    out = []
    for i, group in enumerate(groups):
        items = group.get("items") if isinstance(group, dict) else None
        if not isinstance(items, list) or not group.get("title"):
            raise ValueError(f"{path}: groups[{i}] needs a title and items")
        for j, item in enumerate(items):
            if not isinstance(item, dict) or not item.get("title") or not str(item.get("text") or "").strip():
                raise ValueError(f"{path}: groups[{i}].items[{j}] needs a title and a text")
        out.append({"title": str(group["title"]),
                    "items": [{"title": str(it["title"]), "text": str(it["text"]).strip()} for it in items]})
    return out


def data_groups(content: Any, municipality: str | None) -> list[dict[str, Any]]:
    """Hotlines and, when the municipality is known, its referral text."""
    groups = [{"title": "相談窓口（24時間）", "items": [
        {"title": "24時間の相談窓口",
         "text": "24時間つながる相談窓口です。つらいときは、いつでも電話してみてください。\n"
                 + content.hotlines_text(only_24h=True)},
        {"title": "緊急のとき（110・119）",
         "text": "いま危ないときは、すぐに電話してください。\n" + content.emergency_text()},
    ]}]
    referral = []
    for name in ([municipality] if municipality else []) + [m for m in content.municipalities()
                                                             if m != municipality]:
        try:
            services = content.services_text(name)
        except KeyError:
            continue
        referral.append({"title": f"{name}の相談窓口",
                         "text": f"{name}で相談できる窓口を紹介しますね。\n{services}"})
    if referral:
        groups.append({"title": "地域の窓口の紹介", "items": referral})
    return groups


@bp.get("/templates", name="list_templates")
@guarded(*TEMPLATE_EDITORS)
async def list_templates(request: Request) -> HTTPResponse:
    municipality = request.args.get("municipality") or None
    groups = list(request.app.ctx.console_templates) + data_groups(request.app.ctx.content, municipality)
    return json({"groups": groups}, ensure_ascii=False)
