"""Is a gateway (or anything else) still using the database? Purge refuses while the answer is yes.

Each sign below can be absent while a gateway runs (another port, another run directory, another OS user), so purge
looks for all of them and refuses on any:

- the run directory's wake-up sockets (`web-<pid>.sock`, `worker.sock`): a datagram `connect()` succeeds only while a
  process has the socket bound, so the file a killed gateway leaves behind does not count;
- `GET /healthz` on the configured host and port answering the gateway's `{"status": "ok"}`;
- the database itself: on PostgreSQL any other client session on this database (pg_stat_activity), on SQLite any
  other process holding the file, its -wal or -shm open (/proc/*/fd; processes of other OS users are visible only
  when purge runs as root or as their user).

The database check is the one that matters most: it also catches a worker started on its own, a psql session or a
backup job, each of which would either keep old pages alive or write after the purge.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

import httpx
from sqlalchemy import Connection, text

from handoff.runtime.signals import socket_files
from handoff.settings import Settings


def socket_signs(run_dir: Path) -> list[str]:
    signs = []
    for path in socket_files(run_dir):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.connect(str(path))
        except OSError:
            continue  # ECONNREFUSED: left behind by a process that is gone
        finally:
            sock.close()
        signs.append(f"a gateway process has {path} bound")
    return signs


def health_sign(host: str, port: int) -> list[str]:
    address = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    url = f"http://{address}:{port}/healthz"
    try:
        response = httpx.get(url, timeout=1.0)
    except httpx.HTTPError:
        return []
    with contextlib.suppress(ValueError):
        if response.status_code == 200 and response.json() == {"status": "ok"}:
            return [f"a gateway answers {url}"]
    return []


def sqlite_holders(database: Path) -> list[str]:
    """Other processes with the database file set open, found through /proc (Linux)."""
    targets = {str(database), f"{database}-wal", f"{database}-shm"}
    me = os.getpid()
    signs = []
    proc = Path("/proc")
    if not proc.is_dir():
        return signs
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target in targets:
                signs.append(f"process {entry.name} ({_command(entry)}) has {target} open")
                break
    return signs


def _command(entry: Path) -> str:
    try:
        return (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()[:80] or "?"
    except OSError:
        return "?"


def postgres_sessions(conn: Connection) -> list[str]:
    rows = conn.execute(text(
        "SELECT pid, usename, application_name, client_addr FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
    )).all()
    return [f"PostgreSQL session {r.pid} ({r.usename}, {r.application_name or 'no application name'}, "
            f"{r.client_addr or 'local socket'}) is connected to this database" for r in rows]


def outside_signs(settings: Settings, database: Path | None) -> list[str]:
    """Every sign except PostgreSQL's, which needs the purge's own connection."""
    signs = socket_signs(settings.run_dir) + health_sign(settings.host, settings.port)
    if database is not None:
        signs += sqlite_holders(database)
    return signs
