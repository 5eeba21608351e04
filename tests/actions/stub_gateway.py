"""A tiny in-memory stand-in for the gateway's internal API, for trying the bot by hand without the gateway.

    .venv-bot/bin/python tests/actions/stub_gateway.py 18080      # then YCC_GATEWAY_URL=http://127.0.0.1:18080

Not the real thing: hours are always open unless STUB_CLOSED=1, eligibility is a rough copy of R6/R7, and every
call is printed (keys and fields only, never message text).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from aiohttp import web

CONTACTS: dict[str, dict[str, Any]] = {}
ISHIKAWA_YOUNG = {"under_13", "13_15", "16_18", "19_22", "23_29"}


def contact(key: str) -> dict[str, Any]:
    return CONTACTS.setdefault(key, {"key": key, "consent": None, "profile": {}, "returning": False})


def eligibility(profile: dict[str, Any]) -> dict[str, Any]:
    age, place, role = profile.get("age_band"), profile.get("municipality"), profile.get("role")
    if age == "40_over" or place == "県外":
        return {"level": "refer", "reason": "age" if age == "40_over" else "residence",
                "text": "（スタブ）お住まいの地域の窓口をご案内します。", "offer_counsellor": False}
    if role == "guardian" or (age in ISHIKAWA_YOUNG and place):
        return {"level": "eligible", "reason": None, "text": None, "offer_counsellor": True}
    if age == "30_39":
        return {"level": "flagged", "reason": "age_30_39", "text": None, "offer_counsellor": True}
    return {"level": "unknown", "reason": None, "text": None, "offer_counsellor": True}


async def hours(request: web.Request) -> web.Response:
    closed = os.environ.get("STUB_CLOSED") == "1"
    return web.json_response({"open": not closed, "reason": "closed" if closed else "open", "next_open": None,
                              "next_open_text": None, "service_active": True,
                              "text": "（スタブ）いまは相談時間外です。" if closed else None})


async def get_contact(request: web.Request) -> web.Response:
    c = contact(request.match_info["key"])
    return web.json_response({**c, "eligibility": eligibility(c["profile"])})


async def consent(request: web.Request) -> web.Response:
    body = await request.json()
    c = contact(request.match_info["key"])
    c["consent"] = bool(body["granted"])
    if not c["consent"]:
        c["profile"] = {}
    print("consent", request.match_info["key"], c["consent"], body.get("at"), flush=True)
    return web.json_response({"consent": c["consent"]})


async def profile(request: web.Request) -> web.Response:
    body = await request.json()
    c = contact(request.match_info["key"])
    if not c["consent"]:
        return web.json_response({"error": "consent_required", "message": "consent first"}, status=409)
    c["profile"][body["field"]] = body["value"]
    print("profile", request.match_info["key"], body["field"], flush=True)
    return web.json_response({"profile": c["profile"], "eligibility": eligibility(c["profile"])})


async def handoff(request: web.Request) -> web.Response:
    body = await request.json()
    print("handoff", request.match_info["key"], body.get("reason"), flush=True)
    return web.json_response({"status": "queued", "open": True, "position": 1, "all_busy": False,
                              "text": "（スタブ）相談員につなぎます。少し待っていてね。"})


async def crisis(request: web.Request) -> web.Response:
    body = await request.json()
    print("crisis", request.match_info["key"], body.get("confidence"), flush=True)
    return web.json_response({"level": "concern", "escalation_id": None,
                              "text": "（スタブ）話してくれてありがとう。相談員がお返事します。"})


async def services(request: web.Request) -> web.Response:
    place = request.query.get("municipality")
    return web.json_response({"municipality": place, "items": [],
                              "text": f"（スタブ）{place or '石川県'}の相談窓口の一覧です。"})


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/internal/hours", hours)
    app.router.add_get("/internal/contacts/{key}", get_contact)
    app.router.add_post("/internal/contacts/{key}/consent", consent)
    app.router.add_post("/internal/contacts/{key}/profile", profile)
    app.router.add_post("/internal/contacts/{key}/handoff", handoff)
    app.router.add_post("/internal/contacts/{key}/crisis", crisis)
    app.router.add_get("/internal/services", services)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 18080)
