"""Response headers set in one place, for every response the console and its API give, errors included.

JSON under `/api/` carries the same personal data as the pages (names, a young person's words), so it must not stay
in a browser or proxy cache either; static files get `nosniff` so a crafted upload name can never run as script.
A response middleware is the one place that also covers the answers no handler wrote (404, 405, Sanic's error
pages). HSTS is sent only when the public URL is https: over plain http it would be ignored, and on a
development machine it would pin `localhost` to https for a year.
"""

from __future__ import annotations

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from console.render import SECURITY_HEADERS

PRIVATE_PREFIXES = ("/api/", "/console")
HSTS = "max-age=31536000; includeSubDomains"
# Sanic's static handler sends `no-cache` (store, then revalidate); nothing of the console is to be stored.
FORCED = frozenset({"Cache-Control", "Pragma"})


def response_headers(path: str, *, https: bool) -> dict[str, str]:
    """The headers a response to `path` must carry (a handler's own values win where it set one)."""
    headers = {"X-Content-Type-Options": "nosniff"}
    if path.startswith(PRIVATE_PREFIXES):
        headers.update(SECURITY_HEADERS)
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def install(app: Sanic) -> None:
    """Attach the middleware to the whole gateway app (so /healthz and the webhook get nosniff and HSTS too)."""
    https = app.ctx.settings.public_url.startswith("https://")

    @app.on_response
    async def add_security_headers(request: Request, response: HTTPResponse) -> None:
        for name, value in response_headers(request.path, https=https).items():
            if name in FORCED or name not in response.headers:
                response.headers[name] = value
