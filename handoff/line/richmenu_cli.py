"""`ycc richmenu build | deploy | discreet`: the rich menu from data/richmenu.yml onto LINE (issue 17 item 2).

In simulator mode the commands talk to the fake LINE inside the running gateway (`YCC_HOST:YCC_PORT`), so the menu
can be tried before the real channel. Switching one person to the discreet menu is audited (actor `os:<user>`,
the contact's id, never a LINE id in the log line).
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from handoff.line.richmenu import RichMenuApi, RichMenuError, Variant, deploy, load
from handoff.settings import Settings, settings_or_exit


def _menu_file(settings: Settings) -> Path:
    return settings.data_dir / "richmenu.yml"


def image_path(settings: Settings, variant: str) -> Path:
    return settings.data_dir / "richmenu" / f"{variant}.png"


def _variants(settings: Settings) -> dict[str, Variant]:
    return load(_menu_file(settings), settings.secure_chat_url)  # the public name phones reach


def _api(settings: Settings) -> RichMenuApi:
    data = settings.effective_line_api_base_url if settings.simulator else settings.line_data_api_base_url
    return RichMenuApi(settings.effective_line_api_base_url, data, settings.effective_access_token)


def _build(args: Any) -> int:
    from handoff.line.richmenu_image import draw, find_font

    settings = settings_or_exit()
    font = find_font(Path(args.font) if args.font else None)
    for key, variant in _variants(settings).items():
        path = image_path(settings, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(draw(variant, font))
        print(f"{path} ({variant.width}×{variant.height})")
    return 0


async def _deploy_async(settings: Settings) -> dict[str, str]:
    variants = _variants(settings)
    images = {}
    for key in variants:
        path = image_path(settings, key)
        if not path.exists():
            raise RichMenuError(f"{path} is missing: run `ycc richmenu build` first")
        images[key] = path.read_bytes()
    api = _api(settings)
    try:
        return await deploy(api, variants, images)
    finally:
        await api.close()


async def _discreet_async(settings: Settings, key: str, off: bool) -> str:
    from handoff.store.db import Database
    from handoff.store.models import AuditLog, Contact
    from handoff.store.types import utcnow

    db = Database(settings.database_url)
    api = _api(settings)
    try:
        async with db.session() as session:
            contact = await session.scalar(select(Contact).where(Contact.key == key))
            if contact is None:
                raise RichMenuError(f"no contact with key {key} (the key the console shows for the person)")
            line_id, contact_id = contact.line_user_id, contact.id
        alias = _variants(settings)["discreet"].alias
        if off:
            await api.unlink(line_id)
        else:
            if not alias:
                raise RichMenuError("the discreet variant in data/richmenu.yml needs an alias")
            await api.link(line_id, await api.alias_target(alias))
        async with db.session() as session:
            session.add(AuditLog(at=utcnow(), actor=f"os:{getpass.getuser()}"[:64], action="richmenu_discreet",
                                 object_type="contact", object_id=str(contact_id), detail="off" if off else "on"))
        return "default" if off else "discreet"
    finally:
        await api.close()
        await db.close()


def _run(coro: Any) -> Any:
    try:
        return asyncio.run(coro)
    except RichMenuError as exc:
        print(f"ycc richmenu: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _deploy(args: Any) -> int:
    made = _run(_deploy_async(settings_or_exit()))
    print(json.dumps(made))
    return 0


def _discreet(args: Any) -> int:
    menu = _run(_discreet_async(settings_or_exit(), args.contact_key, args.off))
    print(f"contact {args.contact_key}: {menu} rich menu")
    return 0


def add_commands(sub: Any) -> None:
    richmenu = sub.add_parser("richmenu", help="the LINE rich menu from data/richmenu.yml").add_subparsers(
        dest="richmenu_command", required=True)
    build = richmenu.add_parser("build", help="draw data/richmenu/<variant>.png from data/richmenu.yml (Pillow)")
    build.add_argument("--font", help="a Japanese TrueType/OpenType font (default: Noto Sans CJK if installed)")
    build.set_defaults(func=_build)
    richmenu.add_parser("deploy", help="create the menus on LINE, upload the images, make the default everyone's") \
        .set_defaults(func=_deploy)
    discreet = richmenu.add_parser("discreet", help="give one person the neutral menu on request (--off: undo)")
    discreet.add_argument("contact_key", help="the contact's key (as the console shows it)")
    discreet.add_argument("--off", action="store_true", help="back to the default menu")
    discreet.set_defaults(func=_discreet)
