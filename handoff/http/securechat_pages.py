"""The secure chat's pages and headers (issue 16): Japanese, mobile-first, no third-party asset, a strict CSP.

Pages are plain HTML from `securechat_static/` with a few escaped values put in; the script and the style are
files of this gateway, so the CSP allows nothing from anywhere else and no inline code at all.
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from urllib.parse import urlsplit

from sanic.response import HTTPResponse
from sanic.response import html as html_response

STATIC = Path(__file__).resolve().parent / "securechat_static"
COOKIE = "ycc_secure"

# Why a link or a session opened nothing, in words for a young person; never which of two users it belonged to.
REFUSALS = {
    "unknown": ("このリンクは使えません", "リンクが正しくないか、すでに使えなくなっています。"),
    "spent": ("このリンクはもう使われています", "安全のため、リンクは一度しか開けません。"),
    "revoked": ("新しいリンクが届いています", "いちばん新しいリンクだけが使えます。LINEで確かめてください。"),
    "expired": ("リンクの有効期限が切れました", "安全のため、リンクは送ってから少しの間しか開けません。"),
    "no_session": ("画面を開けませんでした", "この画面は、LINEで届いたリンクから開いてください。"),
    "ended": ("この画面は終了しました", "続きを話すときは、LINEで新しいリンクを受け取ってください。"),
    "timeout": ("時間がたったので終了しました", "安全のため、しばらく使わないと画面が閉じます。"),
    "device": ("この端末では開けません", "リンクを開いた端末でだけ使えます。"),
    "throttled": ("少し時間をおいてください", "短い間にたくさん開かれたため、しばらく受け付けられません。"),
}
AGAIN = "LINEのトークで「安全な画面を開く」を押すと、新しいリンクが届きます。"


def security_headers(public_url: str) -> dict[str, str]:
    """What every /secure response carries: nothing cached, framed, sniffed or loaded from elsewhere; no referrer,
    so the link's token never leaves in a Referer header."""
    host = urlsplit(public_url).netloc
    ws = f"wss://{host}" if public_url.startswith("https://") else f"ws://{host}"
    return {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"connect-src 'self' {ws}; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        ),
    }


def _template(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def _page(title: str, body: str, head: str = "", status: int = 200) -> HTTPResponse:
    """One document shell for every page; `title` is escaped here, `body` and `head` already are."""
    shell = _template("page.html").replace("{title}", html.escape(title)).replace("{head}", head)
    return html_response(shell.replace("{body}", body), status=status)


def refused(reason: str, status: int = 403) -> HTTPResponse:
    title, why = REFUSALS.get(reason, REFUSALS["unknown"])
    body = _template("refused.html").replace("{title}", html.escape(title)).replace("{why}", html.escape(why))
    return _page(title, body.replace("{again}", html.escape(AGAIN)), status=status)


def opened() -> HTTPResponse:
    """After a link is spent: a same-site step to the chat, so the SameSite=Strict cookie is sent with it even when
    the link was opened from another site or app."""
    return _page("安全な相談画面を開いています", _template("opened.html"),
                 head='<meta http-equiv="refresh" content="0;url=/secure/">')


def chat(csrf: str, *, silent: bool, only: bool) -> HTTPResponse:
    body = _template("chat.html").replace("{silent}", "checked" if silent else "")
    body = body.replace("{leave}", "この画面を終了する" if only else "LINEでの相談に戻る")
    head = f'<meta name="csrf-token" content="{html.escape(csrf)}">\n' \
           '<script src="/secure/static/securechat.js" defer></script>'
    return _page("安全な相談画面", body, head=head)


def asset(name: str) -> tuple[str, str] | None:
    kinds = {"securechat.js": "text/javascript; charset=utf-8", "securechat.css": "text/css; charset=utf-8"}
    if name not in kinds:
        return None
    return _template(name), kinds[name]


class Throttle:
    """At most `limit` refused link openings per address per `window` seconds, in this process. A token is 256
    random bits, so guessing is hopeless anyway; this keeps a flood of guesses from costing database work and
    shows up a scanner. Successful openings do not count: a family sharing one address is never locked out."""

    def __init__(self, limit: int = 10, window: float = 600.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, list[float]] = {}

    def _recent(self, address: str, now: float) -> list[float]:
        recent = [t for t in self._failures.get(address, []) if now - t < self.window]
        if recent:
            self._failures[address] = recent
        else:
            self._failures.pop(address, None)
        return recent

    def blocked(self, address: str) -> bool:
        return len(self._recent(address, time.monotonic())) >= self.limit

    def failed(self, address: str) -> None:
        now = time.monotonic()
        self._failures[address] = [*self._recent(address, now), now]
        if len(self._failures) > 10_000:  # forget the oldest addresses rather than grow without end
            for key in list(self._failures)[:5_000]:
                del self._failures[key]
