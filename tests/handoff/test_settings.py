"""Settings are read once and refused at start-up with a message an operator can act on."""

from __future__ import annotations

import pytest

from handoff.settings import Settings, SettingsError

PG = "postgresql://ycc@db.example:5432/ycc"


def test_worker_runs_in_its_own_process_on_postgresql_and_inline_on_sqlite() -> None:
    assert Settings.from_mapping({"YCC_DATABASE_URL": PG}).worker_mode == "process"
    assert Settings.from_mapping({"YCC_DATABASE_URL": "sqlite:///var/x.sqlite3"}).worker_mode == "inline"
    assert Settings.from_mapping({}).worker_mode == "inline"  # the default database is SQLite
    assert Settings.from_mapping({"YCC_WORKER": "process"}).worker_mode == "process"
    assert Settings.from_mapping({"YCC_WORKER": "OFF", "YCC_DATABASE_URL": PG}).worker_mode == "off"


def test_worker_settings_are_validated() -> None:
    with pytest.raises(SettingsError, match="YCC_WORKER must be one of auto, process, inline, off"):
        Settings.from_mapping({"YCC_WORKER": "threads"})
    with pytest.raises(SettingsError, match="YCC_WORKER_NICE must be at most 19"):
        Settings.from_mapping({"YCC_WORKER_NICE": "20"})
    assert Settings.from_mapping({"YCC_WORKER_NICE": "0"}).worker_nice == 0


def test_run_dir_is_per_port_so_two_gateways_on_one_host_do_not_share_sockets() -> None:
    a = Settings.from_mapping({"YCC_PORT": "8080"}).run_dir
    b = Settings.from_mapping({"YCC_PORT": "8081"}).run_dir
    assert a != b and a.name == "ycc-8080"
    assert str(Settings.from_mapping({"YCC_RUN_DIR": "/srv/ycc/run"}).run_dir) == "/srv/ycc/run"


def test_one_line_credential_alone_is_refused() -> None:
    with pytest.raises(SettingsError, match="Set both LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN"):
        Settings.from_mapping({"LINE_CHANNEL_SECRET": "s"})


def test_shared_secrets_of_the_three_processes_are_checked_at_start_up() -> None:
    for name in ("YCC_INTERNAL_TOKEN", "YCC_RASA_TOKEN", "YCC_ACTIONS_TOKEN"):
        with pytest.raises(SettingsError, match=f"{name} must be a random secret of at least 16 characters"):
            Settings.from_mapping({name: "short"})
    given = Settings.from_mapping({"YCC_RASA_TOKEN": "r" * 16, "YCC_ACTIONS_TOKEN": "a" * 20})
    assert (given.rasa_token, given.actions_token) == ("r" * 16, "a" * 20)
    made = Settings.from_mapping({})  # unset: a new random secret each, so no two hops share one by accident
    assert len({made.internal_token, made.rasa_token, made.actions_token}) == 3
