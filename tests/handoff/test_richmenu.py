"""The rich menu (issue 17 item 2): data/richmenu.yml → tap areas and the project's own images → LINE, against the
fake LINE over HTTP: created, image uploaded, made the default, the discreet variant behind its alias and linked to
one person on request (audited), a second deploy replacing the first without leaving anyone without a menu."""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from handoff.line.richmenu import RichMenuApi, RichMenuError, deploy, load
from handoff.line.richmenu_cli import _deploy_async, _discreet_async, image_path
from handoff.line.richmenu_image import draw, find_font
from handoff.settings import Settings
from handoff.simulator.fakeline import FakeLine
from handoff.store.db import Database
from handoff.store.migrate import upgrade_async
from handoff.store.models import AuditLog, Contact
from tests.handoff.fakeline_harness import SECRET, TOKEN, sanic_test_mode  # noqa: F401  (autouse fixture)

ROOT = Path(__file__).resolve().parents[2]
MENU = ROOT / "data" / "richmenu.yml"
PUBLIC = "https://ycc.example.jp"
Line = tuple[FakeLine, Any, httpx.AsyncClient]


def test_the_file_gives_five_buttons_that_tile_the_image_with_the_words_and_actions_asked_for() -> None:
    variants = load(MENU, PUBLIC)
    default, discreet = variants["default"], variants["discreet"]
    menu = default.menu()
    assert [a["action"]["label"] for a in menu["areas"]] == [
        "相談する", "相談できる時間", "緊急のとき", "安全な画面で話す", "このアカウントについて"]
    assert [b.label for b in discreet.buttons] == ["話す", "時間", "連絡先", "ウェブ", "案内"]  # nothing that says why
    boxes = [b.box for b in default.buttons]
    assert sum(w * h for _, _, w, h in boxes) == default.width * default.height  # no gap, no overlap
    assert all(x + w <= default.width and y + h <= default.height for x, y, w, h in boxes)
    actions = {b.key: b.action for b in default.buttons}
    assert actions["consult"] == {"type": "postback", "data": "/request_human", "label": "相談する",
                                  "displayText": "相談したいです"}
    assert actions["about"]["uri"] == f"{PUBLIC}/about" and actions["urgent"]["uri"] == f"{PUBLIC}/about#urgent"
    assert {b.key: b.action for b in discreet.buttons}["consult"]["displayText"] == "話したいです"


def test_the_committed_images_are_what_the_project_draws_from_the_file() -> None:
    font = find_font()
    for key, variant in load(MENU, "http://127.0.0.1:8080").items():
        committed = (ROOT / "data" / "richmenu" / f"{key}.png").read_bytes()
        assert len(committed) < 1024 * 1024
        assert Image.open(io.BytesIO(committed)).size == (2500, 1686)
        drawn = Image.open(io.BytesIO(draw(variant, font)))
        assert drawn.tobytes() == Image.open(io.BytesIO(committed)).convert("RGB").tobytes(), (
            f"data/richmenu/{key}.png is out of date: run `ycc richmenu build`")


def test_a_label_too_long_for_line_is_refused_naming_it(tmp_path: Path) -> None:
    text = MENU.read_text(encoding="utf-8").replace("consult: 相談する", "consult: " + "あ" * 21)
    (tmp_path / "richmenu.yml").write_text(text, encoding="utf-8")
    with pytest.raises(RichMenuError, match="variant default needs a label of 1–20 characters for consult"):
        load(tmp_path / "richmenu.yml", PUBLIC)


def _settings(line: Line, db_url: str) -> Settings:
    url = str(line[2].base_url)
    return Settings.from_mapping({"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
                                  "LINE_API_BASE_URL": url, "LINE_DATA_API_BASE_URL": url,
                                  "YCC_DATABASE_URL": db_url, "YCC_PUBLIC_URL": PUBLIC})


async def test_deploy_makes_the_default_menu_everyones_and_the_discreet_one_can_be_switched_on_per_person(
    line: Line, sqlite_url: str
) -> None:
    fake = line[0]
    settings = _settings(line, sqlite_url)
    await upgrade_async(settings.database_url)
    first = await _deploy_async(settings)
    menus = fake.richmenus
    assert menus.default == first["default"] and menus.aliases == {"ycc-discreet": first["discreet"]}
    assert sorted(menus.images) == sorted(first.values())
    assert menus.menus[first["default"]]["areas"][0]["action"]["label"] == "相談する"
    assert menus.images[first["default"]][1] == image_path(settings, "default").read_bytes()

    person, other = "U" + secrets.token_hex(16), "U" + secrets.token_hex(16)
    db = Database(settings.database_url)
    async with db.session() as session:
        session.add_all([Contact(key="k-person", line_user_id=person), Contact(key="k-other", line_user_id=other)])
    assert await _discreet_async(settings, "k-person", off=False) == "discreet"
    assert menus.for_user(person) == first["discreet"] and menus.for_user(other) == first["default"]

    second = await _deploy_async(settings)  # deployed again (after a change): the old menus go, the alias follows
    assert set(menus.menus) == set(second.values()) and menus.default == second["default"]
    assert menus.aliases["ycc-discreet"] == second["discreet"]
    assert menus.for_user(person) == second["default"]  # LINE drops links to a deleted menu; link again:
    await _discreet_async(settings, "k-person", off=False)
    assert menus.for_user(person) == second["discreet"]
    assert await _discreet_async(settings, "k-person", off=True) == "default"
    assert menus.for_user(person) == second["default"]
    async with db.session() as session:
        audit = (await session.scalars(select(AuditLog).where(AuditLog.action == "richmenu_discreet"))).all()
    await db.close()
    assert [a.detail for a in audit] == ["on", "on", "off"] and all(person not in str(a.object_id) for a in audit)
    with pytest.raises(RichMenuError, match="no contact with key nobody"):
        await _discreet_async(settings, "nobody", off=False)


async def test_line_refusing_the_image_stops_the_deploy_with_its_answer(line: Line) -> None:
    variants = load(MENU, PUBLIC)
    small = io.BytesIO()
    Image.new("RGB", (800, 270), "white").save(small, format="PNG")
    api = RichMenuApi(str(line[2].base_url), str(line[2].base_url), TOKEN)
    try:
        with pytest.raises(RichMenuError, match="LINE refused to take the rich menu image: HTTP 400 The image size"):
            await deploy(api, variants, {key: small.getvalue() for key in variants})
    finally:
        await api.close()
    assert line[0].richmenus.default is None  # nobody's menu changed
