"""Live updates over /console/live: only staff sessions, same origin, ids and kinds only (R14, R15, R16)."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import websockets

from tests.console.conftest import Gateway


def _in_thread(coro: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro)).result()


async def _first(url: str, headers: dict[str, str]) -> tuple[int | None, list[dict[str, Any]]]:
    """Messages received until the server closes or two seconds pass; and the close code."""
    received: list[dict[str, Any]] = []
    try:
        async with websockets.connect(url, additional_headers=headers) as sock:
            while True:
                received.append(json.loads(await asyncio.wait_for(sock.recv(), 2.0)))
                if received[-1]["type"] == "message":
                    return None, received
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None, received
    except TimeoutError:
        return None, received


def test_live_events_reach_staff_and_carry_no_message_text(gateway_sqlite: Gateway, line_user: str) -> None:
    console = gateway_sqlite.login(gateway_sqlite.add_user("counsellor"))
    url = gateway_sqlite.url.replace("http://", "ws://") + "/console/live"
    cookie = {"Cookie": f"ycc_session={console.client.cookies.get('ycc_session')}"}

    async def listen_then_send() -> list[dict[str, Any]]:
        async with websockets.connect(url, additional_headers=cookie) as sock:
            assert json.loads(await sock.recv())["type"] == "hello"
            await asyncio.to_thread(gateway_sqlite.user_says, line_user, "秘密の相談内容です")
            while True:
                event = json.loads(await asyncio.wait_for(sock.recv(), 10))
                if event["type"] == "message":
                    return [event]

    events = _in_thread(listen_then_send())
    assert events[0]["conversation_id"] > 0 and "秘密" not in json.dumps(events, ensure_ascii=False)


def test_live_refuses_anonymous_trainers_and_other_origins(gateway_sqlite: Gateway) -> None:
    url = gateway_sqlite.url.replace("http://", "ws://") + "/console/live"
    code, _ = _in_thread(_first(url, {}))
    assert code == 4401
    trainer = gateway_sqlite.login(gateway_sqlite.add_user("trainer"))
    code, _ = _in_thread(_first(url, {"Cookie": f"ycc_session={trainer.client.cookies.get('ycc_session')}"}))
    assert code == 4401
    staff = gateway_sqlite.login(gateway_sqlite.add_user("supervisor"))
    session = staff.client.cookies.get("ycc_session")
    code, _ = _in_thread(_first(url, {"Cookie": f"ycc_session={session}", "Origin": "https://evil.example"}))
    assert code == 4401
    code, received = _in_thread(_first(url, {"Cookie": f"ycc_session={session}",
                                             "Origin": gateway_sqlite.url}))
    assert code is None and received[0]["type"] == "hello"
