"""Settings parsed once from the environment (and `.env`), validated at start-up.

Nothing else in the gateway reads `os.environ`: the app factory receives a `Settings` and hangs it on `app.ctx`,
so tests build their own without touching the process environment.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"


class SettingsError(ValueError):
    """Raised with a message an operator can act on without reading code."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise SettingsError(f"{name} must be at most {maximum}, got {value}")
    return value


def _confidence(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SettingsError(f"{name} must be a number between 0 and 1, got {raw!r}") from None
    if not 0 <= value <= 1:
        raise SettingsError(f"{name} must be between 0 and 1, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


# process: `ycc serve` starts `ycc worker` as its child; inline: one process does both; off: the operator runs
# `ycc worker` separately (e.g. its own systemd unit). auto: process on PostgreSQL, inline on SQLite, because SQLite
# has one writer and two processes taking turns through its busy handler were slower than one process taking turns
# in asyncio (bench/bench_pipeline.py: ack p99 at 300 events/s ≈ 0.5 s vs ≈ 0.1 s; PostgreSQL process ≈ 15 ms).
WORKER_MODES = ("auto", "process", "inline", "off")
LOG_FORMATS = ("text", "json")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or choices[0]
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _worker_mode(mode: str, database_url: str) -> str:
    if mode != "auto":
        return mode
    return "process" if database_url.startswith("postgresql") else "inline"


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must start with http:// or https://, got {value!r}")
    return value.rstrip("/")


def _add_friend_url(env: Mapping[str, str]) -> str:
    value = env.get("YCC_LINE_ADD_FRIEND_URL", "").strip()
    if value and (not value.startswith("https://") or any(c.isspace() for c in value) or len(value) > 300):
        raise SettingsError("YCC_LINE_ADD_FRIEND_URL must be the account's https:// add-friend link from LINE "
                            f"Official Account Manager (e.g. https://lin.ee/AbCdEfG), got {value!r}")
    return value


# The secrets the three processes authenticate each other with: environment variable → Settings field.
SHARED_SECRETS = {
    "YCC_INTERNAL_TOKEN": "internal_token",  # action server → gateway internal API
    "YCC_RASA_TOKEN": "rasa_token",  # gateway → Rasa (bot/channels/gateway.py)
    "YCC_ACTIONS_TOKEN": "actions_token",  # Rasa → action server (actions/server.py)
}
MIN_SECRET_LENGTH = 16


def _secret(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if len(value) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"{name} must be a random secret of at least {MIN_SECRET_LENGTH} characters, got {len(value)}; "
            "leave it unset under `make run`, which makes one per start"
        )
    return value


def _first_admin(env: Mapping[str, str]) -> str:
    """YCC_FIRST_ADMIN: an operator-chosen name, so the first administrator is not the well-known `admin`."""
    name = env.get("YCC_FIRST_ADMIN", "").strip() or "admin"
    if len(name) > 64 or not name.isprintable() or " " in name:
        raise SettingsError(f"YCC_FIRST_ADMIN must be a login name (at most 64 characters, no spaces), got {name!r}")
    return name


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


def _secure_chat(env: Mapping[str, str], *, secret: bool, public_url: str) -> dict[str, object]:
    """The secure chat's settings. Its links point at YCC_SECURE_CHAT_URL, by default YCC_PUBLIC_URL (behind nginx
    the console's name is for the office only, so deploy/ sets the public name). Guideline mode sends every
    consultation through those links, so with real LINE the URL must be https: the link's token and the cookie it
    sets would otherwise cross the net in clear."""
    public_url = _url(env, "YCC_SECURE_CHAT_URL", public_url)
    values: dict[str, object] = dict(
        secure_chat_url=public_url,
        secure_link_minutes=_int(env, "YCC_SECURE_LINK_MINUTES", 30, minimum=1, maximum=1440),
        secure_session_idle_seconds=_int(env, "YCC_SECURE_SESSION_IDLE_SECONDS", 1800, minimum=60),
        secure_session_max_seconds=_int(env, "YCC_SECURE_SESSION_MAX_SECONDS", 14400, minimum=300),
        secure_chat_only=_int(env, "YCC_SECURE_CHAT_ONLY", 0, minimum=0, maximum=1) == 1,
    )
    if values["secure_session_idle_seconds"] > values["secure_session_max_seconds"]:  # type: ignore[operator]
        raise SettingsError("YCC_SECURE_SESSION_IDLE_SECONDS must not be longer than YCC_SECURE_SESSION_MAX_SECONDS")
    if values["secure_chat_only"] and secret and not public_url.startswith("https://"):
        raise SettingsError(
            "YCC_SECURE_CHAT_ONLY=1 with LINE credentials needs an https:// YCC_SECURE_CHAT_URL (or YCC_PUBLIC_URL): "
            f"the secure chat's links and cookies must not travel in clear; got {public_url!r}"
        )
    return values


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
        port = _int(env, "YCC_PORT", 8080, minimum=1)
        default_db = f"sqlite:///{ROOT / 'var' / 'ycc.sqlite3'}"
        database_url = normalise_database_url(env.get("YCC_DATABASE_URL", "").strip() or default_db)
        run_dir = Path(env.get("YCC_RUN_DIR", "").strip() or Path(tempfile.gettempdir()) / f"ycc-{port}")
        kwargs: dict[str, object] = dict(
            line_channel_secret=secret,
            line_channel_access_token=token,
            line_api_base_url=_url(env, "LINE_API_BASE_URL", "https://api.line.me"),
            line_data_api_base_url=_url(env, "LINE_DATA_API_BASE_URL", "https://api-data.line.me"),
            database_url=database_url,
            host=host,
            port=port,
            public_url=_url(env, "YCC_PUBLIC_URL", f"http://{host}:{port}"),
            rasa_url=_url(env, "YCC_RASA_URL", "http://127.0.0.1:5005"),
            action_server_url=_url(env, "YCC_ACTION_SERVER_URL", "http://127.0.0.1:5055"),
            rasa_timeout=_float(env, "YCC_RASA_TIMEOUT", 6.0),
            rasa_breaker_failures=_int(env, "YCC_RASA_BREAKER_FAILURES", 3, minimum=1),
            rasa_breaker_cooldown=_float(env, "YCC_RASA_BREAKER_COOLDOWN", 5.0),
            lines=_int(env, "YCC_LINES", 1, minimum=1),
            nlu_concern_min_confidence=_confidence(env, "YCC_NLU_CONCERN_MIN_CONFIDENCE", 0.8),
            alert_webhook_url=(
                _url(env, "YCC_ALERT_WEBHOOK_URL", "http://unset") if env.get("YCC_ALERT_WEBHOOK_URL") else ""
            ),
            redis_url=env.get("YCC_REDIS_URL", "").strip(),
            session_idle_seconds=_int(env, "YCC_SESSION_IDLE_SECONDS", 1800, minimum=60),
            session_max_seconds=_int(env, "YCC_SESSION_MAX_SECONDS", 43200, minimum=300),
            login_delay_seconds=_float(env, "YCC_LOGIN_DELAY_SECONDS", 1.0),
            first_admin=_first_admin(env),
            worker_poll_seconds=_float(env, "YCC_WORKER_POLL_SECONDS", 0.5),
            outbox_max_attempts=_int(env, "YCC_OUTBOX_MAX_ATTEMPTS", 8, minimum=1),
            send_lease_seconds=_float(env, "YCC_SEND_LEASE_SECONDS", 15.0),
            worker_mode=_worker_mode(_choice(env, "YCC_WORKER", WORKER_MODES), database_url),
            worker_nice=_int(env, "YCC_WORKER_NICE", 10, minimum=0, maximum=19),
            reuse_port=_int(env, "YCC_REUSE_PORT", 0, minimum=0, maximum=1) == 1,
            # Where the web process and the worker find each other's wake-up sockets; one per gateway port.
            run_dir=run_dir,
            metrics_dir=Path(env.get("YCC_METRICS_DIR", "").strip() or run_dir / "metrics"),
            log_format=_choice(env, "YCC_LOG_FORMAT", LOG_FORMATS),
        )
        if kwargs["reuse_port"] and (not kwargs["redis_url"] or kwargs["worker_mode"] != "off"):
            raise SettingsError(
                "YCC_REUSE_PORT=1 runs several web processes on one port: it needs YCC_REDIS_URL (so a counsellor's "
                "live updates reach them whichever process they are connected to) and YCC_WORKER=off with one "
                "`ycc worker` running beside them (so each user's events are handled once, in order)."
            )
        kwargs.update(_secure_chat(env, secret=bool(secret), public_url=str(kwargs["public_url"])))
        kwargs["tracker_store_url"], kwargs["tracker_store_schema"] = _tracker_store(env, database_url)
        for name, key in SHARED_SECRETS.items():
            if env.get(name, "").strip():
                kwargs[key] = _secret(env, name)
        metrics_token = env.get("YCC_METRICS_TOKEN", "").strip()
        if metrics_token and len(metrics_token) < MIN_SECRET_LENGTH:
            raise SettingsError(f"YCC_METRICS_TOKEN must be a random secret of at least {MIN_SECRET_LENGTH} "
                                f"characters, got {len(metrics_token)}; unset, /metrics answers loopback only")
        kwargs["metrics_token"] = metrics_token
        kwargs["line_add_friend_url"] = _add_friend_url(env)
        if env.get("YCC_SECRET_KEY", "").strip():
            kwargs["secret_key"] = env["YCC_SECRET_KEY"].strip()
        kwargs["contact_keys"] = _contact_keys(env)
        if env.get("YCC_DATA_DIR", "").strip():
            kwargs["data_dir"] = Path(env["YCC_DATA_DIR"].strip())
        return cls(**kwargs)  # type: ignore[arg-type]


def _contact_keys(env: Mapping[str, str]) -> tuple[str, ...]:
    """YCC_CONTACT_KEYS: comma-separated Fernet keys (url-safe base64 of 32 bytes), newest first; `ycc serve`
    requires them with real LINE (Settings.serving_problem)."""
    keys = tuple(k.strip() for k in env.get("YCC_CONTACT_KEYS", "").split(",") if k.strip())
    for i, key in enumerate(keys, 1):
        try:
            ok = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
        except (ValueError, UnicodeEncodeError):
            ok = False
        if not ok:
            raise SettingsError(f"YCC_CONTACT_KEYS: key {i} is not a Fernet key (44 characters of url-safe base64); "
                                "make one with `ycc contacts new-key`")
    return keys


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
