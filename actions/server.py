"""Start the action server on 127.0.0.1, answering only Rasa, which proves itself with a shared secret.

Why not `rasa run actions`: rasa-sdk 3.6 binds 0.0.0.0 unless `SANIC_HOST` says otherwise and has no authentication,
so anyone who can reach port 5055 could run any action, with the gateway's internal token behind it (raise a crisis
alert, queue a conversation, withdraw consent, write profile fields). This launcher builds rasa-sdk's own app with
its public `create_app`, adds a check of `Authorization: Bearer <YCC_ACTIONS_TOKEN>` (Rasa sends it from
endpoints.yml) on every route but `/health`, and binds loopback only. `/health` stays open for readiness checks.

    python -m actions.server --port 5055 --actions actions
"""

from __future__ import annotations

import argparse
import hmac
import os
import sys
from collections.abc import Mapping

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

HOST = "127.0.0.1"
TOKEN_ENV = "YCC_ACTIONS_TOKEN"
MIN_TOKEN_LENGTH = 16
OPEN_PATHS = frozenset({"/health"})


def build_app(token: str, actions: str = "actions") -> Sanic:
    """rasa-sdk's app (same routes, executor and plugins as `rasa run actions`) behind the shared secret.

    No CORS origins: only Rasa calls this server, never a browser.
    """
    app = create_app(actions, cors_origins="")
    expected = f"Bearer {token}"

    @app.middleware("request")
    async def authorise(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or hmac.compare_digest(request.headers.get("authorization", ""), expected):
            return None
        return response.json({"error": "unauthorised", "message": "shared secret missing or wrong"}, status=401)

    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def settings_error(env: Mapping[str, str]) -> str | None:
    """What is wrong with the environment, in words an operator can act on; None when the server can start."""
    token = env.get(TOKEN_ENV, "").strip()
    if len(token) < MIN_TOKEN_LENGTH:
        return (
            f"{TOKEN_ENV} must be set to a random secret of at least {MIN_TOKEN_LENGTH} characters, the same one "
            "Rasa sends (endpoints.yml); `make run` makes one per start."
        )
    if not env.get("YCC_INTERNAL_TOKEN", "").strip():
        return "YCC_INTERNAL_TOKEN must be set: the actions call the gateway's internal API with it."
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="action server on 127.0.0.1, behind YCC_ACTIONS_TOKEN")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions", help="package to load the actions from")
    args = parser.parse_args(argv)
    problem = settings_error(os.environ)
    if problem:
        print(f"configuration error: {problem}", file=sys.stderr)
        return 2
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    app = build_app(os.environ[TOKEN_ENV].strip(), args.actions)
    app.run(HOST, args.port, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
