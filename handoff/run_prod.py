"""`make run-prod`: locally, the processes a real host runs (deploy/): PostgreSQL and Redis from YCC_DATABASE_URL and
YCC_REDIS_URL, two gateway web processes sharing one port, one worker, Rasa and the action server.

Why a profile of `make run` and not a second launcher: the same supervisor starts, watches and stops everything, so
the two commands differ only in which processes they start. Without LINE credentials the fake LINE platform runs as
its own process (an in-process one would exist twice, once in each web process, each with its own users).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from handoff.settings import ROOT, SIMULATOR_ACCESS_TOKEN, SIMULATOR_CHANNEL_SECRET, Settings

WEB_PROCESSES = 2
FAKE_LINE_PORT = 8090
# This machine's PostgreSQL and Redis, where neither the environment nor .env names others.
DEFAULTS = {"YCC_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/ycc", "YCC_REDIS_URL": "redis://127.0.0.1:6379/0"}


class ProdError(RuntimeError):
    """What is missing for run-prod, in words an operator can act on."""


@dataclass
class ProdPlan:
    """Extra environment for every gateway process, and the processes to start: (name, argv, readiness URL)."""

    env: dict[str, str] = field(default_factory=dict)
    processes: list[tuple[str, list[str], str | None]] = field(default_factory=list)
    simulator_url: str | None = None


class Restarts:
    """A process that dies is started again, as systemd's `Restart=always` does on a host (deploy/), unless it died
    RESTART_LIMIT times within RESTART_WINDOW seconds (systemd's StartLimitBurst): then it is broken, not unlucky."""

    RESTART_LIMIT = 5
    RESTART_WINDOW = 60.0

    def __init__(self) -> None:
        self._times: dict[str, list[float]] = {}

    def allow(self, name: str, now: float) -> bool:
        recent = [t for t in self._times.get(name, []) if now - t < self.RESTART_WINDOW]
        if len(recent) >= self.RESTART_LIMIT:
            return False
        self._times[name] = [*recent, now]
        return True


def apply_defaults(environ: MutableMapping[str, str], dotenv: Path = ROOT / ".env") -> None:
    """Fill DEFAULTS into the environment for what neither it nor .env sets (.env is read as Settings reads it)."""
    given = set(environ)
    if dotenv.exists():
        from dotenv import dotenv_values

        given |= {k for k, v in dotenv_values(dotenv).items() if v}
    for name, value in DEFAULTS.items():
        if name not in given:
            environ[name] = value


def check_services(settings: Settings) -> None:
    """Fail before starting anything when PostgreSQL or Redis is not there, rather than five processes later."""
    if not settings.database_url.startswith("postgresql"):
        raise ProdError("run-prod runs on PostgreSQL: set YCC_DATABASE_URL=postgresql://user@host:5432/dbname")
    if not settings.redis_url:
        raise ProdError("run-prod needs Redis for the consoles' live updates: set YCC_REDIS_URL=redis://host:6379/0")
    _ensure_database(settings.database_url)
    redis = urlparse(settings.redis_url)
    try:
        with socket.create_connection((redis.hostname or "127.0.0.1", redis.port or 6379), timeout=3) as conn:
            conn.sendall(b"PING\r\n")
            if not conn.recv(16).startswith(b"+PONG"):
                raise ProdError(f"Redis at {redis.hostname}:{redis.port} did not answer PING (a password? see README)")
    except OSError as exc:
        raise ProdError(f"Redis at {redis.hostname}:{redis.port or 6379} cannot be reached ({exc.strerror})") from None


def _ensure_database(url: str) -> None:
    """Connect; on a reachable server without the database, create it (an empty database is all `ycc migrate` needs)."""
    asyncio.run(_ensure_database_async(url))


async def _ensure_database_async(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    from handoff.store.db import new_engine

    engine = new_engine(url, poolclass=NullPool)
    try:
        async with engine.connect():
            return
    except DBAPIError as exc:
        if "does not exist" not in str(exc.orig):
            raise ProdError(f"PostgreSQL cannot be reached: {str(exc.orig).strip().splitlines()[0]}") from None
    except OSError as exc:
        raise ProdError(f"PostgreSQL cannot be reached ({exc.strerror})") from None
    finally:
        await engine.dispose()
    name = urlparse(url).path.lstrip("/")
    admin = new_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        print(f"  created the empty database {name}", flush=True)
    except DBAPIError as exc:
        reason = type(exc.orig).__name__
        raise ProdError(f"database {name} does not exist and could not be created ({reason})") from None
    finally:
        await admin.dispose()


def plan(settings: Settings, base_env: Mapping[str, str]) -> ProdPlan:
    """The worker and the web processes (and the fake LINE when there are no LINE credentials)."""
    ycc = str(ROOT / ".venv" / "bin" / "ycc")
    result = ProdPlan(env={"YCC_WORKER": "off", "YCC_REUSE_PORT": "1", "YCC_RUN_DIR": str(settings.run_dir)})
    if settings.simulator:
        port = int(base_env.get("YCC_FAKE_LINE_PORT", "") or FAKE_LINE_PORT)
        fake_url = f"http://127.0.0.1:{port}"
        result.env.update(
            LINE_CHANNEL_SECRET=SIMULATOR_CHANNEL_SECRET,
            LINE_CHANNEL_ACCESS_TOKEN=SIMULATOR_ACCESS_TOKEN,
            LINE_API_BASE_URL=fake_url,
        )
        fake = [
            str(ROOT / ".venv" / "bin" / "python"), "-m", "handoff.simulator.main", "--port", str(port),
            "--secret", SIMULATOR_CHANNEL_SECRET, "--token", SIMULATOR_ACCESS_TOKEN,
            "--webhook-url", f"http://{settings.host}:{settings.port}/line/webhook",
        ]
        result.processes.append(("fake LINE", fake, f"{fake_url}/simulator/"))
        result.simulator_url = f"{fake_url}/simulator/"
    result.processes.append(("worker", [ycc, "worker"], None))
    health = f"http://{settings.host}:{settings.port}/healthz"  # one port: whichever process answers
    for n in range(1, WEB_PROCESSES + 1):
        result.processes.append((f"web {n}", [ycc, "serve", "--no-migrate"], health if n == 1 else None))
    return result

