"""The usual open-source LINE→Rasa connector, as a peer for bench/bench_prod.py only (never run in production).

Its webhook checks the signature, asks Rasa's REST channel, replies with the event's reply token and only then
answers LINE: nothing is stored, so LINE waits for Rasa, and a slow Rasa makes LINE's delivery time out. This is the
shape of most published examples; the gateway stores first and answers at once, and the figures show what that buys.

    .venv/bin/python -m bench.naive_connector --port P --rasa URL --line URL --secret S --token T
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import sys
from typing import Any

import aiohttp
from aiohttp import web


def build(rasa: str, line: str, secret: str, token: str) -> web.Application:
    app = web.Application()

    async def start(app: web.Application) -> None:
        app["http"] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def stop(app: web.Application) -> None:
        await app["http"].close()

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, request.headers.get("x-line-signature", "")):
            return web.json_response({"error": "invalid_signature"}, status=400)
        http: aiohttp.ClientSession = request.app["http"]
        for event in json.loads(body).get("events", []):
            message = event.get("message") or {}
            if event.get("type") != "message" or message.get("type") != "text":
                continue
            user = (event.get("source") or {}).get("userId", "")
            async with http.post(f"{rasa}/webhooks/rest/webhook",
                                 json={"sender": user, "message": message["text"]}) as answer:
                said: list[dict[str, Any]] = await answer.json()
            texts = [{"type": "text", "text": part["text"]} for part in said if part.get("text")][:5]
            if texts:
                await http.post(f"{line}/v2/bot/message/reply", headers={"Authorization": f"Bearer {token}"},
                                json={"replyToken": event.get("replyToken"), "messages": texts})
        return web.json_response({})

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    app.router.add_post("/line/webhook", webhook)
    app.router.add_get("/healthz", lambda _request: web.json_response({"ok": True}))
    return app


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("--rasa", "--line", "--secret", "--token"):
        parser.add_argument(name, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(build(args.rasa, args.line, args.secret, args.token), host="127.0.0.1", port=args.port,
                print=None, access_log=None)


if __name__ == "__main__":
    main(sys.argv[1:])
