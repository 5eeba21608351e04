from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.handoff.fakeline_harness import line  # noqa: F401  (fixture for the fake LINE tests)
from tests.support.databases import database
from tests.support.receiver import Receiver
from tests.support.servers import Stack, free_port, start_stack
from tests.support.stub_rasa import StubRasa


@pytest.fixture
def rasa() -> Iterator[StubRasa]:
    stub = StubRasa(free_port()).start()
    yield stub
    stub.stop()


@pytest.fixture
def alerts() -> Iterator[Receiver]:
    receiver = Receiver(free_port())
    yield receiver
    receiver.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    with database("sqlite", tmp_path) as url:
        yield url


def _stack(tmp_path: Path, url: str, rasa: StubRasa, alerts: Receiver) -> Iterator[Stack]:
    stack = start_stack(tmp_path, url, YCC_RASA_URL=rasa.url, YCC_ALERT_WEBHOOK_URL=alerts.url)
    yield stack
    stack.stop()


@pytest.fixture
def stack(tmp_path: Path, sqlite_url: str, rasa: StubRasa, alerts: Receiver) -> Iterator[Stack]:
    """Gateway (SQLite) + fake LINE + stub Rasa + alert receiver."""
    yield from _stack(tmp_path, sqlite_url, rasa, alerts)


@pytest.fixture
def any_stack(tmp_path: Path, db_url: str, rasa: StubRasa, alerts: Receiver) -> Iterator[Stack]:
    """The same, once on SQLite and once on PostgreSQL."""
    yield from _stack(tmp_path, db_url, rasa, alerts)
