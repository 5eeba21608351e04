"""`ycc`: the gateway's command line (serve, migrate, hours, export, purge, and the console's user and token
commands)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handoff.settings import ROOT, Settings, settings_or_exit

SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "sanic.websockets")


class JsonLogFormatter(logging.Formatter):
    """YCC_LOG_FORMAT=json: one object per line for a log collector. The message is the same as in text logs
    (ids and kinds, never what a young person wrote); of an exception only its type and where it was raised go
    out, since its message can quote a value."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            entry["stack"] = [f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_tb(record.exc_info[2])]
        return json.dumps(entry)


def _log_setup(settings: Settings) -> None:
    """Text by default; JSON lines on the root logger, Sanic's loggers included, with YCC_LOG_FORMAT=json. Called
    again after the app is made, because Sanic gives its loggers handlers of their own then."""
    if settings.log_format == "json":
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLogFormatter())
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(logging.INFO)
        for name in SANIC_LOGGERS:
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _shared_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def _serve(args: argparse.Namespace) -> int:
    from handoff.http.metrics_dir import use_metrics_dir
    from handoff.runtime.worker_process import WorkerProcess
    from handoff.store.migrate import upgrade

    settings = settings_or_exit()
    if problem := settings.serving_problem():
        print(f"ycc serve: {problem}", file=sys.stderr)
        return 2
    _log_setup(settings)
    use_metrics_dir(settings)  # before the worker is spawned and before the app's modules import prometheus_client
    if not args.no_migrate:
        upgrade(settings.database_url)
    worker = None
    if settings.worker_mode == "process":
        worker = WorkerProcess(settings)
        worker.spawn()  # its imports overlap with the web app's below
    from handoff.app import create_app

    app = create_app(settings, worker=worker)
    _log_setup(settings)
    if settings.reuse_port:  # one of several processes on this port; the kernel spreads connections over them
        app.run(sock=_shared_socket(settings.host, settings.port), single_process=True, access_log=False, motd=False)
    else:
        app.run(host=settings.host, port=settings.port, single_process=True, access_log=False, motd=False)
    return 0


def _worker(args: argparse.Namespace) -> int:
    import asyncio

    from handoff.http.metrics_dir import use_metrics_dir

    settings = settings_or_exit()
    _log_setup(settings)
    use_metrics_dir(settings)
    from handoff.runtime.worker import run_worker

    # Acknowledging LINE goes first: in one comparison at 300 events/s on two cores (PostgreSQL), the webhook's p99
    # was 36 ms with the worker at nice 0 and 19 ms at nice 10; the worker catches up when LINE is quiet.
    os.nice(settings.worker_nice)
    asyncio.run(run_worker(settings))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from handoff.store.migrate import upgrade

    upgrade(settings_or_exit().database_url)
    print("database schema is up to date")
    return 0


def _hours(args: argparse.Namespace) -> int:
    from handoff.domain.hours import hours_command

    try:
        print(hours_command(args.at, settings_or_exit().data_dir))
    except ValueError as exc:
        print(f"ycc hours: {exc}", file=sys.stderr)
        return 2
    return 0


async def create_first_admin(settings: Settings, file: str = "") -> Path | None:
    """On a fresh database, create the first admin account so the operator can log in and add counsellors.

    Its name is YCC_FIRST_ADMIN (default `admin`): a name nobody can guess is one less thing to try passwords on.
    The credentials go to a 0600 file, not the terminal scrollback; the README says to read it once and delete it.
    """
    from sqlalchemy import func, select

    from console.users import create_user, random_password
    from handoff.store.db import Database
    from handoff.store.models import User

    db = Database(settings.database_url)
    try:
        async with db.session() as session:
            if await session.scalar(select(func.count()).select_from(User)):
                return None
            password = random_password()
            enrolment = await create_user(session, name=settings.first_admin, role="admin", password=password,
                                          actor="make run")
    finally:
        await db.close()
    path = Path(file) if file else ROOT / "var" / "first-admin.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    lines = [
        "First administrator of the console (created by `make run` on an empty database).",
        "Read this once, store it in your password manager, then delete this file.",
        f"user: {settings.first_admin}",
        f"password: {password}",
        f"TOTP secret (add to an authenticator app): {enrolment.totp_secret}",
        f"TOTP URI: {enrolment.provisioning_uri}",
        "recovery codes (each works once):",
        *[f"  {code}" for code in enrolment.recovery_codes],
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ycc", description="Young carer consultation gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gateway (webhook, workers, console)")
    serve.add_argument("--no-migrate", action="store_true", help="do not run database migrations first")
    serve.set_defaults(func=_serve)
    worker = sub.add_parser("worker", help="run only the worker (inbox, outbox, alerts); see YCC_WORKER")
    worker.set_defaults(func=_worker)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=_migrate)
    hours = sub.add_parser("hours", help="is the window open at a given time? prints one JSON line")
    hours.add_argument("--at", required=True, help="ISO 8601 time with offset, e.g. 2026-11-24T23:00:00+09:00")
    hours.set_defaults(func=_hours)
    from handoff.lifecycle.cli import add_commands as add_lifecycle_commands

    add_lifecycle_commands(sub)  # export, purge (R25)
    from handoff.lifecycle.contacts_cli import add_commands as add_contacts_commands

    add_contacts_commands(sub)  # contacts new-key, rotate-key
    from handoff.line.richmenu_cli import add_commands as add_richmenu_commands

    add_richmenu_commands(sub)  # build, deploy, discreet (issue 17.2)
    # The console ships in the same distribution: if it cannot be imported the install is broken, and `ycc user …`
    # must fail loudly rather than vanish from the help.
    from console.cli import add_commands

    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
