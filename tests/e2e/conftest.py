from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import database
from tests.support.fullstack import FullStack, real_rasa


@pytest.fixture(scope="module")
def full() -> Iterator[FullStack]:
    """Fake LINE + gateway + the trained Rasa model + the action server, shared by a module's tests."""
    if not real_rasa():
        pytest.fail("no trained model: run `make train` (make test-e2e does) before the end-to-end tests")
    with tempfile.TemporaryDirectory() as tmp, database("sqlite", Path(tmp)) as url:
        stack = FullStack(Path(tmp), url, real=True).start()
        yield stack
        stack.stop()
