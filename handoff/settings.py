"""Settings parsed once from the environment (and `.env`), validated at start-up.

Nothing else in the gateway reads `os.environ`: the app factory receives a `Settings` and hangs it on `app.ctx`,
so tests build their own without touching the process environment.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from handoff.settings_values import (
    LOG_FORMATS,
    MIN_SECRET_LENGTH,
    SHARED_SECRETS,
    WORKER_MODES,
    SettingsError,
    add_friend_url,
    contact_keys_of,
    env_choice,
    env_confidence,
    env_float,
    env_int,
    env_secret,
    env_url,
    first_admin_of,
    secure_chat_settings,
    worker_mode_for,
)

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"


def normalise_database_url(url: str) -> str:
    """Accept the URLs operators write and pick the async driver the gateway needs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise SettingsError(f"YCC_DATABASE_URL must be a postgresql:// or sqlite:/// URL, got {url.split('://')[0]}://…")


# Rasa's tracker store (bot/tracker_store.py) and `ycc export` / `ycc purge` (handoff/lifecycle/trackers.py) both
# find it from these settings, so the bot and the lifecycle commands can never look at two different stores. Rasa
# imports this module under Python 3.10: keep it standard library only and free of 3.11-only syntax.
TRACKER_SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def default_tracker_store_url(database_url: str) -> str:
    """Next to the gateway's own data: on SQLite a file beside its database (`ycc.sqlite3` → `ycc-trackers.sqlite3`),
    on PostgreSQL the same database (the tracker tables live in their own schema, YCC_TRACKER_STORE_SCHEMA).
    An in-memory SQLite database (tests) has no file to sit beside: "" (no tracker store configured)."""
    if database_url.startswith("sqlite+aiosqlite:///"):
        path = database_url[len("sqlite+aiosqlite:///") :]
        if not path or path == ":memory:":
            return ""
        file = Path(path)
        suffix = file.suffix or ".sqlite3"
        return f"sqlite+aiosqlite:///{file.with_name(f'{file.stem}-trackers{suffix}')}"
    return "" if database_url.startswith("sqlite") else database_url


def _tracker_store(env: Mapping[str, str], database_url: str) -> tuple[str, str]:
    raw = env.get("YCC_TRACKER_STORE_URL", "").strip()
    try:
        url = normalise_database_url(raw) if raw else default_tracker_store_url(database_url)
    except SettingsError:
        raise SettingsError(
            f"YCC_TRACKER_STORE_URL must be a postgresql:// or sqlite:/// URL, got {raw.split('://')[0]}://…"
        ) from None
    schema = env.get("YCC_TRACKER_STORE_SCHEMA", "").strip() or "rasa"
    if not TRACKER_SCHEMA.fullmatch(schema):
        raise SettingsError(
            f"YCC_TRACKER_STORE_SCHEMA must be a lower-case PostgreSQL schema name (letters, digits, _), got {schema!r}"
        )
    return url, schema if url.startswith("postgresql") else ""


