"""Fixtures for action tests: fake gateway, dispatcher, the real domain merged from bot/domain/*.yml."""

from __future__ import annotations

import glob
import os
from typing import Any

import pytest
import yaml
from fakes import ROOT, FakeGateway
from rasa_sdk.executor import CollectingDispatcher


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The real domain, merged from bot/domain/*.yml (responses are what the actions look up)."""
    merged: dict[str, Any] = {"responses": {}, "slots": {}, "forms": {}, "intents": [], "actions": []}
    for path in sorted(glob.glob(os.path.join(ROOT, "bot", "domain", "*.yml"))):
        with open(path, encoding="utf-8") as fh:
            part = yaml.safe_load(fh) or {}
        for key in ("responses", "slots", "forms"):
            merged[key].update(part.get(key) or {})
        for key in ("intents", "actions"):
            merged[key].extend(part.get(key) or [])
    return merged
