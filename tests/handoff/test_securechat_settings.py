"""The secure chat's settings (issue 16): parsed once, refused at start-up with a message that says what to fix."""

from __future__ import annotations

import pytest

from handoff.domain.securechat import Policy
from handoff.settings import Settings, SettingsError

LINE = {"LINE_CHANNEL_SECRET": "s" * 32, "LINE_CHANNEL_ACCESS_TOKEN": "t" * 32}


def test_defaults_and_values() -> None:
    default = Settings.from_mapping({})
    assert (default.secure_link_minutes, default.secure_session_idle_seconds, default.secure_session_max_seconds,
            default.secure_chat_only) == (30, 1800, 14400, False)
    chosen = Settings.from_mapping({"YCC_SECURE_LINK_MINUTES": "10", "YCC_SECURE_SESSION_IDLE_SECONDS": "600",
                                    "YCC_SECURE_SESSION_MAX_SECONDS": "3600", "YCC_SECURE_CHAT_ONLY": "1",
                                    "YCC_PUBLIC_URL": "https://soudan.example.jp/", **LINE})
    policy = Policy.of(chosen)
    assert policy == Policy("https://soudan.example.jp", 10, 600, 3600, True)
    assert policy.page_url == "https://soudan.example.jp/secure/"


@pytest.mark.parametrize(("env", "message"), [
    ({"YCC_SECURE_LINK_MINUTES": "half an hour"}, "YCC_SECURE_LINK_MINUTES must be a whole number"),
    ({"YCC_SECURE_LINK_MINUTES": "0"}, "YCC_SECURE_LINK_MINUTES must be at least 1"),
    ({"YCC_SECURE_SESSION_IDLE_SECONDS": "30"}, "YCC_SECURE_SESSION_IDLE_SECONDS must be at least 60"),
    ({"YCC_SECURE_SESSION_IDLE_SECONDS": "7200", "YCC_SECURE_SESSION_MAX_SECONDS": "3600"},
     "must not be longer than YCC_SECURE_SESSION_MAX_SECONDS"),
    ({"YCC_SECURE_CHAT_ONLY": "yes"}, "YCC_SECURE_CHAT_ONLY must be a whole number"),
    ({"YCC_SECURE_CHAT_ONLY": "1", **LINE}, "needs an https:// YCC_SECURE_CHAT_URL"),
    ({"YCC_SECURE_CHAT_URL": "line.example.jp"}, "YCC_SECURE_CHAT_URL must start with http:// or https://"),
])
def test_bad_values_are_refused_with_a_clear_message(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_mapping(env)


def test_links_may_point_at_another_name_than_the_console() -> None:
    """Behind nginx the console's name is for the office only (deploy/): links use the public name."""
    settings = Settings.from_mapping({"YCC_PUBLIC_URL": "https://console.example.jp", "YCC_SECURE_CHAT_ONLY": "1",
                                      "YCC_SECURE_CHAT_URL": "https://line.example.jp", **LINE})
    assert Policy.of(settings).page_url == "https://line.example.jp/secure/"
    assert Policy.of(Settings.from_mapping({"YCC_PUBLIC_URL": "https://c.example.jp"})).public_url == \
        "https://c.example.jp"


def test_guideline_mode_in_the_simulator_needs_no_https() -> None:
    assert Settings.from_mapping({"YCC_SECURE_CHAT_ONLY": "1"}).secure_chat_only is True
