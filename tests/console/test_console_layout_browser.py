"""Every console page on a tablet (768 px) and a laptop (1366 px), in a real browser (issue 17, item 10): no label
broken into one character per line, nothing wider than the screen; tables scroll inside their panel. Screenshots
of each page at both widths land in tests/console/screenshots/ for a person to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.console.conftest import Gateway, new_line_user, wait_for
from tests.console.test_console_browser import CHROMIUM, SCREENSHOTS, browser, login  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)"),
]

WIDTHS = (768, 1366)
PAGES = {
    "supervisor": ["/console/queue", "/console/cases", "/console/records", "/console/worklog", "/console/training",
                   "/console/account"],
    "admin": ["/console/admin/", "/console/worklog"],
}


def _problems(page: Page, width: int) -> list[str]:
    """What a person would see as broken at this width."""
    found = []
    if page.evaluate("document.documentElement.scrollWidth") > width + 1:
        found.append(f"page wider than {width}px ({page.evaluate('document.documentElement.scrollWidth')}px)")
    for link in page.locator(".nav a").all():
        box = link.bounding_box()
        if box is not None and box["height"] > 40:  # one line is about 35 px; more means a broken label
            found.append(f"nav label {link.inner_text()!r} wraps ({box['height']:.0f}px high)")
    return found


@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_page_fits_a_tablet_and_a_laptop(browser: Browser, gateway_sqlite: Gateway, role: str) -> None:  # noqa: F811
    gw = gateway_sqlite
    gw.user_says(new_line_user(), "学校と家のことで相談したいです")  # a queue with a row in it
    wait_for(lambda: gw.rows("SELECT id FROM conversations"))
    page = login(browser, gw, gw.add_user(role))
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        for path in PAGES[role]:
            page.goto(f"{gw.url}{path}")
            page.wait_for_load_state("networkidle")
            name = path.strip("/").replace("/", "_") or "root"
            page.screenshot(path=str(SCREENSHOTS / f"layout_{role}_{name}_{width}.png"), full_page=True)
            problems += [f"{path} at {width}px: {p}" for p in _problems(page, width)]
    page.context.close()
    assert problems == []