@dataclass(frozen=True)
class Settings:
    line_channel_secret: str = ""
    line_channel_access_token: str = ""
    line_api_base_url: str = "https://api.line.me"
    line_data_api_base_url: str = "https://api-data.line.me"
    database_url: str = f"sqlite+aiosqlite:///{ROOT / 'var' / 'ycc.sqlite3'}"
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    rasa_url: str = "http://127.0.0.1:5005"
    action_server_url: str = "http://127.0.0.1:5055"
    rasa_timeout: float = 6.0
    # Rasa's breaker (handoff/pipeline/rasa.py): opens after this many failed turns in a row, probes after the cooldown.
    rasa_breaker_failures: int = 3
    rasa_breaker_cooldown: float = 5.0
    lines: int = 1
    # The bot's crisis intent alone flags `concern` only from this confidence on: at Rasa's fallback threshold
    # (0.45) it put 17.9 % of harmless dev-set messages in front of a counsellor, at 0.8 7.7 %
    # (docs/decisions/0002-safety-screen.md).
    nlu_concern_min_confidence: float = 0.8
    alert_webhook_url: str = ""
    internal_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # One secret per hop (README, Security): gateway → Rasa, Rasa → action server; `make run` makes both per start.
    rasa_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    actions_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # Fernet keys sealing crisis contact details at rest, newest first (handoff/domain/contact_details.py).
    contact_keys: tuple[str, ...] = ()
    redis_url: str = ""
    # Rasa's conversation state (README, Configuration); left empty, both follow database_url (__post_init__).
    tracker_store_url: str = ""
    tracker_store_schema: str = ""
    data_dir: Path = DATA_DIR
    session_idle_seconds: int = 1800
    session_max_seconds: int = 43200  # absolute console session lifetime, whatever the activity
    login_delay_seconds: float = 1.0  # first wait after repeated wrong passwords from one source (console/throttle.py)
    first_admin: str = "admin"  # the account `make run` creates on an empty database
    worker_poll_seconds: float = 0.5
    outbox_max_attempts: int = 8
    send_lease_seconds: float = 15.0
    worker_mode: str = "inline"
    worker_nice: int = 10
    # Several `ycc serve` processes on one YCC_PORT (SO_REUSEPORT; `make run-prod`, deploy/): needs Redis for the
    # consoles' live events and one separate `ycc worker` (YCC_WORKER=off), so each user's events stay in order.
    reuse_port: bool = False
    run_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "ycc-8080")
    # /metrics (handoff/http/metrics.py): a bearer token; without one only loopback clients that no proxy forwarded.
    metrics_token: str = ""
    # Where every process of one gateway (web processes, worker) writes its counters, summed at each scrape.
    metrics_dir: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "ycc-8080" / "metrics")
    log_format: str = "text"  # text | json (one JSON object per line: time, level, logger, message)
    # The LINE official account's add-friend link (https://lin.ee/… or https://line.me/R/ti/p/@…): /about and the
    # poster show it and its QR code (issue 17 item 4); empty, they say the link is being prepared.
    line_add_friend_url: str = ""
    # The secure chat off LINE (issue 16, handoff/domain/securechat.py): how long a link may wait to be opened, how
    # long a browser session lasts idle and at most, and guideline mode (every consultation in the secure chat).
    secure_chat_url: str = ""  # where users' phones reach /secure/ (the public name); empty: public_url
    secure_link_minutes: int = 30
    secure_session_idle_seconds: int = 1800
    secure_session_max_seconds: int = 14400
    secure_chat_only: bool = False

    def __post_init__(self) -> None:
        if not self.tracker_store_url:
            object.__setattr__(self, "tracker_store_url", default_tracker_store_url(self.database_url))
        if self.tracker_store_url.startswith("postgresql") and not self.tracker_store_schema:
            object.__setattr__(self, "tracker_store_schema", "rasa")

    def serving_problem(self) -> str | None:
        """Why `ycc serve` must not start with these settings, or None. Only the web app needs this (other commands
        such as `ycc richmenu deploy` run with LINE credentials and no use for the key)."""
        real_line = not self.simulator and self.line_channel_secret != SIMULATOR_CHANNEL_SECRET  # run-prod's fake
        if real_line and not self.contact_keys:
            return ("YCC_CONTACT_KEYS is required with LINE credentials: a counsellor in a crisis must be able to "
                    "ask for contact details, and they are only ever stored sealed with it. Make a key with "
                    "`ycc contacts new-key` and keep it apart from the backups.")
        return None

    @property
    def simulator(self) -> bool:
        """No LINE credentials: the built-in fake LINE platform stands in for LINE."""
        return not (self.line_channel_secret and self.line_channel_access_token)

    @property
    def effective_channel_secret(self) -> str:
        return self.line_channel_secret or SIMULATOR_CHANNEL_SECRET

    @property
    def effective_access_token(self) -> str:
        return self.line_channel_access_token or SIMULATOR_ACCESS_TOKEN

    @property
    def effective_line_api_base_url(self) -> str:
        if self.simulator:
            return f"http://{self.host}:{self.port}/simulator/line"
        return self.line_api_base_url

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> Settings:
        """Read the environment once; `.env` fills what the real environment leaves unset."""
        merged: dict[str, str] = {}
        dotenv = dotenv if dotenv is not None else ROOT / ".env"
        if dotenv.exists():
            from dotenv import dotenv_values

            merged.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
        merged.update(os.environ if env is None else env)
        return cls.from_mapping(merged)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Settings:
        secret = env.get("LINE_CHANNEL_SECRET", "").strip()
        token = env.get("LINE_CHANNEL_ACCESS_TOKEN", "").strip()
        if bool(secret) != bool(token):
            raise SettingsError(
                "Set both LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN (LINE mode) "
                "or neither (simulator mode); only one is set."
            )
        host = env.get("YCC_HOST", "").strip() or "127.0.0.1"
        port = env_int(env, "YCC_PORT", 8080, minimum=1)
        default_db = f"sqlite:///{ROOT / 'var' / 'ycc.sqlite3'}"
        database_url = normalise_database_url(env.get("YCC_DATABASE_URL", "").strip() or default_db)
        run_dir = Path(env.get("YCC_RUN_DIR", "").strip() or Path(tempfile.gettempdir()) / f"ycc-{port}")
        kwargs: dict[str, object] = dict(
            line_channel_secret=secret,
            line_channel_access_token=token,
            line_api_base_url=env_url(env, "LINE_API_BASE_URL", "https://api.line.me"),
            line_data_api_base_url=env_url(env, "LINE_DATA_API_BASE_URL", "https://api-data.line.me"),
            database_url=database_url,
            host=host,
            port=port,
            public_url=env_url(env, "YCC_PUBLIC_URL", f"http://{host}:{port}"),
            rasa_url=env_url(env, "YCC_RASA_URL", "http://127.0.0.1:5005"),
            action_server_url=env_url(env, "YCC_ACTION_SERVER_URL", "http://127.0.0.1:5055"),
            rasa_timeout=env_float(env, "YCC_RASA_TIMEOUT", 6.0),
            rasa_breaker_failures=env_int(env, "YCC_RASA_BREAKER_FAILURES", 3, minimum=1),
            rasa_breaker_cooldown=env_float(env, "YCC_RASA_BREAKER_COOLDOWN", 5.0),
            lines=env_int(env, "YCC_LINES", 1, minimum=1),
            nlu_concern_min_confidence=env_confidence(env, "YCC_NLU_CONCERN_MIN_CONFIDENCE", 0.8),
            alert_webhook_url=(
                env_url(env, "YCC_ALERT_WEBHOOK_URL", "http://unset") if env.get("YCC_ALERT_WEBHOOK_URL") else ""
            ),
            redis_url=env.get("YCC_REDIS_URL", "").strip(),
            session_idle_seconds=env_int(env, "YCC_SESSION_IDLE_SECONDS", 1800, minimum=60),
            session_max_seconds=env_int(env, "YCC_SESSION_MAX_SECONDS", 43200, minimum=300),
            login_delay_seconds=env_float(env, "YCC_LOGIN_DELAY_SECONDS", 1.0),
            first_admin=first_admin_of(env),
            worker_poll_seconds=env_float(env, "YCC_WORKER_POLL_SECONDS", 0.5),
            outbox_max_attempts=env_int(env, "YCC_OUTBOX_MAX_ATTEMPTS", 8, minimum=1),
            send_lease_seconds=env_float(env, "YCC_SEND_LEASE_SECONDS", 15.0),
            worker_mode=worker_mode_for(env_choice(env, "YCC_WORKER", WORKER_MODES), database_url),
            worker_nice=env_int(env, "YCC_WORKER_NICE", 10, minimum=0, maximum=19),
            reuse_port=env_int(env, "YCC_REUSE_PORT", 0, minimum=0, maximum=1) == 1,
            # Where the web process and the worker find each other's wake-up sockets; one per gateway port.
            run_dir=run_dir,
            metrics_dir=Path(env.get("YCC_METRICS_DIR", "").strip() or run_dir / "metrics"),
            log_format=env_choice(env, "YCC_LOG_FORMAT", LOG_FORMATS),
        )
        if kwargs["reuse_port"] and (not kwargs["redis_url"] or kwargs["worker_mode"] != "off"):
            raise SettingsError(
                "YCC_REUSE_PORT=1 runs several web processes on one port: it needs YCC_REDIS_URL (so a counsellor's "
                "live updates reach them whichever process they are connected to) and YCC_WORKER=off with one "
                "`ycc worker` running beside them (so each user's events are handled once, in order)."
            )
        kwargs.update(secure_chat_settings(env, secret=bool(secret), public_url=str(kwargs["public_url"])))
        kwargs["tracker_store_url"], kwargs["tracker_store_schema"] = _tracker_store(env, database_url)
        for name, key in SHARED_SECRETS.items():
            if env.get(name, "").strip():
                kwargs[key] = env_secret(env, name)
        metrics_token = env.get("YCC_METRICS_TOKEN", "").strip()
        if metrics_token and len(metrics_token) < MIN_SECRET_LENGTH:
            raise SettingsError(f"YCC_METRICS_TOKEN must be a random secret of at least {MIN_SECRET_LENGTH} "
                                f"characters, got {len(metrics_token)}; unset, /metrics answers loopback only")
        kwargs["metrics_token"] = metrics_token
        kwargs["line_add_friend_url"] = add_friend_url(env)
        if env.get("YCC_SECRET_KEY", "").strip():
            kwargs["secret_key"] = env["YCC_SECRET_KEY"].strip()
        kwargs["contact_keys"] = contact_keys_of(env)
        if env.get("YCC_DATA_DIR", "").strip():
            kwargs["data_dir"] = Path(env["YCC_DATA_DIR"].strip())
        return cls(**kwargs)  # type: ignore[arg-type]


# Known values so the simulator's signed webhooks verify; never valid on real LINE.
SIMULATOR_CHANNEL_SECRET = "simulator-channel-secret"
SIMULATOR_ACCESS_TOKEN = "simulator-access-token"


def settings_or_exit() -> Settings:
    """What every command line (`ycc`, the console's commands) starts with: the settings, or a clear message, exit 2."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(f"ycc: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
