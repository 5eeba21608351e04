"""YCC_LOG_FORMAT=json: every line the gateway and its worker write is one JSON object with time, level, logger and
message, and none carries what a young person wrote (issue 18.4: structured logs with ids and kinds only)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from handoff.cli import JsonLogFormatter
from tests.handoff.test_no_text_in_logs import post_events, troublesome_events, unacceptable_events
from tests.support.receiver import Receiver
from tests.support.servers import Stack, start_stack
from tests.support.stub_rasa import StubRasa

MARKER = "zq7Kmarker"  # in every text sent; no log line has any other reason to contain it


@pytest.fixture
def json_stack(tmp_path: Path, sqlite_url: str, rasa: StubRasa, alerts: Receiver) -> Iterator[Stack]:
    stack = start_stack(tmp_path, sqlite_url, YCC_RASA_URL=rasa.url, YCC_ALERT_WEBHOOK_URL=alerts.url,
                        YCC_LOG_FORMAT="json", YCC_WORKER="process")
    yield stack
    stack.stop()


def test_json_logs_are_one_object_per_line_and_hold_no_message_text(json_stack: Stack) -> None:
    stack = json_stack
    talker, in_crisis = "U" + "d" * 32, "U" + "e" * 32
    stack.send(talker, {"type": "text", "text": f"{MARKER} こんにちは"})
    stack.send(in_crisis, {"type": "text", "text": f"{MARKER} もう しにたい"})
    cases = troublesome_events()
    for event in cases.values():
        post_events(stack, [event])
    post_events(stack, unacceptable_events())
    stack.wait_delivered(talker, 1)
    stack.wait_delivered(in_crisis, 1)
    for user in [e["source"]["userId"] for e in cases.values()]:
        stack.wait_delivered(user, 1, timeout=10)
    stack.gateway.stop()  # its last lines (and the worker's) are written
    lines = [line for line in stack.gateway.log().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line parses
    assert all(isinstance(e, dict) and {"time", "level", "logger", "message"} <= e.keys() for e in entries)
    loggers = {e["logger"] for e in entries}
    assert "handoff.line.webhook" in loggers  # the web process
    assert "handoff.pipeline.escalation" in loggers  # the worker process (the crisis)
    assert any(e["level"] == "WARNING" for e in entries)
    assert MARKER not in "\n".join(lines)
    assert "しにたい" not in "\n".join(lines)


def test_an_exception_in_a_json_line_gives_its_type_and_frames_not_its_message() -> None:
    try:
        raise ValueError(f"bad value {MARKER}")
    except ValueError:
        record = logging.LogRecord("handoff.test", logging.ERROR, __file__, 1, "turn %s failed", (42,), sys.exc_info())
    line = JsonLogFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "turn 42 failed" and entry["level"] == "ERROR" and entry["logger"] == "handoff.test"
    assert entry["exc_type"] == "ValueError"
    assert entry["stack"] and "test_metrics_logs.py" in entry["stack"][0]
    assert MARKER not in line
    assert entry["time"].endswith("+00:00")
