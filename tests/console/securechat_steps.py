"""Steps the secure chat tests share (issue 16): a user asks on LINE by the quick reply, gets the link, opens it."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from tests.console.conftest import Gateway, wait_for

PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Line/14.0.0"
LINK = re.compile(r"https?://\S+/secure/open\?t=[A-Za-z0-9_-]+")
NOTICE = "新しいメッセージがあります。安全な画面を開いてください。"


def tap_secure_chat(gateway: Gateway, user: str) -> None:
    """The quick reply 「安全な画面で話す」 (its postback; Rasa never sees it)."""
    response = httpx.post(f"{gateway.url}/simulator/line/_fake/users/{user}/events", timeout=15,
                          json={"type": "postback", "data": "securechat:open", "displayText": "安全な画面で話す"})
    response.raise_for_status()


def links(gateway: Gateway, user: str) -> list[str]:
    return [m.group(0) for text in gateway.delivered(user) if (m := LINK.search(text))]


def new_link(gateway: Gateway, user: str) -> str:
    before = len(links(gateway, user))
    tap_secure_chat(gateway, user)
    return wait_for(lambda: links(gateway, user)[before:], 15)[-1]


@dataclass
class Browser:
    """A phone's browser without a screen: its cookie jar, its User-Agent, the page's CSRF token."""

    client: httpx.Client
    csrf: str = ""

    def open(self, url: str) -> httpx.Response:
        opened = self.client.get(url)
        if opened.status_code == 200:
            page = self.client.get("/secure/")
            found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
            self.csrf = found.group(1) if found else ""
        return opened

    def say(self, text: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.client.post("/secure/api/messages", json={"text": text},
                                headers={"X-CSRF-Token": self.csrf, **(headers or {})})

    def messages(self) -> httpx.Response:
        return self.client.get("/secure/api/messages")


def phone(gateway: Gateway, user_agent: str = PHONE) -> Browser:
    client = httpx.Client(base_url=gateway.url, headers={"User-Agent": user_agent}, timeout=15)
    gateway.consoles.append(client)  # closed with the gateway's other clients
    return Browser(client)


def in_secure_chat(gateway: Gateway, user: str) -> Browser:
    """A user who opened a link on their phone."""
    browser = phone(gateway)
    assert browser.open(new_link(gateway, user)).status_code == 200
    return browser
