"""The fake LINE's outreach endpoints: multicast (information deliveries) and rich menus, the rules kept apart from
fakeline.py so that module stays readable. Multicast follows LINE's Messaging API reference: at most 500 user ids,
1–5 messages, optional `notificationDisabled`, `X-Line-Retry-Key` accepted once (a repeat is 409 with
`x-line-accepted-request-id`), each delivered recipient counts against the monthly quota, blocked users are accepted
but not delivered to, and a success answers `{}`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from handoff.simulator import rules
from handoff.simulator.rules import ApiResult

if TYPE_CHECKING:
    from handoff.simulator.fakeline import FakeLine

MAX_MULTICAST = 500
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_USER = re.compile(r"^U[0-9a-f]{32}$")


def multicast(fake: FakeLine, body: dict[str, Any], retry_key: str | None, request_id: str) -> ApiResult:
    if retry_key is not None and not _UUID.match(retry_key):
        return ApiResult(400, {"message": "The retry key must be a hexadecimal UUID"})
    if retry_key is not None and retry_key in fake.retry_keys:
        accepted = fake.retry_keys[retry_key]
        return ApiResult(409, {"message": "The retry key is already accepted"},
                         {"x-line-accepted-request-id": accepted["request_id"]})
    details = rules.validate_messages(body.get("messages"))
    to = body.get("to")
    if not isinstance(to, list) or not 1 <= len(to) <= MAX_MULTICAST:
        details.insert(0, {"message": f"Size must be between 1 and {MAX_MULTICAST}", "property": "to"})
    elif not all(isinstance(user, str) and _USER.match(user) for user in to):
        details.insert(0, {"message": "Invalid user ID", "property": "to"})
    silent = body.get("notificationDisabled", False)
    if not isinstance(silent, bool):
        details.append({"message": "Must be a boolean", "property": "notificationDisabled"})
    if details:
        return rules.bad_request(details)
    reachable = [user for user in dict.fromkeys(to) if not fake.chat(user).blocked]
    if fake.monthly_limit is not None and fake.consumption + len(reachable) > fake.monthly_limit:
        return ApiResult(429, {"message": "You have reached your monthly limit."})
    for user in reachable:
        fake._deliver(user, body["messages"], via="multicast", retry_key=retry_key, silent=silent)
    fake.consumption += len(reachable)
    if retry_key is not None:
        fake.retry_keys[retry_key] = {"request_id": request_id, "sent": [], "at": fake.clock()}
    return ApiResult(200, {})


# ---------------------------------------------------------------- rich menus
# LINE's rules for `POST /v2/bot/richmenu` and the image (Messaging API reference, "Rich menu object" and
# "Requirements for rich menu image"): one of these sizes, ≤ 20 areas inside it, name ≤ 300 and chatBarText ≤ 14
# characters; the image is a JPEG or PNG of the menu's size, at most 1 MB, uploaded once.
RICHMENU_SIZES = {(2500, 1686), (2500, 843), (1200, 810), (1200, 405), (800, 540), (800, 270)}
MAX_IMAGE = 1024 * 1024
ACTION_TYPES = {"postback", "message", "uri", "datetimepicker", "richmenuswitch", "camera", "cameraRoll", "location"}


@dataclass
class RichMenus:
    """What the fake knows of rich menus: each menu and its image, the default, the aliases, per-user links."""

    menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    default: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)

    def for_user(self, user_id: str) -> str | None:
        """The menu a user sees: their own link first, else the default (as LINE shows it)."""
        return self.users.get(user_id) or self.default


def _menu_errors(body: dict[str, Any]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    size = body.get("size") or {}
    if not isinstance(size, dict) or (size.get("width"), size.get("height")) not in RICHMENU_SIZES:
        return [{"message": "Invalid size", "property": "size"}]
    rules._length(body.get("name"), 1, 300, "name", out)
    rules._length(body.get("chatBarText"), 1, 14, "chatBarText", out)
    if not isinstance(body.get("selected"), bool):
        out.append({"message": "Must be a boolean", "property": "selected"})
    areas = body.get("areas")
    if not isinstance(areas, list) or not 1 <= len(areas) <= 20:
        return [*out, {"message": "Size must be between 1 and 20", "property": "areas"}]
    for i, area in enumerate(areas):
        bounds = area.get("bounds") if isinstance(area, dict) else None
        action = area.get("action") if isinstance(area, dict) else None
        values = [bounds.get(k) for k in ("x", "y", "width", "height")] if isinstance(bounds, dict) else []
        if len(values) != 4 or not all(isinstance(v, int) and v >= 0 for v in values) \
                or values[0] + values[2] > size["width"] or values[1] + values[3] > size["height"]:
            out.append({"message": "Must be inside the rich menu", "property": f"areas[{i}].bounds"})
        if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
            out.append({"message": "Invalid action type", "property": f"areas[{i}].action.type"})
        elif action["type"] == "uri" and not str(action.get("uri", "")).startswith(("http://", "https://", "tel:")):
            out.append({"message": "Invalid uri", "property": f"areas[{i}].action.uri"})
        elif action["type"] == "postback":
            rules._length(action.get("data"), 1, 300, f"areas[{i}].action.data", out)
    return out


def create_richmenu(fake: FakeLine, body: dict[str, Any]) -> ApiResult:
    details = _menu_errors(body)
    if details:
        return rules.bad_request(details)
    menu_id = "richmenu-" + secrets.token_hex(16)
    fake.richmenus.menus[menu_id] = {"richMenuId": menu_id, **body}
    return ApiResult(200, {"richMenuId": menu_id})


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def upload_richmenu_image(fake: FakeLine, menu_id: str, content_type: str, data: bytes) -> ApiResult:
    menu = fake.richmenus.menus.get(menu_id)
    if menu is None:
        return ApiResult(404, {"message": "Not found"})
    if menu_id in fake.richmenus.images:
        return ApiResult(400, {"message": "An image has already been uploaded to the richmenu"})
    if content_type not in ("image/png", "image/jpeg") or not data or len(data) > MAX_IMAGE:
        return ApiResult(400, {"message": "The image must be a JPEG or PNG of at most 1 MB"})
    size = menu["size"]
    if content_type == "image/png" and _png_size(data) != (size["width"], size["height"]):
        return ApiResult(400, {"message": "The image size does not match the rich menu size"})
    fake.richmenus.images[menu_id] = (content_type, data)
    return ApiResult(200, {})


def _ready(fake: FakeLine, menu_id: str) -> ApiResult | None:
    if menu_id not in fake.richmenus.menus:
        return ApiResult(404, {"message": "Not found"})
    if menu_id not in fake.richmenus.images:
        return ApiResult(400, {"message": "An image has not been uploaded to the richmenu"})
    return None


def set_default_richmenu(fake: FakeLine, menu_id: str) -> ApiResult:
    refused = _ready(fake, menu_id)
    if refused:
        return refused
    fake.richmenus.default = menu_id
    return ApiResult(200, {})


def link_user(fake: FakeLine, user_id: str, menu_id: str) -> ApiResult:
    refused = _ready(fake, menu_id)
    if refused:
        return refused
    if not _USER.match(user_id):
        return ApiResult(400, {"message": "The value for the 'userId' parameter is invalid"})
    fake.richmenus.users[user_id] = menu_id
    return ApiResult(200, {})


def unlink_user(fake: FakeLine, user_id: str) -> ApiResult:
    fake.richmenus.users.pop(user_id, None)
    return ApiResult(200, {})


def put_alias(fake: FakeLine, alias: str, menu_id: str, *, create: bool) -> ApiResult:
    if not re.match(r"^[a-zA-Z0-9_-]{1,32}$", alias):
        return rules.bad_request([{"message": "Invalid alias", "property": "richMenuAliasId"}])
    if (alias in fake.richmenus.aliases) == create:
        return ApiResult(400 if create else 404, {"message": "conflict richmenu alias id" if create else "Not found"})
    if menu_id not in fake.richmenus.menus:
        return ApiResult(400, {"message": "richmenu not found"})
    fake.richmenus.aliases[alias] = menu_id
    return ApiResult(200, {})


def get_alias(fake: FakeLine, alias: str) -> ApiResult:
    menu_id = fake.richmenus.aliases.get(alias)
    if menu_id is None:
        return ApiResult(404, {"message": "Not found"})
    return ApiResult(200, {"richMenuAliasId": alias, "richMenuId": menu_id})


def list_richmenus(fake: FakeLine) -> ApiResult:
    return ApiResult(200, {"richmenus": list(fake.richmenus.menus.values())})


def delete_richmenu(fake: FakeLine, menu_id: str) -> ApiResult:
    if fake.richmenus.menus.pop(menu_id, None) is None:
        return ApiResult(404, {"message": "Not found"})
    fake.richmenus.images.pop(menu_id, None)
    fake.richmenus.default = None if fake.richmenus.default == menu_id else fake.richmenus.default
    fake.richmenus.users = {u: m for u, m in fake.richmenus.users.items() if m != menu_id}
    return ApiResult(200, {})
