"""The counsellor console: pages, the JSON API and live updates, mounted on the gateway app."""

from __future__ import annotations

from sanic import Sanic


def register(app: Sanic) -> None:
    """Attach the console's blueprints to the gateway app."""
