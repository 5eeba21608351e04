"""What the bot's two servers show to anyone but the gateway and each other: nothing (issue 12, items 1 and 2).

The real action server and Rasa (trained model), started as `make run` starts them. Each hop has its own secret:
gateway → Rasa `YCC_RASA_TOKEN` (our REST channel), Rasa → action server `YCC_ACTIONS_TOKEN` (endpoints.yml).
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from handoff.run_all import bot_commands
from tests.support.fullstack import FullStack
from tests.support.servers import ROOT, TOKENS, free_ports, wait_for

WRONG = {"Authorization": "Bearer not-the-secret-at-all"}
TRACKER = {"sender_id": "probe", "slots": {}, "latest_message": {}, "events": [], "paused": False,
           "followup_action": None, "active_loop": {}, "latest_action_name": None}


def action_call(action: str) -> dict:
    """The body Rasa posts to the action server's /webhook."""
    return {"next_action": action, "sender_id": "probe", "tracker": TRACKER, "domain": {}, "version": "3.6.2"}


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port`, from /proc/net/tcp{,6} (what `ss -ltn` reads)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as lines:
            next(lines)
            for line in lines:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                    found.add(_address(address))
    return found


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))  # four little-endian 32-bit words
    return socket.inet_ntop(socket.AF_INET6, words)


def outward_address() -> str | None:
    """This machine's non-loopback IPv4 address (a UDP connect sends nothing), None on a machine without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_action_server_refuses_calls_without_the_secret(full: FullStack) -> None:
    url = full.actions_url
    for headers in ({}, WRONG):
        crisis = httpx.post(f"{url}/webhook", json=action_call("action_crisis"), headers=headers)
        assert crisis.status_code == 401, crisis.text
        assert "events" not in crisis.json()
        listed = httpx.get(f"{url}/actions", headers=headers)
        assert listed.status_code == 401, listed.text
    assert httpx.get(f"{url}/health").json() == {"status": "ok"}  # readiness stays open, on loopback only


def test_action_server_runs_an_action_for_rasa_with_the_secret(full: FullStack) -> None:
    listed = httpx.get(f"{full.actions_url}/actions", headers=full.actions_headers)
    assert {"name": "action_hours"} in listed.json()
    ran = httpx.post(f"{full.actions_url}/webhook", json=action_call("action_hours"), headers=full.actions_headers)
    assert ran.status_code == 200, ran.text
    assert ran.json()["responses"], ran.json()


@pytest.mark.parametrize("server", ["action server", "rasa"])
def test_bot_servers_listen_on_loopback_only(full: FullStack, server: str) -> None:
    url = full.actions_url if server == "action server" else full.rasa_url
    port = int(url.rsplit(":", 1)[1])
    assert listening_addresses(port) == {"127.0.0.1"}
    outward = outward_address()
    if outward is not None:
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://{outward}:{port}/health", timeout=2)


def test_rasa_refuses_a_rest_message_without_the_secret(full: FullStack) -> None:
    turn = {"sender": "injected-sender", "message": "人と話したい"}
    for headers in ({}, WRONG):
        injected = httpx.post(f"{full.rasa_url}/webhooks/rest/webhook", json=turn, headers=headers, timeout=30)
        assert injected.status_code == 401, injected.text
        assert httpx.get(f"{full.rasa_url}/webhooks/rest/", headers=headers).status_code == 401
    answered = httpx.post(f"{full.rasa_url}/webhooks/rest/webhook", json=turn, headers=full.rasa_headers, timeout=30)
    assert answered.status_code == 200 and answered.json(), answered.text


def test_rasa_shows_no_tracker_and_takes_no_model_without_the_gateway(full: FullStack) -> None:
    words = "妹の世話で眠れない"
    said = httpx.post(f"{full.rasa_url}/webhooks/rest/webhook", json={"sender": "tracked", "message": words},
                      headers=full.rasa_headers, timeout=30)
    assert said.status_code == 200
    for method, path in (("GET", "/conversations/tracked/tracker"), ("GET", "/status"),
                         ("POST", "/model/parse"), ("PUT", "/model")):
        for headers in ({}, full.rasa_headers):  # the HTTP API is not there at all, secret or not
            refused = httpx.request(method, f"{full.rasa_url}{path}", json={"text": words}, headers=headers)
            assert refused.status_code in (401, 403, 404, 405), (path, refused.status_code)
            assert words not in refused.text


def test_gateway_readiness_reaches_rasa_through_the_secret(full: FullStack) -> None:
    ready = wait_for(lambda: (r := httpx.get(f"{full.url}/readyz")).status_code == 200 and r.json(), timeout=30,
                     what="gateway ready")
    assert ready["checks"]["rasa"] is True and ready["checks"]["action_server"] is True


@pytest.mark.parametrize("server, secret", [("actions", "YCC_ACTIONS_TOKEN"), ("rasa", "YCC_RASA_TOKEN")])
def test_bot_servers_will_not_start_without_their_secret(tmp_path: Path, server: str, secret: str) -> None:
    rasa_port, actions_port = free_ports(2)
    command = bot_commands(rasa_port, actions_port, ROOT / "endpoints.yml")[server]
    env = {k: v for k, v in os.environ.items() if k not in TOKENS} | {"PYTHONPATH": str(ROOT), **TOKENS}
    env.pop(secret)
    ended = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert ended.returncode != 0
    assert secret in ended.stdout + ended.stderr
