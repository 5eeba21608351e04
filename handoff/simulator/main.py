"""Run the fake LINE platform on its own: `python -m handoff.simulator.main --port P --secret S --token T
--webhook-url URL`.

Tests that want LINE as a separate process (and the browser test) start it this way and wait for the single line
`ready <port>` on stdout. `--port 0` picks a free port. The API sits at the root (so line-bot-sdk's
`Configuration(host="http://127.0.0.1:<port>")` works) and the chat page at `/simulator/`.
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys

from sanic import Sanic

from handoff.simulator.api import create_fakeline_blueprint, create_simulator_blueprint
from handoff.simulator.fakeline import FakeLine


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def build_app(fake: FakeLine, name: str = "fakeline_standalone") -> Sanic:
    """An app with the LINE API at `/` and the simulator page at `/simulator/`.

    Sanic's own logging is off so stdout carries only the `ready <port>` line that callers wait for.
    """
    app = Sanic(name, configure_logging=False)
    app.config.MOTD = False
    app.config.ACCESS_LOG = False
    app.blueprint(create_fakeline_blueprint(fake, url_prefix=""))
    app.blueprint(create_simulator_blueprint(fake, url_prefix="/simulator", api_prefix=""))
    app.ctx.fake = fake
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake LINE platform (Messaging API + simulator page)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", required=True, help="channel secret used to sign webhooks")
    parser.add_argument("--token", required=True, help="channel access token the API accepts")
    parser.add_argument("--webhook-url", required=True, help="where signed webhook events are POSTed")
    parser.add_argument("--reply-token-ttl", type=float, default=60.0)
    parser.add_argument("--monthly-limit", type=int, default=None)
    args = parser.parse_args(argv)

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    port = args.port or _free_port(args.host)
    fake = FakeLine(args.secret, args.token, args.webhook_url, args.reply_token_ttl, monthly_limit=args.monthly_limit)
    app = build_app(fake)

    @app.after_server_start
    async def announce(app: Sanic) -> None:
        print(f"ready {port}", flush=True)

    app.run(host=args.host, port=port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main(sys.argv[1:])
