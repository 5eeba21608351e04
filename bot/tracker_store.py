"""Rasa's tracker store and lock store, loaded by module path from endpoints.yml.

Why our own classes instead of `type: sql` / `type: redis`:
- Rasa silently keeps conversations in memory when a custom store's class cannot be imported (rasa#3243:
  `_load_from_module_name_in_endpoint_config` answers ImportError/AttributeError with an InMemoryTrackerStore), and
  its SQLTrackerStore retries a database that is down every 5 s forever. Either way nothing says that the next
  restart forgets every consent or profile form in progress. Here any failure to open the store stops Rasa with
  one message saying what to fix (`TrackerStoreUnavailable`).
- Where the store is follows from the gateway's own settings (handoff/settings.py: YCC_TRACKER_STORE_URL, else
  beside YCC_DATABASE_URL), read from the same environment and `.env`. `ycc export` and `ycc purge` find the same
  store the same way, and Rasa's `${VAR}` in endpoints.yml cannot express such a default (an unset variable is an
  error there).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore

log = logging.getLogger(__name__)

CONNECT_WAIT_S = 10.0  # a database that is still starting gets this long; then Rasa stops instead of waiting
HINT = "README, Configuration: YCC_TRACKER_STORE_URL, YCC_TRACKER_STORE_SCHEMA"


class TrackerStoreUnavailable(SystemExit):
    """Stops Rasa at start-up (a SystemExit: Sanic's listener and Rasa's fallbacks catch Exception, not this).

    Rasa exits with status 1 and its last line of output is this message."""

    def __init__(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)  # first too, before Sanic's traceback
        super().__init__(message)


def _dotenv(path: Path) -> dict[str, str]:
    """`.env` the way the gateway reads it (python-dotenv is not in the bot's venv): KEY=VALUE lines, `#` comments,
    an optional `export `, optional matching quotes."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


def environment() -> dict[str, str]:
    from handoff.settings import ROOT

    return {**_dotenv(ROOT / ".env"), **os.environ}


def sync_url(url: str, schema: str) -> str:
    """The gateway's async URL for Rasa's synchronous SQLAlchemy: psycopg2 or the standard sqlite3 module."""
    if url.startswith("postgresql+asyncpg://"):
        base = "postgresql+psycopg2://" + url[len("postgresql+asyncpg://") :]
        joiner = "&" if "?" in base else "?"
        return f"{base}{joiner}connect_timeout=5&options=-csearch_path%3D{schema}"
    if url.startswith("sqlite+aiosqlite:///"):
        return "sqlite:///" + url[len("sqlite+aiosqlite:///") :]
    raise TrackerStoreUnavailable(f"Rasa: unsupported tracker store URL {url.split('://')[0]}://… ({HINT})")


def tracker_location(env: Mapping[str, str]) -> tuple[str, str]:
    """(async URL, schema) from the gateway's settings; a configuration error stops Rasa with its message."""
    from handoff.settings import Settings, SettingsError

    try:
        settings = Settings.from_mapping(env)
    except SettingsError as exc:
        raise TrackerStoreUnavailable(f"Rasa: configuration error: {exc}") from None
    if not settings.tracker_store_url:
        raise TrackerStoreUnavailable(f"Rasa: no tracker store: the database is in memory, nothing to sit beside "
                                      f"({HINT})")
    return settings.tracker_store_url, settings.tracker_store_schema


def _shown(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).set(query={}).render_as_string(hide_password=True)


def prepare(url: str, schema: str, wait: float = CONNECT_WAIT_S) -> None:
    """Reach the store once, within `wait` seconds, and make what Rasa's table creation needs: the SQLite file
    (0600, its directory 0700: it holds young people's own words) or the PostgreSQL schema."""
    import sqlalchemy as sa

    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                with engine.begin() as conn:
                    if engine.dialect.name == "postgresql":
                        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                    else:
                        conn.execute(sa.text("SELECT 1"))
                return
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                if time.monotonic() >= deadline:
                    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
                    raise TrackerStoreUnavailable(
                        f"Rasa cannot reach its tracker store at {_shown(url)} ({reason}); Rasa does not start, "
                        "because without it every conversation in progress would be forgotten at the next restart. "
                        f"Start the database or correct the setting; {HINT}."
                    ) from None
                time.sleep(1.0)
            except sa.exc.SQLAlchemyError as exc:
                raise TrackerStoreUnavailable(
                    f"Rasa cannot use its tracker store at {_shown(url)} ({type(exc).__name__}: "
                    f"{str(getattr(exc, 'orig', exc)).strip().splitlines()[0]}); Rasa does not start ({HINT})."
                ) from None
    finally:
        engine.dispose()


class TrackerStoreFailure(BaseException):
    """The store failed during a turn. Not an Exception on purpose: Rasa wraps every tracker store in a
    FailSafeTrackerStore that answers any Exception with an empty tracker (retrieve: the user would be greeted as
    new, mid-form) or a save to memory (lost at the next restart). This one gets through it: the turn fails, Sanic
    drops the connection (the process stays up), and the gateway keeps the message and tries again later. It
    carries no SQL and no parameters, which hold the user's words."""


class GatewayTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store at the place the gateway's settings name, or no Rasa at all."""

    def __init__(self, domain: Any = None, host: str | None = None, event_broker: Any = None, **kwargs: Any) -> None:
        try:
            if host or kwargs:
                raise TrackerStoreUnavailable(
                    "Rasa: endpoints.yml gives the tracker store settings of its own; remove them and set "
                    f"YCC_TRACKER_STORE_URL instead, so `ycc export` and `ycc purge` find the same store ({HINT})"
                )
            url, schema = tracker_location(environment())
            url = sync_url(url, schema)
            prepare(url, schema)
            super().__init__(domain=domain, host=url, event_broker=event_broker)
            self._reconnecting(url)
        except TrackerStoreUnavailable:
            raise
        except Exception as exc:  # an ImportError here would otherwise become Rasa's in-memory store
            raise TrackerStoreUnavailable(f"Rasa cannot open its tracker store: {type(exc).__name__}: {exc}") from exc
        log.info("tracker store: %s", _shown(url))

    def _reconnecting(self, url: str) -> None:
        """The same engine with pool_pre_ping, so a restarted database costs a reconnect, not a failed turn."""
        import sqlalchemy as sa
        from rasa.core.tracker_store import create_engine_kwargs

        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _loud(self, call: Any, *args: Any) -> Any:
        import sqlalchemy as sa

        try:
            return await call(*args)
        except sa.exc.SQLAlchemyError as exc:
            log.error("tracker store failed: %s; the turn fails, the gateway retries it", type(exc).__name__)
            raise TrackerStoreFailure(f"tracker store failed: {type(exc).__name__}") from None

    async def retrieve(self, sender_id: str) -> Any:
        return await self._loud(super().retrieve, sender_id)

    async def retrieve_full_tracker(self, conversation_id: str) -> Any:
        return await self._loud(super().retrieve_full_tracker, conversation_id)

    async def save(self, tracker: Any) -> None:
        await self._loud(super().save, tracker)

    async def keys(self) -> Any:
        return await self._loud(super().keys)


MUTEX_SECONDS = 5.0  # how long one read-modify-write of a ticket lock may hold its conversation's mutex


class GatewayLockStore(LockStore):
    """In memory (one Rasa process) unless YCC_RASA_LOCK_STORE_URL names a Redis (`redis://host:6379/1`,
    `rediss://` for TLS): then Rasa processes sharing it serve one conversation's messages one at a time.
    A Redis that does not answer at start stops Rasa like an unreachable tracker store.

    Why the mutex (rasa#9213): Rasa's ticket lock lives in Redis as one serialised blob that every step reads,
    changes and writes back (issue a ticket, drop expired ones, finish, clean up). Two Rasa processes that issue a
    ticket for one conversation at the same moment can both read "no tickets", both take ticket 0 and both go ahead;
    or one deletes the blob while the other has just added its ticket. Each of those steps here runs under a short
    per-conversation Redis lock (SET NX with an expiry), so they happen one after the other. In memory, one process
    runs each step without awaiting, so nothing can come between."""

    def __init__(self, endpoint_config: Any = None) -> None:
        super().__init__()
        url = environment().get("YCC_RASA_LOCK_STORE_URL", "").strip()
        self.delegate: LockStore = InMemoryLockStore() if not url else self._redis(url)
        log.info("lock store: %s", type(self.delegate).__name__)

    @staticmethod
    def _redis(url: str) -> RedisLockStore:
        from urllib.parse import urlsplit

        import redis

        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise TrackerStoreUnavailable(f"Rasa: YCC_RASA_LOCK_STORE_URL must be a redis:// or rediss:// URL, got "
                                          f"{parts.scheme}://…")
        store = RedisLockStore(
            host=parts.hostname or "localhost", port=parts.port or 6379, db=int(parts.path.strip("/") or 1),
            username=parts.username or None, password=parts.password or None, use_ssl=parts.scheme == "rediss",
            key_prefix="ycc",
        )
        try:
            store.red.ping()
        except redis.exceptions.RedisError as exc:
            raise TrackerStoreUnavailable(
                f"Rasa cannot reach its lock store at {parts.scheme}://{parts.hostname}:{parts.port or 6379} "
                f"({type(exc).__name__}); Rasa does not start (README, Configuration: YCC_RASA_LOCK_STORE_URL)."
            ) from None
        return store

    def get_lock(self, conversation_id: str) -> Any:
        return self.delegate.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.delegate.delete_lock(conversation_id)

    def save_lock(self, lock: Any) -> None:
        self.delegate.save_lock(lock)

    def _mutex(self, conversation_id: str) -> Any:
        red = getattr(self.delegate, "red", None)
        if red is None:
            return contextlib.nullcontext()
        return red.lock(f"ycc:mutex:{conversation_id}", timeout=MUTEX_SECONDS, blocking_timeout=MUTEX_SECONDS)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish the ticket and delete the lock if no one waits, as one step (Rasa's are two)."""
        with self._mutex(conversation_id):
            lock = self.get_lock(conversation_id)
            if lock is None:
                return
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                self.save_lock(lock)
            else:
                self.delete_lock(conversation_id)
