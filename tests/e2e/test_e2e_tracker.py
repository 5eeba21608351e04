"""Rasa's conversations survive a Rasa restart (issue 18.1): the tracker store is on disk, not in Rasa's memory.

The real stack (fake LINE → gateway → trained Rasa → action server) on SQLite, where the tracker store is its own
file beside the gateway's database. A user stopped between two profile questions answers the pending one after
Rasa restarted, and the answer is taken as the answer to that question. And a tracker store that cannot be reached
stops Rasa at start-up with a message, instead of Rasa's silent fallback to memory (rasa#3243).
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handoff.run_all import bot_commands, process_env, write_endpoints
from tests.support.databases import rows
from tests.support.fullstack import FullStack
from tests.support.servers import ROOT, TOKENS, free_ports, wait_for

TOKYO = ZoneInfo("Asia/Tokyo")
IN_HOURS = int(datetime(2026, 11, 25, 14, 0, tzinfo=TOKYO).timestamp() * 1000)  # Wednesday 14:00
USER = "Utrk0000001" + "a" * 22


def _profile(full: FullStack) -> dict[str, Any]:
    found = rows(full.database_url, "SELECT profile FROM contacts WHERE line_user_id = :u", u=USER)
    if not found:
        return {}
    value = found[0]["profile"]
    return value if isinstance(value, dict) else json.loads(value or "{}")


def _answered(full: FullStack, before: int) -> list[str]:
    """The texts of the reply to the last message (waits for at least one bubble)."""
    return [m.get("text", "") for m in full.stack.wait_delivered(USER, before + 1, timeout=40)[before:]]


def _rasa(full: FullStack) -> Any:
    return next(p for p in full.procs if p.args[:2] == [str(ROOT / ".venv-bot" / "bin" / "rasa"), "run"])


def test_a_rasa_restart_between_two_profile_questions_keeps_the_question_pending(full: FullStack) -> None:
    full.stack.send(USER, {"type": "follow", "timestamp": IN_HOURS})
    _answered(full, 0)
    sent = len(full.stack.delivered(USER))
    full.stack.send(USER, {"type": "postback", "data": '/consent{"granted": true}', "displayText": "同意する",
                           "timestamp": IN_HOURS})
    _answered(full, sent)
    sent = len(full.stack.delivered(USER))
    full.stack.send(USER, {"type": "text", "text": "保護者", "timestamp": IN_HOURS})
    wait_for(lambda: _profile(full).get("role") == "guardian", timeout=40, what="the role answer stored")
    age_question = _answered(full, sent)

    rasa = _rasa(full)
    rasa.stop()
    rasa.start(timeout=180)

    sent = len(full.stack.delivered(USER))
    full.stack.send(USER, {"type": "text", "text": "13", "timestamp": IN_HOURS})
    wait_for(lambda: _profile(full).get("age_band") == "13_15", timeout=40,
             what=f"'13' taken as the answer to the pending age question {age_question!r}")
    next_question = _answered(full, sent)
    assert next_question != age_question, "the bot asked the age again after the restart"
    assert _profile(full)["role"] == "guardian"
    tracker_file = Path(full.database_url[len("sqlite:///"):]).with_name("ycc-trackers.sqlite3")
    assert tracker_file.stat().st_mode & 0o777 == 0o600  # the user's words
    key = rows(full.database_url, "SELECT key FROM contacts WHERE line_user_id = :u", u=USER)[0]["key"]
    said = [json.loads(r["data"]).get("text") for r in rows(
        f"sqlite:///{tracker_file}", "SELECT data FROM events WHERE sender_id = :k AND type_name = 'user'", k=key)]
    assert "保護者" in said and "13" in said  # Rasa knows the user by the contact's key, never the LINE id


def test_rasa_refuses_to_start_when_its_tracker_store_cannot_be_reached(tmp_path: Path) -> None:
    """No silent in-memory store: a PostgreSQL nobody listens on stops Rasa with a message naming the setting."""
    rasa_port, actions_port, dead_port = free_ports(3)
    endpoints = write_endpoints(tmp_path / "endpoints.yml", f"http://127.0.0.1:{actions_port}")
    command = bot_commands(rasa_port, actions_port, endpoints)["rasa"]
    env = process_env(
        {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
         "YCC_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{dead_port}/ycc"},
        "rasa", TOKENS,
    )
    done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=170)
    output = done.stdout
    assert done.returncode != 0, output[-2000:]
    assert "Rasa cannot reach its tracker store" in output, output[-2000:]
    assert f"127.0.0.1:{dead_port}/ycc" in output and "YCC_TRACKER_STORE_URL" in output
    assert output.rstrip().splitlines()[-1].startswith("Rasa cannot reach its tracker store"), "not the last word"
    assert "InMemoryTrackerStore" not in output
