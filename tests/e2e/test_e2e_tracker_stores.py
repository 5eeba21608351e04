"""bot/tracker_store.py under the real Rasa 3.6 (the bot's venv, no model needed): Rasa writes its trackers where
`ycc export` reads them, on SQLite and PostgreSQL; the lock store is in memory unless a Redis is named, and two
Rasa processes on one Redis serve one conversation one at a time; an unreachable Redis stops Rasa with a message."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff.lifecycle import trackers
from handoff.lifecycle.export import export_database
from handoff.settings import Settings
from handoff.store.migrate import upgrade_async
from tests.support.databases import database
from tests.support.servers import ROOT, free_port

BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"
REDIS = ("127.0.0.1", 6379)


def _bot(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BOT_PYTHON), "-W", "ignore", "-c", textwrap.dedent(script)], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                          **env},
    )


def _redis_up() -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(REDIS) == 0


SAVE_A_TURN = """
    import asyncio
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from bot.tracker_store import GatewayTrackerStore

    store = GatewayTrackerStore()
    tracker = DialogueStateTracker("c-0123456789abcdef", slots=[])
    tracker.update(UserUttered("夜なら話せます", {"name": "share_situation", "confidence": 0.9}))
    asyncio.run(store.save(tracker))
    print("saved", flush=True)
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_rasa_writes_its_trackers_where_ycc_export_reads_them(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        done = _bot(SAVE_A_TURN, YCC_DATABASE_URL=url)
        assert done.returncode == 0 and "saved" in done.stdout, done.stderr[-2000:]
        settings = Settings.from_mapping({"YCC_DATABASE_URL": url})
        store = trackers.locate(settings)
        assert store is not None and store.schema == ("rasa" if kind == "postgres" else "")
        out = tmp_path / "out"
        await upgrade_async(settings.database_url)  # the export needs the gateway's own schema
        manifest = (await export_database(settings.database_url, out, operator="t", now=datetime.now(UTC))).manifest
        assert manifest["tracker_store"]["senders"] == 1, manifest["tracker_store"]
        table = list(csv.DictReader(io.StringIO((out / trackers.FILE).read_text(encoding="utf-8-sig"))))
        said = [row for row in table if row["type_name"] == "user"]
        assert said and said[0]["sender_id"] == "c-0123456789abcdef"
        assert json.loads(said[0]["data"])["text"] == "夜なら話せます" and said[0]["intent_name"] == "share_situation"


def test_the_lock_store_is_in_memory_unless_a_redis_is_named() -> None:
    done = _bot("from bot.tracker_store import GatewayLockStore; print(type(GatewayLockStore().delegate).__name__)")
    assert done.stdout.strip() == "InMemoryLockStore", done.stderr[-2000:]


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_two_rasa_processes_on_one_redis_serve_a_conversation_one_at_a_time() -> None:
    """Two lock stores stand for two Rasa processes: the second turn of one conversation waits for the first."""
    done = _bot("""
        import asyncio
        from bot.tracker_store import GatewayLockStore
        first, second = GatewayLockStore(), GatewayLockStore()
        order = []

        async def turn(store, name, hold):
            async with store.lock("c-lock-test", wait_time_in_seconds=0.05):
                order.append(name + " in")
                await asyncio.sleep(hold)
                order.append(name + " out")

        async def both():
            await asyncio.gather(turn(first, "A", 0.5), turn(second, "B", 0.1))

        asyncio.run(both())
        print(type(first.delegate).__name__, " ".join(order))
    """, YCC_RASA_LOCK_STORE_URL=f"redis://{REDIS[0]}:{REDIS[1]}/14")
    assert done.stdout.strip() == "RedisLockStore A in A out B in B out", done.stderr[-2000:]


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_two_rasa_processes_issuing_tickets_at_once_never_share_one() -> None:
    """rasa#9213: Rasa's RedisLockStore reads, changes and writes back one blob per ticket, so two processes that
    issue tickets for one conversation at the same moment hand out the same number (bare: 169 distinct of 300
    measured here). Two threads with their own connections stand for the two processes; each ticket must be
    distinct and kept, and Rasa's bare store is run beside it to show the race is real on this machine."""
    done = _bot("""
        import threading
        from bot.tracker_store import GatewayLockStore

        def race(bare):
            stores = [GatewayLockStore(), GatewayLockStore()]
            stores = [s.delegate for s in stores] if bare else stores
            cid = "c-race-" + ("bare" if bare else "guarded")
            stores[0].delete_lock(cid)
            tickets, barrier = [[], []], threading.Barrier(2)

            def run(i):
                barrier.wait()
                for _ in range(150):
                    tickets[i].append(stores[i].issue_ticket(cid, 60))

            threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            kept = len(stores[0].get_lock(cid).tickets)
            stores[0].delete_lock(cid)
            return len(set(tickets[0] + tickets[1])), kept

        print(*race(False), *race(True))
    """, YCC_RASA_LOCK_STORE_URL=f"redis://{REDIS[0]}:{REDIS[1]}/14")
    assert done.returncode == 0, done.stderr[-2000:]
    distinct, kept, bare_distinct, _ = (int(v) for v in done.stdout.split())
    assert (distinct, kept) == (300, 300)
    print(f"bare RedisLockStore: {bare_distinct} distinct tickets of 300")


def test_an_unreachable_redis_stops_rasa_with_a_message() -> None:
    port = free_port()
    done = _bot("from bot.tracker_store import GatewayLockStore; GatewayLockStore()",
                YCC_RASA_LOCK_STORE_URL=f"redis://127.0.0.1:{port}/1")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"Rasa cannot reach its lock store at redis://127.0.0.1:{port} (ConnectionError); Rasa does not start "
        "(README, Configuration: YCC_RASA_LOCK_STORE_URL)."
    )


@pytest.mark.postgres
def test_a_database_failure_during_a_turn_fails_the_turn_instead_of_forgetting_the_conversation(
    tmp_path: Path,
) -> None:
    """Rasa's FailSafeTrackerStore turns a failing store into an empty tracker; ours gets through it. A restarted
    database (its sessions killed) is only a reconnect."""
    with database("postgres", tmp_path) as url:
        done = _bot(SAVE_A_TURN + """
    import sqlalchemy as sa
    from rasa.core.tracker_store import FailSafeTrackerStore
    from bot.tracker_store import TrackerStoreFailure

    wrapped = FailSafeTrackerStore(store)  # what Rasa's Agent does with every tracker store
    admin = sa.create_engine(store.engine.url.set(query={}), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    print("after a restart:", len(asyncio.run(wrapped.retrieve("c-0123456789abcdef")).events), flush=True)
    with admin.connect() as conn:
        conn.execute(sa.text("DROP SCHEMA rasa CASCADE"))
    try:
        print("forgotten:", asyncio.run(wrapped.retrieve("c-0123456789abcdef")), flush=True)
    except TrackerStoreFailure as exc:
        print("failed:", exc, flush=True)
    admin.dispose()
        """, YCC_DATABASE_URL=url)
        lines = done.stdout.splitlines()
        expected = ["after a restart: 1", "failed: tracker store failed: ProgrammingError"]
        assert lines[1:] == expected, done.stderr[-3000:]
        assert "夜なら話せます" not in done.stderr  # nor is the user's text in the log
