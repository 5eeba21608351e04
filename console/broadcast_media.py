"""The images of information deliveries (issue 17 item 1), served to LINE and to the friends' phones.

Public like the page `/about` (nginx publishes /about/ on the public name, GET only): LINE's servers fetch
originalContentUrl and previewImageUrl with no login, so the path carries an unguessable token instead. An unknown
token is a plain 404 that says nothing about which tokens exist. The bytes are never logged.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw, text

from handoff.domain import broadcast_images

bp = Blueprint("public_broadcast_media", url_prefix="/about/media")
HEADERS = {
    "Cache-Control": "public, max-age=86400",  # an image never changes under its token
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
    "Referrer-Policy": "no-referrer",
}


@bp.get("/<name:str>", name="broadcast_media")
async def media(request: Request, name: str) -> HTTPResponse:
    async with request.app.ctx.db.session() as session:
        found = await broadcast_images.served(session, name)
    if found is None:
        return text("Not Found", status=404)
    content_type, data = found
    return raw(data, content_type=content_type, headers=HEADERS)
