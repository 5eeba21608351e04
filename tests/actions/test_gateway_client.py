"""The HTTP client speaks docs/internal-api.md: bearer token, `at` on every call, any failure → GatewayError."""

import asyncio

import pytest
from aiohttp import web

from actions.gateway_client import GatewayClient, GatewayError


@pytest.fixture
async def server():
    seen = []

    async def handler(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        seen.append({"method": request.method, "path": request.path, "query": dict(request.query),
                     "auth": request.headers.get("Authorization"), "body": body})
        if request.path.endswith("/profile"):
            return web.json_response({"error": "consent_required", "message": "no"}, status=409)
        if request.path == "/internal/slow":
            await asyncio.sleep(2)
        return web.json_response({"ok": True, "text": "はい"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", seen
    await runner.cleanup()


async def test_calls_carry_token_at_and_escaped_key(server):
    url, seen = server
    client = GatewayClient(url, "secret", timeout_s=1)
    await client.post_handoff("c-1/x", "user_request", "2026-11-24T23:00:05+09:00")
    await client.get_hours("2026-11-24T23:00:05+09:00")
    await client.get_services(None, "2026-11-24T23:00:05+09:00")
    await client.post_crisis("c-1", 0.8, "2026-11-24T23:00:05+09:00")

    assert seen[0]["path"] in ("/internal/contacts/c-1%2Fx/handoff", "/internal/contacts/c-1/x/handoff")
    assert seen[0]["auth"] == "Bearer secret"
    assert seen[0]["body"] == {"at": "2026-11-24T23:00:05+09:00", "reason": "user_request"}
    assert seen[1]["query"] == {"at": "2026-11-24T23:00:05+09:00"}
    assert "municipality" not in seen[2]["query"]
    assert seen[3]["body"] == {"at": "2026-11-24T23:00:05+09:00", "source": "nlu", "confidence": 0.8}


async def test_4xx_raises_with_error_code(server):
    url, _ = server
    with pytest.raises(GatewayError) as err:
        await GatewayClient(url, timeout_s=1).post_profile("c-1", "gender", "female", None)
    assert err.value.status == 409 and err.value.code == "consent_required"


async def test_unreachable_gateway_raises():
    with pytest.raises(GatewayError):
        await GatewayClient("http://127.0.0.1:9", timeout_s=0.5).get_contact("c-1", None)


async def test_slow_gateway_times_out(server):
    url, _ = server
    client = GatewayClient(url, timeout_s=0.3)
    with pytest.raises(GatewayError):
        await client._request("GET", "/internal/slow")


def test_from_env(monkeypatch):
    monkeypatch.setenv("YCC_GATEWAY_URL", "http://gw:8080/")
    monkeypatch.setenv("YCC_INTERNAL_TOKEN", "t")
    client = GatewayClient.from_env()
    assert client.base_url == "http://gw:8080" and client.token == "t"
