"""The public page /about and the A4 poster (issue 17 item 4): what a resident reads, from the settings and
data/hours.yml, with a strict CSP and nothing from another site; in a real browser at a tablet's and a laptop's
width, and the poster printed to exactly one A4 page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import segno
from playwright.sync_api import Browser, expect

from tests.console.conftest import Gateway, _start
from tests.console.test_console_browser import CHROMIUM, SCREENSHOTS, browser  # noqa: F401 (fixture)
from tests.console.test_console_layout_browser import WIDTHS
from tests.support.databases import database

ADD_FRIEND = "https://lin.ee/YcTest01"


@pytest.fixture(scope="module")
def public_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("about")
    with database("sqlite", tmp) as url:
        yield from _start(tmp, url, YCC_LINE_ADD_FRIEND_URL=ADD_FRIEND)


def test_about_says_what_the_channel_is_who_answers_the_hours_and_gives_the_add_friend_link(
    public_gateway: Gateway,
) -> None:
    page = httpx.get(f"{public_gateway.url}/about", timeout=10)
    assert page.status_code == 200
    body = page.text
    for words in ("ヤングケアラー", "相談員", "平日 11時〜20時（土日祝・年末年始はお休み）", "12月29日〜1月3日", "無料",
                  "同意なく外に伝えることはありません", "119", f'href="{ADD_FRIEND}"'):
        assert words in body, words
    expected_qr = segno.make(ADD_FRIEND, error="m")
    assert "<svg" in body and expected_qr.svg_inline(scale=5, border=2, dark="#111", light="#fff", omitsize=True,
                                                     title="友だち追加のQRコード") in body
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and page.headers["x-frame-options"] == "DENY"
    assert "<script" not in body
    # nothing loaded from another site: every src and <link> is our own (links to other windows are fine)
    assets = re.findall(r'src="([^"]+)"', body) + re.findall(r'<link[^>]*href="([^"]+)"', body)
    assert assets and all(ref.startswith("/") and not ref.startswith("//") for ref in assets), assets
    assert 'id="urgent"' in body and "あなたのいばしょチャット相談" in body  # the rich menu's 緊急のとき opens this
    poster = httpx.get(f"{public_gateway.url}/about/poster", timeout=10)
    assert poster.status_code == 200 and ADD_FRIEND in poster.text and "平日 11時〜20時" in poster.text
    css = httpx.get(f"{public_gateway.url}/about/style.css", timeout=10)
    assert css.headers["content-type"].startswith("text/css") and "@page { size: A4 portrait" in css.text
    png = httpx.get(f"{public_gateway.url}/about/qr.png", timeout=10)
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_without_an_add_friend_link_the_page_says_it_is_being_prepared(gateway_sqlite: Gateway) -> None:
    page = httpx.get(f"{gateway_sqlite.url}/about", timeout=10)
    assert page.status_code == 200 and "いま準備しています" in page.text and "<svg" not in page.text
    assert httpx.get(f"{gateway_sqlite.url}/about/qr.png", timeout=10).status_code == 404


def test_a_bad_add_friend_link_stops_the_start_with_a_clear_message() -> None:
    from handoff.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="YCC_LINE_ADD_FRIEND_URL must be the account's https://"):
        Settings.from_mapping({"YCC_LINE_ADD_FRIEND_URL": "http://lin.ee/x"})


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)")
def test_the_page_fits_both_widths_and_the_poster_prints_on_one_a4_page(
    browser: Browser, public_gateway: Gateway, tmp_path: Path  # noqa: F811
) -> None:
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        page.goto(f"{public_gateway.url}/about")
        expect(page.locator("h1")).to_have_text("いしかわヤングケアラーチャンネル")
        expect(page.locator(".about-qr svg")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgba(0, 0, 0, 0)"  # CSS loaded
        page.screenshot(path=str(SCREENSHOTS / f"about_{width}.png"), full_page=True)
    page.goto(f"{public_gateway.url}/about/poster")
    page.screenshot(path=str(SCREENSHOTS / "about_poster.png"), full_page=True)
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    (tmp_path / "poster.pdf").write_bytes(pdf)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # one sheet of A4
    context.close()
    assert blocked == []
