"""`POST /line/webhook`: signatures, bad bodies, LINE's verify call, every event type LINE documents (R1, R25)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import httpx
from linebot.v3 import SignatureValidator

from tests.support.databases import rows
from tests.support.servers import SECRET, Stack

FIXTURES = Path(__file__).parent / "fixtures" / "line_events"


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def post(stack: Stack, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-line-signature"] = signature
    return httpx.post(f"{stack.url}/line/webhook", content=body, headers=headers, timeout=5)


def test_signature_known_answer_vector_from_line_bot_sdk() -> None:
    validator = SignatureValidator("channel_secret")
    assert validator.validate("bodybodybodybody", "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k=")
    assert not validator.validate("bodybodybodybody!", "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k=")
    assert sign(b"bodybodybodybody", "channel_secret") == "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k="


def test_bad_or_missing_signature_is_400_and_nothing_is_stored(stack: Stack) -> None:
    event = json.loads((FIXTURES / "message_text.json").read_text())
    body = json.dumps({"destination": "Uxx", "events": [event]}).encode()
    wrong = post(stack, body, sign(body, "another-secret"))
    missing = post(stack, body, None)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_signature"
    assert missing.status_code == 400
    assert rows(stack.database_url, "SELECT count(*) AS n FROM inbox")[0]["n"] == 0


def test_verify_request_with_no_events_gets_200(stack: Stack) -> None:
    body = b'{"destination":"Uxx","events":[]}'
    assert post(stack, body, sign(body)).status_code == 200


def test_malformed_json_with_a_valid_signature_is_a_clear_400(stack: Stack) -> None:
    for body in (b"{not json", b'{"events": "nope"}', b"[1, 2]", "\udcff".encode("utf-8", "surrogatepass")):
        response = post(stack, body, sign(body))
        assert response.status_code == 400, body
        assert response.json()["error"] in {"invalid_json", "invalid_body"}
    assert rows(stack.database_url, "SELECT count(*) AS n FROM inbox")[0]["n"] == 0


def test_every_documented_event_type_is_stored_and_handled_without_crashing(stack: Stack) -> None:
    events = [json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))]
    assert len(events) >= 25
    body = json.dumps({"destination": "Uxx", "events": events}, ensure_ascii=False).encode()
    assert post(stack, body, sign(body)).status_code == 200
    stored = rows(stack.database_url, "SELECT count(*) AS n FROM inbox")[0]["n"]
    assert stored == len({e["webhookEventId"] for e in events})
    _wait_inbox_settled(stack)
    failed = rows(stack.database_url, "SELECT event_type, error FROM inbox WHERE status NOT IN ('done', 'ignored')")
    assert failed == []
    assert httpx.get(f"{stack.url}/healthz").status_code == 200
    # Content of images, video, audio and files is never fetched (R12).
    assert not [r for r in stack.requests() if "/content" in r.get("path", "")]


def _wait_inbox_settled(stack: Stack, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = rows(stack.database_url, "SELECT count(*) AS n FROM inbox WHERE status IN ('pending', 'bot')")[0]["n"]
        if left == 0:
            return
        time.sleep(0.1)
    raise AssertionError("inbox did not settle")


def _nested(depth: int) -> dict:
    inner: dict = {}
    for _ in range(depth):
        inner = {"x": inner}
    return inner


def test_signed_bodies_line_never_sends_are_a_clear_400_and_the_valid_events_are_still_stored(stack: Stack) -> None:
    good = json.loads((FIXTURES / "message_text.json").read_text())
    bad = [
        {**good, "webhookEventId": "BAD1", "source": "not an object"},
        {**good, "webhookEventId": "BAD2", "source": {"type": "user", "userId": "U" + "9" * 100}},
        {**good, "webhookEventId": "BAD3", "message": _nested(100)},
        {**good, "webhookEventId": "BAD4", "message": ["a", "list"]},
        "not an event",
    ]
    body = json.dumps({"destination": "Uxx", "events": [bad[0], good, *bad[1:]]}).encode()
    response = post(stack, body, sign(body))
    assert response.status_code == 400
    refused = response.json()
    assert refused["error"] == "invalid_events"
    assert [r["index"] for r in refused["refused"]] == [0, 2, 3, 4, 5]
    assert "source must be an object" in refused["refused"][0]["reason"]
    stored = rows(stack.database_url, "SELECT webhook_event_id FROM inbox")
    assert stored == [{"webhook_event_id": good["webhookEventId"]}]
    deep = b'{"events": [' + b'[' * 100_000 + b']' * 100_000 + b']}'
    too_deep = post(stack, deep, sign(deep))
    assert too_deep.status_code == 400 and too_deep.json()["error"] == "invalid_json"
    assert httpx.get(f"{stack.url}/healthz").status_code == 200
