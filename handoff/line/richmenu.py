"""The LINE rich menu (issue 17 item 2): read data/richmenu.yml, lay out its buttons, and put it on LINE.

Why from a file and a command rather than LINE Official Account Manager: the menu's labels and actions are part of
the service (they name the hours, the emergency page and the secure chat), so they are reviewed and versioned with
it, and a new channel gets the same menu with one command. The discreet variant is a second menu behind an alias
(`ycc-discreet`), linked to one person at a time on request, so nobody has to remember a rich menu id.

Endpoints (LINE Messaging API reference): `POST /v2/bot/richmenu` (create), `POST
https://api-data.line.me/v2/bot/richmenu/{id}/content` (image), `POST /v2/bot/user/all/richmenu/{id}` (default),
`POST|GET /v2/bot/richmenu/alias[/{aliasId}]`, `POST /v2/bot/user/{userId}/richmenu/{id}` and `DELETE
/v2/bot/user/{userId}/richmenu` (one person's menu), `GET /v2/bot/richmenu/list` and `DELETE /v2/bot/richmenu/{id}`
(menus of ours left from an earlier deploy).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

MAX_LABEL = 20  # LINE's action label limit
MAX_CHAT_BAR = 14


class RichMenuError(ValueError):
    """A rich menu file or a LINE answer that stops the command, with what to do about it."""


@dataclass(frozen=True)
class Button:
    key: str
    label: str  # as drawn; a line break in the file's label is kept here, and dropped from the action's label
    action: dict[str, Any]
    box: tuple[int, int, int, int]  # x, y, width, height in the image's pixels


@dataclass(frozen=True)
class Variant:
    key: str
    name: str
    alias: str | None
    colour: str
    width: int
    height: int
    chat_bar: str
    buttons: tuple[Button, ...]

    def menu(self) -> dict[str, Any]:
        """The rich menu object LINE's create endpoint takes."""
        return {
            "size": {"width": self.width, "height": self.height}, "selected": False, "name": self.name,
            "chatBarText": self.chat_bar,
            "areas": [{"bounds": dict(zip(("x", "y", "width", "height"), b.box, strict=True)), "action": b.action}
                      for b in self.buttons],
        }


def _action(raw: dict[str, Any], label: str, display: str | None, public_url: str) -> dict[str, Any]:
    action = {**raw, "label": label}
    if action.get("type") == "uri":
        action["uri"] = str(action["uri"]).replace("{public_url}", public_url.rstrip("/"))
    if action.get("type") == "postback" and display:
        action["displayText"] = display
    return action


