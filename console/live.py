"""Live updates for console pages over WebSocket: ids and kinds only, pages fetch content through the audited API.

A session is re-checked every few seconds while the socket is open, so logout, disabling the user or the idle
timeout also end the live feed, not only the next page load.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from sanic import Blueprint, Request
from sanic.server.websockets.impl import WebsocketImplProtocol

from console.auth import Principal, authenticate
from console.roles import STAFF
from handoff import events

log = logging.getLogger(__name__)
bp = Blueprint("console_live", url_prefix="/console")
RECHECK_SECONDS = 10.0
KEEPALIVE_SECONDS = 25.0


def _same_origin(request: Request) -> bool:
    """Cross-site WebSocket hijacking guard: a browser always sends Origin, and it must be this host."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser (bench, scripts); the session or token still has to be valid
    return urlsplit(origin).netloc == request.headers.get("host")


def _relevant(event: dict[str, Any], principal: Principal) -> bool:
    return principal.role in STAFF


@bp.websocket("/live", name="live")
async def live(request: Request, ws: WebsocketImplProtocol) -> None:
    principal = await authenticate(request, touch=False)
    if principal is None or principal.role not in STAFF or not _same_origin(request):
        await ws.close(code=4401, reason="unauthorized")
        return
    await ws.send(json.dumps(events.hello(principal.role)))
    checked = time.monotonic()
    async with request.app.ctx.hub.subscribe() as queue:
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), timeout=min(KEEPALIVE_SECONDS, RECHECK_SECONDS))
            except TimeoutError:
                event = events.ping()
            if time.monotonic() - checked > RECHECK_SECONDS:
                checked = time.monotonic()
                if await authenticate(request, touch=False) is None:
                    with contextlib.suppress(Exception):
                        await ws.close(code=4401, reason="session ended")
                    return
            if event.get("type") != events.EventType.PING and not _relevant(event, principal):
                continue
            await ws.send(json.dumps(event))
