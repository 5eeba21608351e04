"""How one environment value is read and checked for handoff/settings.py: a number in range, a URL, a secret of
enough length, a choice, the secure chat's and the contact keys' groups. Each error names the variable and says
what a good value looks like. Kept apart so that settings.py holds what the settings are, not how each is parsed.
Rasa imports handoff.settings under Python 3.10: standard library only, no 3.11-only syntax.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping


class SettingsError(ValueError):
    """Raised with a message an operator can act on without reading code."""


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
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


def env_confidence(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SettingsError(f"{name} must be a number between 0 and 1, got {raw!r}") from None
    if not 0 <= value <= 1:
        raise SettingsError(f"{name} must be between 0 and 1, got {value}")
    return value


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
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


def env_choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or choices[0]
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def worker_mode_for(mode: str, database_url: str) -> str:
    if mode != "auto":
        return mode
    return "process" if database_url.startswith("postgresql") else "inline"


def env_url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must start with http:// or https://, got {value!r}")
    return value.rstrip("/")


def add_friend_url(env: Mapping[str, str]) -> str:
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


def env_secret(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if len(value) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"{name} must be a random secret of at least {MIN_SECRET_LENGTH} characters, got {len(value)}; "
            "leave it unset under `make run`, which makes one per start"
        )
    return value


def first_admin_of(env: Mapping[str, str]) -> str:
    """YCC_FIRST_ADMIN: an operator-chosen name, so the first administrator is not the well-known `admin`."""
    name = env.get("YCC_FIRST_ADMIN", "").strip() or "admin"
    if len(name) > 64 or not name.isprintable() or " " in name:
        raise SettingsError(f"YCC_FIRST_ADMIN must be a login name (at most 64 characters, no spaces), got {name!r}")
    return name


def secure_chat_settings(env: Mapping[str, str], *, secret: bool, public_url: str) -> dict[str, object]:
    """The secure chat's settings. Its links point at YCC_SECURE_CHAT_URL, by default YCC_PUBLIC_URL (behind nginx
    the console's name is for the office only, so deploy/ sets the public name). Guideline mode sends every
    consultation through those links, so with real LINE the URL must be https: the link's token and the cookie it
    sets would otherwise cross the net in clear."""
    public_url = env_url(env, "YCC_SECURE_CHAT_URL", public_url)
    values: dict[str, object] = dict(
        secure_chat_url=public_url,
        secure_link_minutes=env_int(env, "YCC_SECURE_LINK_MINUTES", 30, minimum=1, maximum=1440),
        secure_session_idle_seconds=env_int(env, "YCC_SECURE_SESSION_IDLE_SECONDS", 1800, minimum=60),
        secure_session_max_seconds=env_int(env, "YCC_SECURE_SESSION_MAX_SECONDS", 14400, minimum=300),
        secure_chat_only=env_int(env, "YCC_SECURE_CHAT_ONLY", 0, minimum=0, maximum=1) == 1,
    )
    if values["secure_session_idle_seconds"] > values["secure_session_max_seconds"]:  # type: ignore[operator]
        raise SettingsError("YCC_SECURE_SESSION_IDLE_SECONDS must not be longer than YCC_SECURE_SESSION_MAX_SECONDS")
    if values["secure_chat_only"] and secret and not public_url.startswith("https://"):
        raise SettingsError(
            "YCC_SECURE_CHAT_ONLY=1 with LINE credentials needs an https:// YCC_SECURE_CHAT_URL (or YCC_PUBLIC_URL): "
            f"the secure chat's links and cookies must not travel in clear; got {public_url!r}"
        )
    return values


def contact_keys_of(env: Mapping[str, str]) -> tuple[str, ...]:
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