def load(path: Path, public_url: str) -> dict[str, Variant]:
    """Both variants from the file, with their tap areas; RichMenuError names what is wrong in it."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        width, height = int(raw["size"]["width"]), int(raw["size"]["height"])
        rows: list[list[str]] = raw["rows"]
        buttons, chat_bar = raw["buttons"], str(raw["chat_bar"])
        variants_raw = raw["variants"]
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise RichMenuError(f"{path}: cannot read the rich menu ({type(exc).__name__}: {exc})") from None
    if len(chat_bar) > MAX_CHAT_BAR:
        raise RichMenuError(f"{path}: chat_bar is longer than LINE's {MAX_CHAT_BAR} characters")
    variants: dict[str, Variant] = {}
    for key, spec in variants_raw.items():
        laid: list[Button] = []
        row_height = height // len(rows)
        for r, row in enumerate(rows):
            cell = width // len(row)
            for c, name in enumerate(row):
                label = str((spec.get("labels") or {}).get(name, "")).strip()
                if name not in buttons or not label or len(label.replace("\n", "")) > MAX_LABEL:
                    raise RichMenuError(f"{path}: variant {key} needs a label of 1–{MAX_LABEL} characters for {name}")
                box = (c * cell, r * row_height, width - c * cell if c == len(row) - 1 else cell,
                       height - r * row_height if r == len(rows) - 1 else row_height)
                display = (spec.get("display") or {}).get(name)
                action = _action(buttons[name]["action"], label.replace("\n", ""), display, public_url)
                laid.append(Button(name, label, action, box))
        variants[key] = Variant(key, str(spec["name"]), spec.get("alias"), str(spec.get("colour", "#06c755")),
                                width, height, chat_bar, tuple(laid))
    if "default" not in variants:
        raise RichMenuError(f"{path}: a variant named default is needed (everyone's menu)")
    return variants


class RichMenuApi:
    """The few rich menu calls, over httpx (an image upload is raw bytes, which the SDK's models do not help with)."""

    def __init__(self, api_base: str, data_base: str, token: str, timeout: float = 20.0) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        self.api = httpx.AsyncClient(base_url=api_base.rstrip("/"), headers=headers, timeout=timeout)
        self.data = httpx.AsyncClient(base_url=data_base.rstrip("/"), headers=headers, timeout=timeout)

    async def close(self) -> None:
        await self.api.aclose()
        await self.data.aclose()

    @staticmethod
    def _ok(response: httpx.Response, what: str) -> dict[str, Any]:
        if response.status_code >= 300:
            try:
                message = str(response.json().get("message", ""))[:200]
            except ValueError:
                message = ""
            raise RichMenuError(f"LINE refused to {what}: HTTP {response.status_code} {message} "
                                f"(x-line-request-id {response.headers.get('x-line-request-id', '-')})")
        return response.json() if response.content else {}

    async def create(self, menu: dict[str, Any]) -> str:
        return str(self._ok(await self.api.post("/v2/bot/richmenu", json=menu), "create the rich menu")["richMenuId"])

    async def upload(self, menu_id: str, png: bytes) -> None:
        self._ok(await self.data.post(f"/v2/bot/richmenu/{menu_id}/content", content=png,
                                      headers={"Content-Type": "image/png"}), "take the rich menu image")

    async def set_default(self, menu_id: str) -> None:
        self._ok(await self.api.post(f"/v2/bot/user/all/richmenu/{menu_id}"), "make the menu the default")

    async def point_alias(self, alias: str, menu_id: str) -> None:
        """Create the alias, or move it to the new menu when an earlier deploy made it."""
        found = await self.api.get(f"/v2/bot/richmenu/alias/{alias}")
        if found.status_code == 404:
            self._ok(await self.api.post("/v2/bot/richmenu/alias",
                                         json={"richMenuAliasId": alias, "richMenuId": menu_id}), "create the alias")
        else:
            self._ok(found, "read the alias")
            self._ok(await self.api.post(f"/v2/bot/richmenu/alias/{alias}", json={"richMenuId": menu_id}),
                     "move the alias")

    async def alias_target(self, alias: str) -> str:
        found = await self.api.get(f"/v2/bot/richmenu/alias/{alias}")
        if found.status_code == 404:
            raise RichMenuError(f"there is no rich menu alias {alias} yet: run `ycc richmenu deploy` first")
        return str(self._ok(found, "read the alias")["richMenuId"])

    async def link(self, user_id: str, menu_id: str) -> None:
        self._ok(await self.api.post(f"/v2/bot/user/{user_id}/richmenu/{menu_id}"), "link the menu to the person")

    async def unlink(self, user_id: str) -> None:
        self._ok(await self.api.delete(f"/v2/bot/user/{user_id}/richmenu"), "give the person the default menu")

    async def ours(self, names: set[str]) -> list[str]:
        listed = self._ok(await self.api.get("/v2/bot/richmenu/list"), "list the rich menus")
        return [str(m["richMenuId"]) for m in listed.get("richmenus", []) if m.get("name") in names]

    async def delete(self, menu_id: str) -> None:
        self._ok(await self.api.delete(f"/v2/bot/richmenu/{menu_id}"), "delete an old rich menu")


async def deploy(api: RichMenuApi, variants: dict[str, Variant], images: dict[str, bytes]) -> dict[str, str]:
    """Create every variant with its image, make `default` everyone's menu, point the aliases, then remove the
    menus an earlier deploy left (only after the new ones are in place, so nobody is ever without a menu)."""
    old = await api.ours({v.name for v in variants.values()})
    made: dict[str, str] = {}
    for key, variant in variants.items():
        menu_id = await api.create(variant.menu())
        await api.upload(menu_id, images[key])
        made[key] = menu_id
    await api.set_default(made["default"])
    for key, variant in variants.items():
        if variant.alias:
            await api.point_alias(variant.alias, made[key])
    for menu_id in old:
        await api.delete(menu_id)
    return made
