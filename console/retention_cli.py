"""`ycc insight fetch [--days N]` (issue 17.3), apart from console/retention_views.py so that building the command
line imports nothing that loads prometheus_client: `ycc serve` must set its metrics directory first
(handoff/http/metrics_dir.py), or every process would count alone."""

from __future__ import annotations

import argparse
from typing import Any


def _fetch_command(args: argparse.Namespace) -> int:
    from console.retention_views import fetch_command

    return fetch_command(args)


def add_commands(sub: Any) -> None:
    """Called from console/cli.py."""
    insight = sub.add_parser("insight", help="LINE's daily friend figures").add_subparsers(
        dest="insight_command", required=True)
    fetch_cmd = insight.add_parser("fetch", help="fetch followers, targeted reaches and blocks per day")
    fetch_cmd.add_argument("--days", type=int, default=7, help="how many days back from yesterday (default 7)")
    fetch_cmd.set_defaults(func=_fetch_command)
