"""Texts that used to make a statement fail in the worker are stored and answered; what still fails tells staff,
and nothing of it reaches a log (issue 12 item 3, R14)."""

from __future__ import annotations

import ast
import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from handoff.line.messages import MAX_TEXT
from handoff.pipeline.inbox import MAX_ATTEMPTS, store_events
from handoff.run_all import open_log
from handoff.settings import normalise_database_url
from handoff.store.db import Database
from handoff.store.migrate import upgrade
from tests.handoff.test_no_text_in_logs import post_events
from tests.support.databases import rows
from tests.support.inprocess import InstantRasa, in_process, text_event
from tests.support.servers import ROOT, Stack

SECRET_WORDS = "ひみつの言葉"


def _inbound(stack: Stack, user: str) -> list[str]:
    query = ("SELECT m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id JOIN contacts k "
             "ON k.id = c.contact_id WHERE k.line_user_id = :u AND m.direction = 'in' ORDER BY m.id")
    return [r["text"] for r in rows(stack.database_url, query, u=user)]


def test_a_nul_or_a_lone_surrogate_in_a_text_is_stored_as_u_fffd_and_answered(any_stack: Stack) -> None:
    nul, lone = "U" + "a" * 32, "U" + "b" * 32
    events = [text_event(nul, "いや\x00だ", 1), text_event(lone, "つら\ud800い", 2)]
    assert post_events(any_stack, events).status_code == 200
    assert any_stack.wait_delivered(nul, 1, timeout=30)[0]["text"] == "bot:いや\ufffdだ"
    assert any_stack.wait_delivered(lone, 1, timeout=30)[0]["text"] == "bot:つら\ufffdい"
    assert _inbound(any_stack, nul) == ["いや\ufffdだ"]
    assert _inbound(any_stack, lone) == ["つら\ufffdい"]


def test_a_text_whose_optional_fields_have_the_wrong_type_is_stored_and_answered(any_stack: Stack) -> None:
    user = "U" + "c" * 32
    event = text_event(user, "型がちがう", 3)
    event["message"].update(id={"nested": "object"}, markAsReadToken=12345, quoteToken=["a", "list"])
    assert post_events(any_stack, [event]).status_code == 200
    assert any_stack.wait_delivered(user, 1, timeout=30)[0]["text"] == "bot:型がちがう"
    assert _inbound(any_stack, user) == ["型がちがう"]
    stored = rows(any_stack.database_url, "SELECT line_message_id, mark_as_read_token FROM messages WHERE "
                  "direction = 'in'")
    assert stored == [{"line_message_id": None, "mark_as_read_token": "12345"}]


def test_inbound_text_is_stored_up_to_lines_limit(any_stack: Stack) -> None:
    user = "U" + "d" * 32
    assert post_events(any_stack, [text_event(user, "長" * 50_000, 4)]).status_code == 200
    any_stack.wait_delivered(user, 1, timeout=30)
    assert _inbound(any_stack, user) == ["長" * MAX_TEXT]
    body = rows(any_stack.database_url, "SELECT body FROM inbox")[0]["body"]
    assert len(str(body)) < 40_000  # the stored event is bounded too (50 000 characters, escaped or not, are more)


def test_an_event_that_keeps_failing_ends_failed_and_alerts_staff_with_ids_only(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = normalise_database_url(db_url)
    upgrade(url)
    user = "U" + "e" * 32

    async def broken(sender: str, message: str, metadata: dict[str, Any]) -> None:
        raise RuntimeError(f"the bot broke on {message}")

    async def run() -> None:
        async with in_process(url, InstantRasa(broken)) as worker:
            await store_events(worker.res.db, [text_event(user, SECRET_WORDS, 5)])
            for _ in range(MAX_ATTEMPTS):
                await worker.inbox.drain(user)

    asyncio.run(run())
    assert rows(db_url, "SELECT status, attempts, error FROM inbox") == [
        {"status": "failed", "attempts": MAX_ATTEMPTS, "error": "RuntimeError"}
    ]
    conversation = rows(db_url, "SELECT id FROM conversations")[0]["id"]
    alerts = rows(db_url, "SELECT type, conversation_id FROM alerts")
    assert alerts == [{"type": "inbox_failed", "conversation_id": conversation}]
    assert SECRET_WORDS not in caplog.text
    assert _inbound_rows(db_url) == [SECRET_WORDS]  # the user's turn itself was stored by step one


def _inbound_rows(url: str) -> list[str]:
    return [r["text"] for r in rows(url, "SELECT text FROM messages WHERE direction = 'in'")]


def test_a_failing_statement_does_not_carry_its_parameters_into_the_error(db_url: str) -> None:
    async def fail() -> str:
        db = Database(normalise_database_url(db_url))
        try:
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT no_such_column FROM no_such_table WHERE x = :v"), {"v": SECRET_WORDS})
        except DBAPIError as exc:
            return str(exc)
        finally:
            await db.close()
        raise AssertionError("the statement should have failed")

    message = asyncio.run(fail())
    assert "no_such_table" in message and SECRET_WORDS not in message


def test_no_engine_is_made_outside_new_engine() -> None:
    """hide_parameters holds only if every engine comes from handoff.store.db.new_engine."""
    makers = {"create_engine", "create_async_engine"}
    found = []
    for folder in ("handoff", "console", "bench", "actions"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in makers:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert [place.split(":")[0] for place in found] == ["handoff/store/db.py"]


def test_process_logs_are_readable_by_owner_and_group_only(tmp_path: Path) -> None:
    fresh, old = tmp_path / "gateway.log", tmp_path / "rasa.log"
    old.write_text("from an older run\n")
    os.chmod(old, 0o644)
    for path in (fresh, old):
        with open_log(path) as log:
            log.write(b"line\n")
        assert path.stat().st_mode & 0o777 == 0o640
    assert old.read_text() == "from an older run\nline\n"


def test_an_unhandled_exception_is_logged_without_the_query_or_its_message(caplog: pytest.LogCaptureFixture) -> None:
    from types import SimpleNamespace

    from handoff.http.errors import QuietErrorHandler

    request = SimpleNamespace(method="GET", path="/internal/municipality",
                              url=f"http://gw/internal/municipality?text={SECRET_WORDS}",
                              app=SimpleNamespace(config=SimpleNamespace(NOISY_EXCEPTIONS=False)))
    try:
        raise ValueError(f"cannot read {SECRET_WORDS}")
    except ValueError as exc:
        QuietErrorHandler.log(request, exc)  # type: ignore[arg-type]
    assert "unhandled ValueError on GET /internal/municipality" in caplog.text
    assert SECRET_WORDS not in caplog.text
