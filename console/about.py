"""The public page `/about` and the printable A4 poster (issue 17 item 4, キ publicity to residents).

Public: no login, nothing personal, so it may be cached briefly; still a strict CSP (no script at all, styles and
images from here only) and no third-party asset (the QR code is drawn here by segno, the fonts are the reader's).
The hours are worded from data/hours.yml (the same policy the gateway applies), the add-friend link comes from
`YCC_LINE_ADD_FRIEND_URL`, so the page can never disagree with the service.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import segno
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, raw, text

from handoff.domain.hours import HoursPolicy

bp = Blueprint("public_about", url_prefix="/about")
# Served under /about/ so that publishing the page (nginx: `location = /about` and `location ^~ /about/`) publishes
# everything it needs and nothing of the console.
STYLE = Path(__file__).resolve().parent / "templates" / "about.css"
PUBLIC_HEADERS = {
    "Cache-Control": "public, max-age=300",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
}


def hours_words(hours: HoursPolicy) -> dict[str, str]:
    """The regular window and the days off, in the words the page prints."""
    words = {"regular": hours.schedule_text()}
    if hours.year_end:
        (m1, d1), (m2, d2) = hours.year_end
        words["year_end"] = f"年末年始（{m1}月{d1}日〜{m2}月{d2}日）はお休みです。"
    return words


def qr_svg(url: str, *, scale: int) -> str:
    """The add-friend QR code as inline SVG (error correction M: still reads when printed small or creased)."""
    return segno.make(url, error="m").svg_inline(scale=scale, border=2, dark="#111", light="#fff", omitsize=True,
                                                 title="友だち追加のQRコード")


def _context(request: Request, scale: int) -> dict[str, Any]:
    url = request.app.ctx.settings.line_add_friend_url
    return {"hours": hours_words(request.app.ctx.hours), "add_friend_url": url,
            "qr": qr_svg(url, scale=scale) if url else "",
            "hotlines": request.app.ctx.content.hotlines(only_24h=True, emergency=False)}


def _page(request: Request, name: str, context: dict[str, Any]) -> HTTPResponse:
    body = request.app.ctx.console_jinja.get_template(name).render(**context)
    return html(body, headers=PUBLIC_HEADERS)


@bp.get("/", name="about_page", strict_slashes=False)
async def about(request: Request) -> HTTPResponse:
    return _page(request, "about.html", _context(request, scale=5))


@bp.get("/poster", name="about_poster")
async def poster(request: Request) -> HTTPResponse:
    """A4 portrait, printed from the browser (「印刷」); the print CSS hides nothing and adds no margin of its own."""
    return _page(request, "about_poster.html", _context(request, scale=10))


@bp.get("/style.css", name="about_style")
async def style(request: Request) -> HTTPResponse:
    return text(STYLE.read_text(encoding="utf-8"), content_type="text/css; charset=utf-8", headers=PUBLIC_HEADERS)


@bp.get("/qr.png", name="about_qr_png")
async def qr_png(request: Request) -> HTTPResponse:
    """The QR code alone, for leaflets and slides made elsewhere (404 while no link is set)."""
    url = request.app.ctx.settings.line_add_friend_url
    if not url:
        return html("<p>友だち追加のリンクはまだ設定されていません。</p>", status=404, headers=PUBLIC_HEADERS)
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=12, border=2)
    return raw(out.getvalue(), content_type="image/png", headers=PUBLIC_HEADERS)
