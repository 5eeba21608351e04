"""The fake LINE's rich menu paths, as LINE spells them (api.line.me and, for the image, api-data.line.me: the fake
serves both under one prefix). Rules in fake_outreach.py; `call` is fakeline_api's shared wrapper (auth, faults,
request log), so these behave like every other fake endpoint."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from handoff.simulator import fake_outreach as rm
from handoff.simulator.fakeline import FakeLine
from handoff.simulator.rules import DEFAULT_ERROR_MESSAGES, ApiResult

Call = Callable[[Request, str, Any], Awaitable[HTTPResponse]]


def add_richmenu_routes(bp: Blueprint, fake: FakeLine, call: Call, name: str) -> None:
    def simple(run: Callable[[], ApiResult]) -> Callable[[Any, Any, Any], ApiResult]:
        return lambda body, key, rid: run()

    @bp.post("/v2/bot/richmenu", name=f"{name}_richmenu_create")
    async def create(request: Request) -> HTTPResponse:
        return await call(request, "richmenu", lambda body, key, rid: rm.create_richmenu(fake, body))

    @bp.get("/v2/bot/richmenu/list", name=f"{name}_richmenu_list")
    async def listing(request: Request) -> HTTPResponse:
        return await call(request, "richmenu", simple(lambda: rm.list_richmenus(fake)))

    @bp.delete("/v2/bot/richmenu/<menu_id>", name=f"{name}_richmenu_delete")
    async def delete(request: Request, menu_id: str) -> HTTPResponse:
        return await call(request, "richmenu", simple(lambda: rm.delete_richmenu(fake, menu_id)))

    @bp.post("/v2/bot/richmenu/<menu_id>/content", name=f"{name}_richmenu_content")
    async def content(request: Request, menu_id: str) -> HTTPResponse:
        """The image upload: a binary body, so it does its own auth and logging (`call` reads JSON)."""
        request_id = str(uuid.uuid4())
        if not fake.authorised(request.headers.get("authorization")):
            result = ApiResult(401, {"message": DEFAULT_ERROR_MESSAGES[401]})
        else:
            kind = (request.headers.get("content-type") or "").split(";")[0].strip()
            result = rm.upload_richmenu_image(fake, menu_id, kind, request.body or b"")
        fake.requests.append({"endpoint": "richmenu", "method": "POST", "path": request.path, "headers": {},
                              "retry_key": None, "body": {"bytes": len(request.body or b"")},
                              "status": result.status, "request_id": request_id, "response": result.body,
                              "at": fake._iso()})
        return json_response(result.body, status=result.status, headers={"x-line-request-id": request_id})

    @bp.post("/v2/bot/user/all/richmenu/<menu_id>", name=f"{name}_richmenu_default")
    async def default(request: Request, menu_id: str) -> HTTPResponse:
        return await call(request, "richmenu", simple(lambda: rm.set_default_richmenu(fake, menu_id)))

    @bp.post("/v2/bot/user/<user_id>/richmenu/<menu_id>", name=f"{name}_richmenu_link")
    async def link(request: Request, user_id: str, menu_id: str) -> HTTPResponse:
        return await call(request, "richmenu", simple(lambda: rm.link_user(fake, user_id, menu_id)))

    @bp.delete("/v2/bot/user/<user_id>/richmenu", name=f"{name}_richmenu_unlink")
    async def unlink(request: Request, user_id: str) -> HTTPResponse:
        return await call(request, "richmenu", simple(lambda: rm.unlink_user(fake, user_id)))

    @bp.post("/v2/bot/richmenu/alias", name=f"{name}_richmenu_alias_create")
    async def alias_create(request: Request) -> HTTPResponse:
        return await call(request, "richmenu", lambda body, key, rid: rm.put_alias(
            fake, str(body.get("richMenuAliasId", "")), str(body.get("richMenuId", "")), create=True))

    @bp.post("/v2/bot/richmenu/alias/<alias>", name=f"{name}_richmenu_alias_update")
    async def alias_update(request: Request, alias: str) -> HTTPResponse:
        return await call(request, "richmenu", lambda body, key, rid: rm.put_alias(
            fake, alias, str(body.get("richMenuId", "")), create=False))

    @bp.get("/v2/bot/richmenu/alias/<alias>", name=f"{name}_richmenu_alias_get")
    async def alias_get(request: Request, alias: str) -> HTTPResponse:
        return await call(request, "richmenu", simple(lambda: rm.get_alias(fake, alias)))

    @bp.get("/_fake/richmenus", name=f"{name}_richmenu_state")
    async def state(request: Request) -> HTTPResponse:
        """Test control: which menu each user sees (no auth, like every `_fake` path)."""
        menus = fake.richmenus
        return json_response({"default": menus.default, "aliases": menus.aliases, "users": menus.users,
                              "menus": list(menus.menus.values()), "images": sorted(menus.images)},
                             ensure_ascii=False)
